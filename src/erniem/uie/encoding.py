"""UIE model inputs: `[CLS] prompt [SEP] [SEP] text [SEP]` encodings, token windows over long texts, batches.

Shared by the pipeline's fast mode, training and evaluation, so a model sees at inference exactly the inputs
it was trained on.
"""

from __future__ import annotations

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
    rows: Sequence[Sequence[int]], pad_token_id: int, cls_token_id: int, pad_to: int | None = None
) -> dict[str, torch.Tensor]:
    """Padded model inputs for encoded rows.

    Without `pad_to`, rows are padded to the longest and padding is hidden from attention together with
    `[CLS]` (UIE-M's own mask hides it). With `pad_to`, every row is padded to that width with `[PAD]` that
    stays visible, at position id 0, as PaddleNLP Taskflow feeds its UIE-M (no attention mask).
    """
    width = pad_to or max(len(row) for row in rows)
    ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long)
    positions = torch.zeros_like(ids)
    lengths = torch.tensor([len(row) for row in rows])
    for index, row in enumerate(rows):
        ids[index, : len(row)] = torch.tensor(row, dtype=torch.long)
        positions[index, : len(row)] = torch.arange(len(row))
    inputs = {"input_ids": ids, "position_ids": positions}
    if pad_to is None:
        keep = (torch.arange(width)[None, :] < lengths[:, None]) & (ids != cls_token_id)
        inputs["attention_mask"] = keep.long()
    return inputs
