"""Extractive question answering over contexts of any length, with character offsets into the context.

transformers 5 has no question-answering pipeline; `answer_questions` is its replacement for ERNIE-M: each
(question, context) is cut into overlapping windows of `max_length` tokens (`stride` shared), the windows
go through the model in batches, and `qa_postprocessing.best_answers` turns their logits into answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from .batching import pad_rows, run_batches
from .qa_postprocessing import Answer, best_answers
from .skipped import filled


def answer_questions(
    model,
    tokenizer,
    questions: Sequence[str],
    contexts: Sequence[str],
    top_k: int = 1,
    max_length: int = 384,
    stride: int = 128,
    max_answer_length: int = 30,
    batch_size: int = 16,
    allow_impossible: bool = False,
) -> list[list[Answer]]:
    """The `top_k` best answers to each question in its context, best first.

    `tokenizer` must be a fast tokenizer (`ErnieMTokenizerFast`, what AutoTokenizer returns): the windows
    come from its overflowing tokens and sequence ids.

    Raises:
        ValueError: questions and contexts differ in number, a question or context is empty, or the
            tokenizer is not a fast one.
    """
    if len(questions) != len(contexts):
        raise ValueError(f"got {len(questions)} questions and {len(contexts)} contexts")
    for index, (question, context) in enumerate(zip(questions, contexts, strict=True)):
        if not filled(question):
            raise ValueError(f"question {index} is empty")
        if not filled(context):
            raise ValueError(f"context {index} is empty")
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("answer_questions needs a fast tokenizer (ErnieMTokenizerFast; AutoTokenizer gives one)")
    encoded = tokenizer(
        list(questions),
        list(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    windows = len(encoded["input_ids"])
    offsets = [
        [
            span if sequence == 1 else None
            for span, sequence in zip(encoded["offset_mapping"][w], encoded.sequence_ids(w), strict=True)
        ]
        for w in range(windows)
    ]
    start_logits, end_logits = _logits(model, tokenizer, encoded["input_ids"], batch_size)
    by_example: dict[int, list[int]] = {}
    for window, example in enumerate(encoded["overflow_to_sample_mapping"]):
        by_example.setdefault(example, []).append(window)
    return [
        best_answers(
            context,
            [start_logits[w] for w in by_example.get(index, [])],
            [end_logits[w] for w in by_example.get(index, [])],
            [offsets[w] for w in by_example.get(index, [])],
            top_k=top_k,
            max_answer_length=max_answer_length,
            allow_impossible=allow_impossible,
        )
        for index, context in enumerate(contexts)
    ]


def _logits(model, tokenizer, rows: list[list[int]], batch_size: int) -> tuple[list[list[float]], list[list[float]]]:
    """Each row's start and end logits (unpadded), batched by length."""

    def read(output, position: int, row: list[int]) -> tuple[list[float], list[float]]:
        return (
            output.start_logits[position, : len(row)].float().tolist(),
            output.end_logits[position, : len(row)].float().tolist(),
        )

    logits = run_batches(model, rows, lambda batch: pad_rows(batch, tokenizer.pad_token_id), read, batch_size)
    return [starts for starts, _ in logits], [ends for _, ends in logits]
