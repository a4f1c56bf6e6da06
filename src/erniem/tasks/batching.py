"""Length-aware batching for inference: rows sorted by length, batched, run, and returned in input order.

Sorting first means each batch pads to the length of rows like its own, not to the longest row of the input.
On the CPU, torch's threads follow the CPUs other processes leave free (`erniem.threads`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

from ..threads import thread_policy

Row = TypeVar("Row")
Result = TypeVar("Result")


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of at most `batch_size`, in order of length (ties keep input order)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    return [order[first : first + batch_size] for first in range(0, len(order), batch_size)]


def length_groups(lengths: Sequence[int], group_cost: int) -> list[list[int]]:
    """Indices split into groups of similar length, for running each group padded to its own longest row.

    The split minimises the positions computed, `len(group) * longest` summed over the groups, counting each
    group as `group_cost` more positions (what one more call costs); groups come in order of length, a group's
    indices in order of length and, among equal lengths, in input order.
    """
    if group_cost < 0:
        raise ValueError(f"group_cost must not be negative, got {group_cost}")
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    # Groups split only between different lengths: `bounds` holds 0 and the end of each run of equal lengths.
    bounds = [0] + [
        end for end in range(1, len(order) + 1) if end == len(order) or lengths[order[end]] != lengths[order[end - 1]]
    ]
    best = [0]  # best[k]: the least cost of the rows before bounds[k]
    first = [0]  # first[k]: where the last group of that split starts, as an index into `bounds`
    for k in range(1, len(bounds)):
        longest = lengths[order[bounds[k] - 1]]
        costs = [best[j] + (bounds[k] - bounds[j]) * longest + group_cost for j in range(k)]
        best.append(min(costs))
        first.append(costs.index(best[k]))
    groups = []
    k = len(bounds) - 1
    while k:
        groups.append(order[bounds[first[k]] : bounds[k]])
        k = first[k]
    return groups[::-1]


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
        thread_policy().apply(device)
        with torch.no_grad():
            output = model(**inputs)
        for position, index in enumerate(batch):
            results[index] = read(output, position, rows[index])
    return results
