"""SQuAD-style training features: (question, context, answer) into overlapping windows with answer positions.

A context longer than one window is cut into windows of `max_length` tokens sharing `stride` tokens (the fast
tokenizer's overflowing tokens). A window that holds the whole answer points at its first and last token;
one that does not (and an unanswerable question) points at token 0, `[CLS]`, as SQuAD 2.0 training does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .skipped import OnError, Skipped, filled


@dataclass(frozen=True)
class AnswerSpan:
    """A gold answer: `context[start:start + len(text)] == text`; `start=None` means the first occurrence."""

    text: str
    start: int | None = None


def encode_training(
    tokenizer,
    questions: Sequence[str],
    contexts: Sequence[str],
    answers: Sequence[AnswerSpan | None],
    max_length: int = 384,
    stride: int = 128,
    on_error: OnError = "skip",
) -> tuple[list[dict], Skipped]:
    """Training windows `{"input_ids", "start_positions", "end_positions"}` and what was left out.

    `answers[i] = None` marks an unanswerable question. Left out (counted, or raised with `on_error="raise"`):
    an empty question or context, an empty answer, an answer that is not in its context (at `start`, or
    anywhere when `start` is None).

    Raises:
        ValueError: the three lists differ in length, or the tokenizer is not a fast one.
    """
    if not len(questions) == len(contexts) == len(answers):
        raise ValueError(f"got {len(questions)} questions, {len(contexts)} contexts and {len(answers)} answers")
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("encode_training needs a fast tokenizer (ErnieMTokenizerFast; AutoTokenizer gives one)")
    skipped = Skipped(on_error)
    kept: list[int] = []
    spans: list[tuple[int, int] | None] = []
    for index, (question, context, answer) in enumerate(zip(questions, contexts, answers, strict=True)):
        try:
            spans.append(_answer_span(question, context, answer))
        except _Unusable as problem:
            skipped(index, *problem.args)
            continue
        kept.append(index)
    if not kept:
        return [], skipped
    encoded = tokenizer(
        [questions[i] for i in kept],
        [contexts[i] for i in kept],
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    features = []
    for window, example in enumerate(encoded["overflow_to_sample_mapping"]):
        sequence_ids = encoded.sequence_ids(window)
        context_tokens = [t for t, sequence in enumerate(sequence_ids) if sequence == 1]
        start, end = _token_span(spans[example], encoded["offset_mapping"][window], context_tokens)
        features.append({"input_ids": encoded["input_ids"][window], "start_positions": start, "end_positions": end})
    return features, skipped


class _Unusable(Exception):
    """An example left out: (reason, detail)."""


def _answer_span(question, context, answer: AnswerSpan | None) -> tuple[int, int] | None:
    """The answer's character span in the context, or None for an unanswerable question.

    Raises:
        _Unusable: the example cannot be trained on.
    """
    if not filled(question):
        raise _Unusable("empty question")
    if not filled(context):
        raise _Unusable("empty context")
    if answer is None:
        return None
    if not filled(answer.text):
        raise _Unusable("empty answer")
    start = context.find(answer.text) if answer.start is None else answer.start
    if start < 0 or context[start : start + len(answer.text)] != answer.text:
        where = "" if answer.start is None else f" at {answer.start}"
        raise _Unusable("answer not in context", f"{answer.text!r}{where}")
    return start, start + len(answer.text)


def _token_span(span: tuple[int, int] | None, offsets, context_tokens: list[int]) -> tuple[int, int]:
    """First and last token of the answer in this window, or (0, 0) when the window does not hold all of it."""
    if span is None or not context_tokens:
        return 0, 0
    start_char, end_char = span
    if offsets[context_tokens[0]][0] > start_char or offsets[context_tokens[-1]][1] < end_char:
        return 0, 0
    first = next(t for t in context_tokens if offsets[t][1] > start_char)
    last = next(t for t in reversed(context_tokens) if offsets[t][0] < end_char)
    return first, last
