"""Length-aware batching for inference: rows sorted by length, batched, run, and returned in input order.

Sorting first means each batch pads to the length of rows like its own, not to the longest row of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

Row = TypeVar("Row")
Result = TypeVar("Result")


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of at most `batch_size`, in order of length (ties keep input order)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    return [order[first : first + batch_size] for first in range(0, len(order), batch_size)]


def pad_rows(rows: Sequence[Sequence[int]], pad_token_id: int) -> dict[str, torch.Tensor]:
    """`input_ids` (rows, longest) padded with `pad_token_id`, and the 0/1 `attention_mask`."""
    ids = torch.full((len(rows), max(len(row) for row in rows)), pad_token_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for index, row in enumerate(rows):
        ids[index, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[index, : len(row)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def run_batches(
    model: torch.nn.Module,
    rows: Sequence[Row],
    collate: Callable[[list[Row]], dict[str, torch.Tensor]],
    read: Callable[[object, int, Row], Result],
    batch_size: int = 32,
    length: Callable[[Row], int] = len,
) -> list[Result]:
    """`read(output, position, row)` for every row, in input order, running the model on length-sorted batches.

    Args:
        collate: a batch of rows -> the model's keyword arguments (tensors; moved to the model's device).
        read: the model output of a batch, a row's position in it and the row -> that row's result.
        length: a row's length, the sort key.
    """
    device = next(model.parameters()).device
    results: list = [None] * len(rows)
    model.eval()
    for batch in length_batches([length(row) for row in rows], batch_size):
        inputs = {name: tensor.to(device) for name, tensor in collate([rows[index] for index in batch]).items()}
        with torch.no_grad():
            output = model(**inputs)
        for position, index in enumerate(batch):
            results[index] = read(output, position, rows[index])
    return results
