"""What each exported task is: the PyTorch head, its output class and fields, and the ONNX graph's inputs.

Every graph takes `input_ids` and an int64 0/1 `attention_mask` shaped alike, (batch, sequence) or, for
multiple choice, (batch, num_choices, sequence), except information extraction: UIE feeds its model
`position_ids` (padding at position 0) and an additive float mask (the pipeline's one-`[PAD]`-per-row
compression weighs a key by ln(n)), so that graph takes `input_ids`, `attention_mask` as a float32
(batch, 1, 1, sequence) additive mask, and `position_ids`. `OnnxRuntimeModel` turns a 0/1 mask into the
additive one, so callers pass the same arguments to either backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from transformers.modeling_outputs import (
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from transformers.utils import ModelOutput

from ..modeling import (
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

MaskKind = Literal["binary", "additive"]


@dataclass(frozen=True)
class TaskSpec:
    """An exportable task.

    Args:
        head: the PyTorch class loaded and exported.
        output: the `ModelOutput` class its forward returns (and `OnnxRuntimeModel` returns).
        outputs: the graph's outputs, named after the output fields, in order.
        axes: names of the input axes, e.g. ("batch", "sequence").
        mask: "binary": an int64 0/1 `attention_mask` shaped like `input_ids`; "additive": a float32
            (batch, 1, 1, sequence) mask added to the attention logits, plus a `position_ids` input.
        pooled: the outputs hold one value per sequence, read from its first position, and none per position,
            so a sequence's masked positions after its last attended one change nothing returned.
    """

    head: type[ErnieMPreTrainedModel]
    output: type[ModelOutput]
    outputs: tuple[str, ...]
    axes: tuple[str, ...] = ("batch", "sequence")
    mask: MaskKind = "binary"
    pooled: bool = False

    @property
    def inputs(self) -> tuple[str, ...]:
        """The graph's input names, in order."""
        return ("input_ids", "attention_mask") + (("position_ids",) if self.mask == "additive" else ())


TASKS: dict[str, TaskSpec] = {  # the names of names.TASK_NAMES, in order (the command line offers those)
    "base": TaskSpec(ErnieMModel, ErnieMModelOutput, ("last_hidden_state", "pooler_output")),
    "sequence-classification": TaskSpec(
        ErnieMForSequenceClassification, SequenceClassifierOutput, ("logits",), pooled=True
    ),
    "token-classification": TaskSpec(ErnieMForTokenClassification, TokenClassifierOutput, ("logits",)),
    "question-answering": TaskSpec(
        ErnieMForQuestionAnswering, QuestionAnsweringModelOutput, ("start_logits", "end_logits")
    ),
    "multiple-choice": TaskSpec(
        ErnieMForMultipleChoice,
        MultipleChoiceModelOutput,
        ("logits",),
        axes=("batch", "num_choices", "sequence"),
        pooled=True,
    ),
    "information-extraction": TaskSpec(
        ErnieMForInformationExtraction, InformationExtractionOutput, ("start_logits", "end_logits"), mask="additive"
    ),
}


def task_spec(task: str) -> TaskSpec:
    """The spec of `task`.

    Raises:
        ValueError: `task` is not one of `TASKS`, which the message lists.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
    return TASKS[task]


def task_of_head(head: type) -> str:
    """The task whose graph serves `head` (an `ErnieMFor*` class or `ErnieMModel`)."""
    for task, spec in TASKS.items():
        if spec.head is head:
            return task
    heads = ", ".join(spec.head.__name__ for spec in TASKS.values())
    raise ValueError(f"{head.__name__} has no ONNX export; exportable: {heads}")
