"""ERNIE-M, the multilingual encoder, for PyTorch and transformers 5.

`import erniem` is cheap: the names below load their modules (and torch, transformers) on first use, and the
ERNIE-M classes are registered with the transformers Auto classes as soon as transformers is imported, at once
if it already is (`after_import`). So `import erniem` then `from transformers import AutoModel` works, and so
does the other order.
"""

from typing import TYPE_CHECKING

from .after_import import call_after_import
from .lazy_exports import attach

__version__ = "0.1.0"

__all__ = [
    "ErnieMConfig",
    "ErnieMForInformationExtraction",
    "ErnieMForMaskedLM",
    "ErnieMForMultipleChoice",
    "ErnieMForPreTraining",
    "ErnieMForPreTrainingOutput",
    "ErnieMForQuestionAnswering",
    "ErnieMForSequenceClassification",
    "ErnieMForTokenClassification",
    "ErnieMModel",
    "ErnieMModelOutput",
    "ErnieMPreTrainedModel",
    "ErnieMTokenizer",
    "ErnieMTokenizerFast",
    "InformationExtractionOutput",
    "register",
]

_EXPORTS = {
    "auto": ["register"],
    "configuration": ["ErnieMConfig"],
    "modeling": [
        "ErnieMForInformationExtraction",
        "ErnieMForMaskedLM",
        "ErnieMForMultipleChoice",
        "ErnieMForPreTraining",
        "ErnieMForPreTrainingOutput",
        "ErnieMForQuestionAnswering",
        "ErnieMForSequenceClassification",
        "ErnieMForTokenClassification",
        "ErnieMModel",
        "ErnieMModelOutput",
        "ErnieMPreTrainedModel",
        "InformationExtractionOutput",
    ],
    "tokenization": ["ErnieMTokenizer"],
    "tokenization_fast": ["ErnieMTokenizerFast"],
}
__getattr__, __dir__ = attach(__name__, _EXPORTS)

if TYPE_CHECKING:  # what type checkers see; at run time __getattr__ imports these on first use
    from .auto import register
    from .configuration import ErnieMConfig
    from .modeling import (
        ErnieMForInformationExtraction,
        ErnieMForMaskedLM,
        ErnieMForMultipleChoice,
        ErnieMForPreTraining,
        ErnieMForPreTrainingOutput,
        ErnieMForQuestionAnswering,
        ErnieMForSequenceClassification,
        ErnieMForTokenClassification,
        ErnieMModel,
        ErnieMModelOutput,
        ErnieMPreTrainedModel,
        InformationExtractionOutput,
    )
    from .tokenization import ErnieMTokenizer
    from .tokenization_fast import ErnieMTokenizerFast


def _register() -> None:
    from .auto import register

    register()


call_after_import("transformers", __name__, _register)
