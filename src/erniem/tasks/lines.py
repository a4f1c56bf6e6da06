"""The four task models over JSON values: what `erniem predict` reads on each line and what the service takes in
a request, checked, run in batches, and answered as JSON-ready values.

Each task has a `check(value)` that raises ValueError naming what is wrong, and a `run(model, tokenizer,
values, options)` that answers good values in order. `options` holds the task's settings (`batch_size`,
`max_length`, `stride`, `top_k`, `max_answer_length`, `allow_impossible`); a missing one takes its default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from .skipped import filled


@dataclass(frozen=True)
class LineTask:
    head: str  # the erniem class that runs it
    check: Callable[[object], None]
    run: Callable[[object, object, list, dict], list]
    max_length: int  # tokens a row holds by default
    stride: int | None = None  # tokens shared by the windows of a long input, where the task windows
    top_k: bool = False  # whether it can answer with the K best


def strings(value, *keys: str, optional: tuple[str, ...] = ()) -> None:
    """Check that `value` is an object whose `keys` (and `optional` keys, when present) are non-empty strings."""
    if not isinstance(value, dict):
        raise ValueError("expected an object with " + ", ".join(repr(key) for key in keys))
    for key in keys + tuple(key for key in optional if key in value):
        if not filled(value.get(key)):
            raise ValueError(f"{key!r} must be a non-empty string")


def ranked(found: list[list[dict]], top_k: int) -> list:
    """Each value's list, or (for top_k 1) its best result alone (None when there is none)."""
    return [answers if top_k > 1 else (answers[0] if answers else None) for answers in found]


def _check_classify(value) -> None:
    strings(value, "text", optional=("text_pair",))


def _classify(model, tokenizer, values: list, options: dict) -> list:
    from .classification import classify

    pairs = [value.get("text_pair") for value in values]
    if any(pair is None for pair in pairs) and any(pair is not None for pair in pairs):
        return [_classify(model, tokenizer, [value], options)[0] for value in values]  # single texts and pairs
    top_k = options.get("top_k", 1)
    found = classify(
        model, tokenizer, [value["text"] for value in values], None if pairs[0] is None else pairs, top_k=top_k,
        batch_size=options.get("batch_size", 16), max_length=options.get("max_length", 512),
    )  # fmt: skip
    return ranked([[asdict(label) for label in labels] for labels in found], top_k)


def _check_ner(value) -> None:
    from .entity_recognition import word_spans

    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise ValueError('expected an object {"text": "..."} or {"text": "...", "words": [...]}')
    if "words" in value:
        if not isinstance(value["words"], list):
            raise ValueError("'words' must be a list of strings")
        word_spans(value["text"], value["words"])


def _ner(model, tokenizer, values: list, options: dict) -> list:
    from .entity_recognition import recognize

    words = [value.get("words") for value in values]  # None: split at whitespace
    found = recognize(
        model, tokenizer, [value["text"] for value in values], words, max_length=options.get("max_length", 512),
        stride=options.get("stride", 128), batch_size=options.get("batch_size", 16),
    )  # fmt: skip
    return [[asdict(entity) for entity in entities] for entities in found]


def _check_qa(value) -> None:
    strings(value, "question", "context")


def _qa(model, tokenizer, values: list, options: dict) -> list:
    from .question_answering import answer_questions

    top_k = options.get("top_k", 1)
    found = answer_questions(
        model, tokenizer, [value["question"] for value in values], [value["context"] for value in values],
        top_k=top_k, max_length=options.get("max_length", 384), stride=options.get("stride", 128),
        max_answer_length=options.get("max_answer_length", 30), batch_size=options.get("batch_size", 16),
        allow_impossible=options.get("allow_impossible", False),
    )  # fmt: skip
    as_dicts = [[{"answer": a.text, "start": a.start, "end": a.end, "score": a.score} for a in f] for f in found]
    return ranked(as_dicts, top_k)


def _check_choice(value) -> None:
    strings(value, "context")
    options = value.get("choices")
    if not isinstance(options, list) or len(options) < 2:
        raise ValueError("'choices' must be a list of two or more texts")
    for index, option in enumerate(options):
        if not filled(option):
            raise ValueError(f"choice {index} must be a non-empty string")


def _choice(model, tokenizer, values: list, options: dict) -> list:
    from .multiple_choice import choose

    found = choose(
        model, tokenizer, [value["context"] for value in values], [value["choices"] for value in values],
        batch_size=options.get("batch_size", 16), max_length=options.get("max_length", 512),
    )  # fmt: skip
    return [{"choice": c.index, "text": c.text, "scores": c.scores} for c in found]


LINE_TASKS = {
    "classify": LineTask("ErnieMForSequenceClassification", _check_classify, _classify, 512, top_k=True),
    "ner": LineTask("ErnieMForTokenClassification", _check_ner, _ner, 512, stride=128),
    "qa": LineTask("ErnieMForQuestionAnswering", _check_qa, _qa, 384, stride=128, top_k=True),
    "choice": LineTask("ErnieMForMultipleChoice", _check_choice, _choice, 512),
}
