"""Skipping padding: the encoder's per-token work (projections, feed-forward, LayerNorm) on kept positions only.

With `config.unpad_inputs`, a batch padded to a common length runs its linear layers over the positions its
attention mask keeps, laid end to end as (tokens, hidden) rows; only the attention itself sees the padded
(batch, seq) layout again. At 8 sequences of 64-128 tokens padded to 128, a quarter of the matmul work goes.

The kept positions get the same states as in the padded run (up to float rounding: the matmuls run over
fewer rows), and the first position of every row is always computed, so the pooled output is the same too,
left padding included. The positions left out get zeros in `last_hidden_state` and `hidden_states`, where
the padded run has the states of pad tokens that nothing attends to; heads read their logits from those
zeros. That is the one difference, and the reason the option is off by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Unpadded:
    """Where the computed positions of a (batch, seq) batch lie among its batch * seq flat positions.

    Args:
        indices: (tokens,) flat positions, ascending.
        batch_size, seq_length: the padded layout.
    """

    indices: torch.Tensor
    batch_size: int
    seq_length: int

    @classmethod
    def from_keep(cls, keep: torch.Tensor) -> Unpadded:
        """The positions `keep` (batch, seq) marks as attended, plus the first one of every row."""
        computed = keep.clone()
        computed[:, 0] = True  # the pooler reads it
        indices = computed.flatten().nonzero().squeeze(1)
        return cls(indices, keep.shape[0], keep.shape[1])

    @property
    def complete(self) -> bool:
        """True when every position is computed (nothing to skip)."""
        return self.indices.numel() == self.batch_size * self.seq_length

    def unpad(self, padded: torch.Tensor) -> torch.Tensor:
        """(batch, seq, ...) -> (tokens, ...)."""
        return padded.reshape(self.batch_size * self.seq_length, *padded.shape[2:]).index_select(0, self.indices)

    def pad(self, rows: torch.Tensor) -> torch.Tensor:
        """(tokens, ...) -> (batch, seq, ...), zeros at the positions not computed."""
        padded = rows.new_zeros(self.batch_size * self.seq_length, *rows.shape[1:])
        padded.index_copy_(0, self.indices, rows)
        return padded.view(self.batch_size, self.seq_length, *rows.shape[1:])
