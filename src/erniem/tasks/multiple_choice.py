"""Multiple choice: (context, choices) into one `[CLS] context [SEP] [SEP] choice [SEP]` row per choice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch


def encode_choices(tokenizer, contexts: Sequence[str], choices: Sequence[Sequence[str]], max_length: int = 512) -> dict:
    """`input_ids` per example per choice (lists), the context cut first when a pair is too long.

    Raises:
        ValueError: contexts and choice lists differ in number, or an example has fewer than two choices.
    """
    if len(contexts) != len(choices):
        raise ValueError(f"got {len(contexts)} contexts and {len(choices)} choice lists")
    for index, options in enumerate(choices):
        if len(options) < 2:
            raise ValueError(f"example {index} has {len(options)} choice(s); multiple choice needs two or more")
    firsts = [context for context, options in zip(contexts, choices, strict=True) for _ in options]
    seconds = [option for options in choices for option in options]
    encoded = tokenizer(firsts, seconds, truncation="only_first", max_length=max_length)["input_ids"]
    rows, start = [], 0
    for options in choices:
        rows.append(encoded[start : start + len(options)])
        start += len(options)
    return {"input_ids": rows}


@dataclass
class ChoiceCollator:
    """Pads examples `{"input_ids": [[...] per choice], "labels": int}` to (batch, choices, longest)."""

    pad_token_id: int

    def __call__(self, examples: Iterable[dict]) -> dict[str, torch.Tensor]:
        examples = list(examples)
        counts = {len(example["input_ids"]) for example in examples}
        if len(counts) > 1:
            raise ValueError(f"examples in one batch must have as many choices; got {sorted(counts)}")
        width = max(len(row) for example in examples for row in example["input_ids"])
        ids = torch.full((len(examples), counts.pop(), width), self.pad_token_id, dtype=torch.long)
        for index, example in enumerate(examples):
            for choice, row in enumerate(example["input_ids"]):
                ids[index, choice, : len(row)] = torch.tensor(row)
        batch = {"input_ids": ids, "attention_mask": (ids != self.pad_token_id).long()}
        if "labels" in examples[0]:
            batch["labels"] = torch.tensor([example["labels"] for example in examples])
        return batch


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of examples whose highest-scoring choice is the labelled one."""
    return (logits.argmax(-1) == labels).float().mean().item()
