"""Extractive question answering: from per-window start/end logits back to answer text in the context.

A long context is encoded as several overlapping windows; each window's tokens carry character offsets into
the context (None for the question and special tokens). Candidates are pairs of one of a window's best start
tokens and one of its best end tokens, both in the context, the end not before the start and at most
`max_answer_length` tokens after it; a candidate scores the sum of its two logits. The same character span
found in several windows keeps its best score. The null answer scores the lowest, over the windows, of the
first token's start plus end logit (SQuAD 2.0's convention).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Offsets = Sequence[tuple[int, int] | None]


@dataclass(frozen=True)
class Answer:
    """An answer span: `context[start:end] == text`; the null answer is ("", 0, 0)."""

    text: str
    start: int
    end: int
    score: float


def best_answers(
    context: str,
    start_logits: Sequence[Sequence[float]],
    end_logits: Sequence[Sequence[float]],
    offsets: Sequence[Offsets],
    top_k: int = 1,
    max_answer_length: int = 30,
    candidates_per_window: int = 20,
    allow_impossible: bool = False,
) -> list[Answer]:
    """The `top_k` best answers, best first, from the windows of one (question, context).

    With `allow_impossible`, the null answer competes with the spans (and is returned, in its rank, when it
    scores higher); without it, only spans are returned (an empty list when no window holds a valid one).

    Raises:
        ValueError: the windows' logits and offsets differ in number or length.
    """
    if not len(start_logits) == len(end_logits) == len(offsets):
        raise ValueError(
            f"got {len(start_logits)} start, {len(end_logits)} end and {len(offsets)} offset windows; they must match"
        )
    spans: dict[tuple[int, int], float] = {}
    null_score = None
    for window, (starts, ends, window_offsets) in enumerate(zip(start_logits, end_logits, offsets, strict=True)):
        if not len(starts) == len(ends) == len(window_offsets):
            raise ValueError(f"window {window}: logits and offsets differ in length")
        window_null = starts[0] + ends[0]
        null_score = window_null if null_score is None else min(null_score, window_null)
        for start in _best(starts, candidates_per_window):
            for end in _best(ends, candidates_per_window):
                if window_offsets[start] is None or window_offsets[end] is None:
                    continue
                if end < start or end - start + 1 > max_answer_length:
                    continue
                span = (window_offsets[start][0], window_offsets[end][1])
                score = starts[start] + ends[end]
                if score > spans.get(span, float("-inf")):
                    spans[span] = score
    answers = [Answer(context[s:e], s, e, score) for (s, e), score in spans.items()]
    if allow_impossible and null_score is not None:
        answers.append(Answer("", 0, 0, null_score))
    answers.sort(key=lambda answer: (-answer.score, answer.start, answer.end))
    return answers[:top_k]


def _best(logits: Sequence[float], count: int) -> list[int]:
    """Indices of the `count` largest logits, largest first (earlier index on ties)."""
    return sorted(range(len(logits)), key=lambda index: (-logits[index], index))[:count]
