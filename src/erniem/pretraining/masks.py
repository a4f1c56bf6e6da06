"""The attention masks of ERNIE-M's pretraining objectives, per example: (seq, seq) booleans, True where query i
attends to key j.

A sequence is described by three (seq,) vectors: `side` (0 for the first sentence, with `[CLS]` and its `[SEP]`;
1 for the second, with its two `[SEP]`), `masked` (True at the positions whose tokens are to be predicted) and
`valid` (False at padding). Padding keys are never attended; a padding query attends to itself alone, so every
row has a key and no softmax divides by zero.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch

# What the unmasked tokens of a CAMLM pair attend to (the paper's figure draws only the masked tokens' edges).
CamlmContext = Literal["own_sentence", "full"]


def full_mask(valid: torch.Tensor) -> torch.Tensor:
    """Every valid token attends to every valid token (MMLM, TLM, BTMLM step 2)."""
    return _finish(valid[:, None] & valid[None, :], valid)


def camlm_mask(
    side: torch.Tensor, masked: torch.Tensor, valid: torch.Tensor, context: CamlmContext = "own_sentence"
) -> torch.Tensor:
    """Cross-attention masked LM (the paper's Fig. 1c).

    A masked token attends to the unmasked tokens of the other sentence and to the masked tokens of its own,
    itself included; never to its own sentence's unmasked tokens nor to the other sentence's masked ones.

    Args:
        context: what unmasked tokens attend to. `"own_sentence"` (default): the unmasked tokens of their own
            sentence, so that no masked token can see its own sentence's context through any number of layers.
            `"full"`: every token of both sentences, as in TLM; then a masked token sees its own sentence's
            context from the second layer on, through the other sentence's unmasked tokens.
    """
    if context not in get_args(CamlmContext):
        raise ValueError(f"context must be one of {get_args(CamlmContext)}, got {context!r}.")
    same = side[:, None] == side[None, :]
    key_masked = masked[None, :]
    from_masked = (~same & ~key_masked) | (same & key_masked)
    from_unmasked = same & ~key_masked if context == "own_sentence" else torch.ones_like(same)
    keep = torch.where(masked[:, None], from_masked, from_unmasked)
    return _finish(keep & valid[:, None] & valid[None, :], valid)


def btmlm_mask(side: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Back-translation masked LM, step 1 (the paper's Fig. 3): the sentence (side 0) attends to itself; the
    placeholders that follow (side 1) attend to the sentence and to every placeholder."""
    keep = (side[None, :] == 0) | (side[:, None] == 1)
    return _finish(keep & valid[:, None] & valid[None, :], valid)


def _finish(keep: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """`keep`, with each padding query attending to itself alone."""
    padding = ~valid
    return keep | (torch.diag(padding) if padding.any() else torch.zeros_like(keep))
