"""UIE model inputs: `[CLS] prompt [SEP] [SEP] text [SEP]` encodings, token windows over long texts, batches.

Shared by the pipeline's fast mode, training and evaluation, so a model sees at inference exactly the inputs
it was trained on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

SPECIAL_TOKENS = 4  # [CLS] prompt [SEP] [SEP] text [SEP]


def token_windows(length: int, room: int, stride: int) -> list[tuple[int, int]]:
    """`[first, last)` token ranges covering `length` tokens, each at most `room` long, consecutive ones sharing
    `stride` tokens (one empty window for an empty text)."""
    if room < 1:
        raise ValueError(f"a window must hold at least one token, got room for {room}")
    step = max(room - stride, 1)
    windows = []
    for first in range(0, max(length, 1), step):
        last = min(first + room, length)
        windows.append((first, last))
        if last >= length:
            break
    return windows


def text_room(prompt: str, prompt_length: int, max_seq_len: int) -> int:
    """How many text tokens fit beside `prompt`, `prompt_length` tokens long, in `max_seq_len`.

    Raises:
        ValueError: the prompt alone leaves no room for the text.
    """
    room = max_seq_len - prompt_length - SPECIAL_TOKENS
    if room < 1:
        raise ValueError(
            f"the prompt {prompt!r} takes {prompt_length} tokens: no room for text in max_seq_len={max_seq_len}"
        )
    return room


def window_input(
    prompt: tuple[Sequence[int], Sequence[tuple[int, int]]],
    text: tuple[Sequence[int], Sequence[tuple[int, int]]],
    window: tuple[int, int],
    cls_token_id: int,
    sep_token_id: int,
) -> tuple[list[int], list[tuple[int, int]], int]:
    """`[CLS] prompt [SEP] [SEP] text[first:last] [SEP]` from the prompt's and the whole text's (ids, offsets).

    Returns the ids, the offsets (the prompt's relative to the prompt, the window's relative to the window's
    first character; (0, 0) for special tokens) and that first character's offset in the text.
    """
    (prompt_ids, prompt_offsets), (text_ids, text_offsets) = prompt, text
    first, last = window
    shift = text_offsets[first][0] if last > first else 0
    ids = [cls_token_id, *prompt_ids, sep_token_id, sep_token_id, *text_ids[first:last], sep_token_id]
    window_offsets = [(start - shift, end - shift) for start, end in text_offsets[first:last]]
    return ids, [(0, 0), *prompt_offsets, (0, 0), (0, 0), *window_offsets, (0, 0)], shift


def batch_inputs(
    rows: Sequence[Sequence[int]],
    pad_token_id: int,
    length: int,
    masked_token_id: int | None,
    fill_value: float,
    compress: bool = True,
) -> dict[str, torch.Tensor]:
    """Model inputs for encoded rows as PaddleNLP Taskflow builds them: each row padded to `length` with `[PAD]`
    at position id 0, under the model's default mask (keys of `masked_token_id` get `fill_value` added:
    UIE-M's PaddleNLP convention hides `[CLS]` and attends to the padding).

    `compress=False` pads literally and passes no mask. `compress=True` computes the same attention with one
    `[PAD]` per row: all padding tokens have the same input, hence the same keys and values in every layer, so
    n of them weigh as one whose attention logit is raised by ln(n). Rows are then padded only to the
    longest (+1), with an additive (batch, 1, 1, keys) mask that hides the rest.
    """
    if not compress:
        width, lengths = length, [length] * len(rows)
    else:
        lengths = [min(len(row) + 1, length) for row in rows]  # each row's tokens and its one [PAD]
        width = max(lengths)
    ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long)
    positions = torch.zeros_like(ids)
    for index, row in enumerate(rows):
        ids[index, : len(row)] = torch.tensor(row, dtype=torch.long)
        positions[index, : len(row)] = torch.arange(len(row))
    inputs = {"input_ids": ids, "position_ids": positions}
    if compress:
        mask = torch.full((len(rows), width), fill_value, dtype=torch.float32)
        for index, row in enumerate(rows):
            mask[index, : len(row)] = 0.0
            if len(row) < length:  # the [PAD] standing for length - len(row) of them
                mask[index, len(row)] = math.log(length - len(row))
        if masked_token_id is not None:
            mask = mask.masked_fill(ids == masked_token_id, fill_value)
        inputs["attention_mask"] = mask[:, None, None, :]
    return inputs
