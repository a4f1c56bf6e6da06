"""Sequence classification of single texts and of pairs (NLI): training features and predictions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from .batching import pad_rows, run_batches
from .skipped import OnError, Skipped, filled


@dataclass(frozen=True)
class Label:
    """A predicted label and its probability (softmax over the labels; sigmoid for multi-label heads)."""

    label: str
    score: float


def encode_texts(
    tokenizer,
    texts: Sequence[str],
    labels: Sequence[str],
    label2id: Mapping[str, int],
    text_pairs: Sequence[str] | None = None,
    max_length: int = 512,
    on_error: OnError = "skip",
) -> tuple[list[dict], Skipped]:
    """Training features `{"input_ids", "labels"}` (pairs laid out `[CLS] A [SEP] [SEP] B [SEP]`), and what was
    left out: empty texts or pairs, and labels not in `label2id` (counted, or raised with `on_error="raise"`).

    Raises:
        ValueError: texts, labels and pairs differ in number.
    """
    if len(texts) != len(labels) or (text_pairs is not None and len(text_pairs) != len(texts)):
        pairs = "" if text_pairs is None else f", {len(text_pairs)} pairs"
        raise ValueError(f"got {len(texts)} texts, {len(labels)} labels{pairs}")
    skipped = Skipped(on_error)
    kept = []
    for index, (text, label) in enumerate(zip(texts, labels, strict=True)):
        pair = None if text_pairs is None else text_pairs[index]
        if not filled(text) or (text_pairs is not None and not filled(pair)):
            skipped(index, "empty text")
        elif label not in label2id:
            skipped(index, "unknown label", f"{label!r} is not one of {sorted(label2id)}")
        else:
            kept.append(index)
    if not kept:
        return [], skipped
    firsts = [texts[i] for i in kept]
    seconds = None if text_pairs is None else [text_pairs[i] for i in kept]
    encoded = tokenizer(firsts, seconds, truncation=True, max_length=max_length)["input_ids"]
    return [{"input_ids": ids, "labels": label2id[labels[i]]} for ids, i in zip(encoded, kept, strict=True)], skipped


def classify(
    model,
    tokenizer,
    texts: Sequence[str],
    text_pairs: Sequence[str] | None = None,
    top_k: int = 1,
    batch_size: int = 32,
    max_length: int = 512,
) -> list[list[Label]]:
    """The `top_k` most probable labels of each text (or pair), most probable first, batched by length.

    Raises:
        ValueError: texts and pairs differ in number, or a text is not a string.
    """
    if text_pairs is not None and len(text_pairs) != len(texts):
        raise ValueError(f"got {len(texts)} texts and {len(text_pairs)} pairs")
    if not texts:
        return []
    for index, text in enumerate([*texts, *(text_pairs or [])]):
        if not isinstance(text, str):
            raise ValueError(f"text {index % len(texts)} is {type(text).__name__}, not a string")
    rows = tokenizer(list(texts), None if text_pairs is None else list(text_pairs), truncation=True,
                     max_length=max_length)["input_ids"]  # fmt: skip
    multi_label = model.config.problem_type == "multi_label_classification"
    names = model.config.id2label

    def read(output, position: int, row) -> list[Label]:
        logits = output.logits[position].float()
        scores = torch.sigmoid(logits) if multi_label else torch.softmax(logits, -1)
        best = scores.topk(min(top_k, scores.numel()))
        return [Label(names[i], s) for s, i in zip(best.values.tolist(), best.indices.tolist(), strict=True)]

    return run_batches(model, rows, lambda batch: pad_rows(batch, tokenizer.pad_token_id), read, batch_size)
