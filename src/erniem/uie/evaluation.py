"""Exact-span precision, recall and F1 of a UIE model on examples, overall and per schema item.

A predicted span counts when its (start, end) equals a gold span of the same example; classification
answers are spans inside the prompt (negative offsets), so they are scored the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..scores import Score
from .decoding import window_spans
from .schema import SchemaLanguage
from .training import SpanCollator, build_features, check_example


def schema_item(prompt: str, schema_lang: SchemaLanguage = "zh") -> str:
    """The schema name a prompt asks about: the relation of "subject的relation" / "relation of subject", the
    prefix of "prefix[options]", else the prompt itself."""
    if prompt.endswith("]") and "[" in prompt:
        prompt = prompt[: prompt.index("[")].strip()
    if schema_lang == "zh" and "的" in prompt:
        return prompt.rsplit("的", 1)[1]
    if schema_lang == "en" and " of " in prompt:
        return prompt.split(" of ", 1)[0]
    return prompt


def predict_spans(
    model,
    tokenizer,
    examples: Sequence[dict],
    max_seq_len: int = 512,
    stride: int = 32,
    position_prob: float = 0.5,
    batch_size: int = 32,
) -> list[set[tuple[int, int]]]:
    """Each example's predicted (start, end) spans, over the same windows and inputs as training."""
    features = build_features(tokenizer, examples, max_seq_len, stride)
    predicted: list[set[tuple[int, int]]] = [set() for _ in examples]
    device = next(model.parameters()).device
    model.eval()
    order = sorted(range(len(features)), key=lambda i: len(features[i].input_ids))
    collate = SpanCollator.for_model(model, tokenizer, max_seq_len)
    for batch_start in range(0, len(order), batch_size):
        batch = [features[i] for i in order[batch_start : batch_start + batch_size]]
        inputs = collate(batch)
        del inputs["start_positions"], inputs["end_positions"]
        with torch.no_grad():
            output = model(**{name: value.to(device) for name, value in inputs.items()})
        start_probs = torch.sigmoid(output.start_logits.float()).tolist()
        end_probs = torch.sigmoid(output.end_logits.float()).tolist()
        for row, feature in enumerate(batch):
            spans, _ = window_spans(start_probs[row], end_probs[row], feature.offsets, position_prob)
            predicted[feature.example].update(
                (start, end) if end < 0 else (start + feature.shift, end + feature.shift) for start, end in spans
            )
    return predicted


def evaluate(
    model, tokenizer, examples: Sequence[dict], schema_lang: SchemaLanguage = "zh", **options
) -> dict[str, dict]:
    """`{"overall": score, "items": {schema item: score}}`, each score `{gold, predicted, correct, precision,
    recall, f1}`. `options` go to `predict_spans`."""
    for number, example in enumerate(examples):
        check_example(example, f"example {number}")
    predicted = predict_spans(model, tokenizer, examples, **options)
    overall, items = Score(), {}
    for example, found in zip(examples, predicted, strict=True):
        gold = {(span["start"], span["end"]) for span in example["result_list"]}
        overall.add(gold, found)
        items.setdefault(schema_item(example["prompt"], schema_lang), Score()).add(gold, found)
    return {"overall": overall.to_dict(), "items": {name: s.to_dict() for name, s in sorted(items.items())}}
