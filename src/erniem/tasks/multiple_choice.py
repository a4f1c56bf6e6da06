"""Multiple choice: (context, choices) into one `[CLS] context [SEP] [SEP] choice [SEP]` row per choice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from .batching import run_batches
from .skipped import OnError, Skipped, filled


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


def encode_training(
    tokenizer,
    contexts: Sequence[str],
    choices: Sequence[Sequence[str]],
    labels: Sequence[int],
    num_choices: int | None = None,
    max_length: int = 512,
    on_error: OnError = "skip",
) -> tuple[list[dict], Skipped]:
    """Training features `{"input_ids": [row per choice], "labels"}` and what was left out: empty contexts or
    choices, labels that are not a choice's index, and examples with another number of choices than
    `num_choices` (default: the first usable example's), which a batch could not hold (counted, or raised with
    `on_error="raise"`)."""
    if not len(contexts) == len(choices) == len(labels):
        raise ValueError(f"got {len(contexts)} contexts, {len(choices)} choice lists and {len(labels)} labels")
    skipped = Skipped(on_error)
    kept = []
    for index, (context, options, label) in enumerate(zip(contexts, choices, labels, strict=True)):
        if not filled(context) or len(options) < 2 or not all(filled(option) for option in options):
            skipped(index, "empty context or choice, or fewer than two choices")
        elif isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(options):
            skipped(index, "label is not a choice index", f"{label!r} for {len(options)} choices")
        elif num_choices is not None and len(options) != num_choices:
            skipped(index, "other number of choices", f"{len(options)}, not {num_choices}")
        else:
            kept.append(index)
            num_choices = len(options)
    if not kept:
        return [], skipped
    encoded = encode_choices(tokenizer, [contexts[i] for i in kept], [choices[i] for i in kept], max_length)
    return [
        {"input_ids": rows, "labels": labels[i]} for rows, i in zip(encoded["input_ids"], kept, strict=True)
    ], skipped


@dataclass(frozen=True)
class Choice:
    """The chosen option: its index, its text, and the softmax probabilities of all choices."""

    index: int
    text: str
    scores: list[float]


def choose(
    model, tokenizer, contexts: Sequence[str], choices: Sequence[Sequence[str]], batch_size: int = 8,
    max_length: int = 512,
) -> list[Choice]:  # fmt: skip
    """The most probable choice for each context; examples may differ in number of choices (batched apart).

    Raises:
        ValueError: see `encode_choices`.
    """
    rows = encode_choices(tokenizer, contexts, choices, max_length)["input_ids"]
    collate = ChoiceCollator(tokenizer.pad_token_id)

    def read(output, position: int, example) -> list[float]:
        return torch.softmax(output.logits[position].float(), -1).tolist()

    scores: list = [None] * len(rows)
    for count in sorted({len(example) for example in rows}):
        group = [index for index, example in enumerate(rows) if len(example) == count]
        found = run_batches(
            model,
            [rows[i] for i in group],
            lambda batch: collate([{"input_ids": example} for example in batch]),
            read,
            batch_size,
            length=lambda example: max(len(row) for row in example),
        )
        for index, example_scores in zip(group, found, strict=True):
            scores[index] = example_scores
    best = [max(range(len(s)), key=s.__getitem__) for s in scores]
    return [Choice(b, choices[i][b], s) for i, (b, s) in enumerate(zip(best, scores, strict=True))]
