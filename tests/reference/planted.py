"""A UIE model built by hand (numpy), whose answers are known in advance: the recipe the long-text test and the
Taskflow parity test share (the latter builds it in PaddleNLP).

Every encoder layer adds nothing (attention and feed-forward output projections are zero), so a token's final
hidden state is the layer-normalised sum of its word and position embeddings. Dimension 2 holds a constant 1
that dominates the normalisation; dimension 0 marks span starts, dimension 1 span ends. A token in `starts`
(`ends`) gets +1 there, one in `strong_starts` (`strong_ends`) +3; positions below `quiet_below` get -1,
which silences ordinary markers in the prompt (its tokens come first) but not strong ones. The start (end)
head reads dimension 0 (1): a marked token scores about 0.9, any other about 0.05.
"""

from __future__ import annotations

import numpy as np

SCALE, BIAS = 1.5, -3.0


def planted_weights(
    vocab_size: int,
    hidden_size: int,
    max_positions: int,
    starts=(),
    ends=(),
    strong_starts=(),
    strong_ends=(),
    quiet_below: int = 0,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """The embeddings and the two heads' weights; `word`, `position` (table rows), `start_weight` (hidden,),
    `start_bias`, `end_weight`, `end_bias`. Everything else: zero output projections, identity layer norms."""
    generator = np.random.default_rng(seed)
    word = generator.normal(0.0, 0.01, (vocab_size, hidden_size)).astype(np.float32)
    word[:, :3] = 0.0
    word[:, 2] = 1.0
    for ids, dimension, strength in (
        (starts, 0, 1.0), (ends, 1, 1.0), (strong_starts, 0, 3.0), (strong_ends, 1, 3.0)
    ):  # fmt: skip
        word[list(ids), dimension] += strength
    position = np.zeros((max_positions, hidden_size), dtype=np.float32)
    # Position ids are offset by 2 in ERNIE-M's table: rows below quiet_below + 2 are positions below quiet_below.
    position[: quiet_below + 2, :2] = -1.0 if quiet_below else 0.0
    head = np.zeros(hidden_size, dtype=np.float32)
    start_weight, end_weight = head.copy(), head.copy()
    start_weight[0] = end_weight[1] = SCALE
    bias = np.array([BIAS], dtype=np.float32)
    return {
        "word": word,
        "position": position,
        "start_weight": start_weight,
        "start_bias": bias,
        "end_weight": end_weight,
        "end_bias": bias.copy(),
    }
