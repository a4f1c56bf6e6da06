"""Skipping padding (`unpad_inputs`): a base-size sequence classifier, padded against unpadded, in inference
(fp32 and bf16) and in training (fp32, forward and backward), on batches of several shapes.

    python benchmarks/unpadding.py [--rounds 3]

Batches are padded as in `benchmarks/run.py` (row 0 full length, the others between half and full); weights are
random. Both runs alternate within each round; each keeps its median over the rounds. Prints milliseconds per
batch and the ratio padded / unpadded (above 1: skipping padding is faster), and checks that both give the same
logits. This is where the defaults come from: heads reading the first token skip padding in inference without
being asked, and in training only with `unpad_inputs=True`.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import erniem
from run import SIZES, padded_batch

SHAPES = [(8, 128), (32, 128), (16, 64), (64, 32), (128, 16)]
TRAINING_SHAPES = [(16, 128), (64, 32)]


def step(model: erniem.ErnieMForSequenceClassification, ids, mask, unpad: bool, training: bool) -> torch.Tensor:
    model.config.unpad_inputs = unpad
    if not training:
        with torch.inference_mode():
            return model(input_ids=ids, attention_mask=mask).logits
    output = model(input_ids=ids, attention_mask=mask, labels=torch.zeros(len(ids), dtype=torch.long))
    output.loss.backward()
    model.zero_grad(set_to_none=True)
    return output.logits.detach()


def compare(model, ids: torch.Tensor, mask: torch.Tensor, rounds: int, training: bool) -> tuple[float, float]:
    """Median seconds per batch, padded and unpadded, after checking that the logits agree."""
    padded, unpadded = (step(model, ids, mask, unpad, training) for unpad in (False, True))
    tolerance = 1e-4 if model.dtype == torch.float32 else 5e-2  # the logits are fp32 either way
    torch.testing.assert_close(unpadded, padded, atol=tolerance, rtol=0)
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for unpad in times:
            start = time.perf_counter()
            step(model, ids, mask, unpad, training)
            times[unpad].append(time.perf_counter() - start)
    return statistics.median(times[False]), statistics.median(times[True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    torch.manual_seed(0)
    no_dropout = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    config = erniem.ErnieMConfig(**SIZES["base"], num_labels=3, **no_dropout)
    model = erniem.ErnieMForSequenceClassification(config)
    print("| mode | dtype | shape | kept | padded ms | unpadded ms | padded / unpadded |")
    print("|---|---|---|---:|---:|---:|---:|")
    runs = [("inference", dtype, shape) for dtype in (torch.float32, torch.bfloat16) for shape in SHAPES]
    runs += [("training", torch.float32, shape) for shape in TRAINING_SHAPES]
    for mode, dtype, (batch, length) in runs:
        model.to(dtype).train(mode == "training")
        ids, mask = padded_batch(batch, length, config.vocab_size)
        padded, unpadded = compare(model, ids, mask, arguments.rounds, mode == "training")
        kept = mask.float().mean()
        print(
            f"| {mode} | {str(dtype).removeprefix('torch.')} | {batch}x{length} | {kept:.0%} | {padded * 1e3:.0f} | "
            f"{unpadded * 1e3:.0f} | {padded / unpadded:.2f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
