"""Registration of the ERNIE-M classes with the transformers Auto classes; safe to run more than once."""

from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForMultipleChoice,
    AutoModelForPreTraining,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)

from .configuration import ErnieMConfig
from .modeling import (
    ErnieMForMaskedLM,
    ErnieMForMultipleChoice,
    ErnieMForPreTraining,
    ErnieMForQuestionAnswering,
    ErnieMForSequenceClassification,
    ErnieMForTokenClassification,
    ErnieMModel,
)
from .tokenization import ErnieMTokenizer
from .tokenization_fast import ErnieMTokenizerFast

AUTO_MODELS = (
    (AutoModel, ErnieMModel),
    (AutoModelForSequenceClassification, ErnieMForSequenceClassification),
    (AutoModelForMultipleChoice, ErnieMForMultipleChoice),
    (AutoModelForTokenClassification, ErnieMForTokenClassification),
    (AutoModelForQuestionAnswering, ErnieMForQuestionAnswering),
    (AutoModelForMaskedLM, ErnieMForMaskedLM),
    (AutoModelForPreTraining, ErnieMForPreTraining),
)


def register() -> None:
    """Make `AutoConfig`, `AutoTokenizer` and the `AutoModel*` classes resolve ERNIE-M to erniem."""
    AutoConfig.register(ErnieMConfig.model_type, ErnieMConfig, exist_ok=True)
    for auto_class, model_class in AUTO_MODELS:
        auto_class.register(ErnieMConfig, model_class, exist_ok=True)
    AutoTokenizer.register(
        ErnieMConfig, slow_tokenizer_class=ErnieMTokenizer, fast_tokenizer_class=ErnieMTokenizerFast, exist_ok=True
    )
