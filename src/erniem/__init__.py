"""ERNIE-M, the multilingual encoder, for PyTorch and transformers 5."""

from .auto import register
from .configuration import ErnieMConfig
from .modeling import (
    ErnieMForInformationExtraction,
    ErnieMForMultipleChoice,
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

__version__ = "0.1.0"

register()

__all__ = [
    "ErnieMConfig",
    "ErnieMForInformationExtraction",
    "ErnieMForMultipleChoice",
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
