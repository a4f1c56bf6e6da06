"""Skipping padding: the encoder's work on kept positions only, attention included.

With `config.unpad_inputs`, a batch padded to a common length runs its layers over the positions its
attention mask keeps, laid end to end as (tokens, hidden) rows; attention runs row by row over each row's
span of them, with no mask (the masked keys are the ones left out). At 8 sequences of 64-128 tokens padded to
128, a quarter of the matmul work goes.

The kept positions get the same states as in the padded run (up to float rounding: the matmuls run over
fewer rows, the softmax over the kept keys alone), and the first position of every row is always computed, so
the pooled output is the same too, left padding included. The positions left out get zeros in
`last_hidden_state` and `hidden_states`, where the padded run has the states of pad tokens that nothing
attends to; heads read their logits from those zeros. That is the one difference, and the reason models that
return per-position outputs compute every position by default.
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
        spans: per row, (start, key_start, end) among the tokens: the row's computed positions are
            `start:end`, its attended ones (the keys) `key_start:end` (one fewer where the first is padding).
    """

    indices: torch.Tensor
    batch_size: int
    seq_length: int
    spans: tuple[tuple[int, int, int], ...]

    @classmethod
    def from_keep(cls, keep: torch.Tensor) -> Unpadded:
        """The positions `keep` (batch, seq) marks as attended, plus the first one of every row; every row must
        attend to at least one."""
        computed = keep.clone()
        computed[:, 0] = True  # the pooler reads it
        indices = computed.flatten().nonzero().squeeze(1)
        ends = computed.sum(1).cumsum(0).tolist()
        starts = [0, *ends[:-1]]
        first_left_out = (~keep[:, 0]).tolist()  # computed for the pooler, but not a key
        spans = zip(starts, first_left_out, ends, strict=True)
        spans = tuple((start, start + left_out, end) for start, left_out, end in spans)
        return cls(indices, keep.shape[0], keep.shape[1], spans)

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
