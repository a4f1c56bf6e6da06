"""Which tokens a masked-LM objective predicts, and what the model reads in their place (BERT's 80/10/10 rule)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class MaskingOptions:
    """How tokens are chosen and replaced; the paper does not give its values, so these are BERT's.

    Args:
        rate: share of a sentence's tokens chosen for prediction (rounded, at least one per sentence).
        mask_fraction: share of the chosen tokens replaced by `[MASK]`.
        random_fraction: share replaced by a random non-special token; the rest keep their token.
    """

    rate: float = 0.15
    mask_fraction: float = 0.8
    random_fraction: float = 0.1

    def __post_init__(self):
        if not 0.0 < self.rate <= 1.0:
            raise ValueError(f"The masking rate must lie in (0, 1], got {self.rate!r}.")
        if self.mask_fraction < 0 or self.random_fraction < 0 or self.mask_fraction + self.random_fraction > 1:
            raise ValueError(
                "mask_fraction and random_fraction must be non-negative with a sum of at most 1, "
                f"got {self.mask_fraction!r} and {self.random_fraction!r}."
            )


def choose(length: int, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """(length,) booleans: `max(1, round(rate * length))` positions drawn without replacement (none if empty)."""
    chosen = torch.zeros(length, dtype=torch.bool)
    if length:
        count = min(length, max(1, math.floor(rate * length + 0.5)))
        chosen[torch.randperm(length, generator=generator)[:count]] = True
    return chosen


def corrupt(
    ids: torch.Tensor,
    chosen: torch.Tensor,
    mask_token_id: int,
    random_ids: torch.Tensor,
    options: MaskingOptions,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A copy of `ids` where each chosen position holds `[MASK]`, a token drawn from `random_ids`, or its own token,
    with the probabilities of `options`."""
    draw = torch.rand(ids.shape, generator=generator)
    to_mask = chosen & (draw < options.mask_fraction)
    to_random = chosen & (draw >= options.mask_fraction) & (draw < options.mask_fraction + options.random_fraction)
    replacements = random_ids[torch.randint(len(random_ids), ids.shape, generator=generator)]
    return torch.where(to_mask, mask_token_id, torch.where(to_random, replacements, ids))
