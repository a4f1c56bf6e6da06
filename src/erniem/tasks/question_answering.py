"""Extractive question answering over contexts of any length, with character offsets into the context.

transformers 5 has no question-answering pipeline; `answer_questions` is its replacement for ERNIE-M: each
(question, context) is cut into overlapping windows of `max_length` tokens (`stride` shared), the windows
go through the model in batches, and `qa_postprocessing.best_answers` turns their logits into answers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .qa_postprocessing import Answer, best_answers


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
        if not isinstance(question, str) or not question.strip():
            raise ValueError(f"question {index} is empty")
        if not isinstance(context, str) or not context.strip():
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
    device = next(model.parameters()).device
    starts: list[list[float]] = [[] for _ in rows]
    ends: list[list[float]] = [[] for _ in rows]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    model.eval()
    for first in range(0, len(order), batch_size):
        batch = order[first : first + batch_size]
        width = max(len(rows[i]) for i in batch)
        ids = torch.full((len(batch), width), tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, index in enumerate(batch):
            ids[row, : len(rows[index])] = torch.tensor(rows[index])
            mask[row, : len(rows[index])] = 1
        with torch.no_grad():
            output = model(input_ids=ids.to(device), attention_mask=mask.to(device))
        for row, index in enumerate(batch):
            starts[index] = output.start_logits[row, : len(rows[index])].float().tolist()
            ends[index] = output.end_logits[row, : len(rows[index])].float().tolist()
    return starts, ends
