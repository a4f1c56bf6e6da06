"""Packed weights on the fused CPU path: the base-size encoder with frozen weights (kept in oneDNN's layout) against
the same encoder with trainable weights (reordered by every call), in fp32 and bf16, on batches of several shapes.

    python benchmarks/packing.py [--rounds 20]

Batches are padded as in `benchmarks/run.py`; weights are random. The two alternate forward by forward in one
process, so that the machine's drifting speed reaches both alike; prints the median milliseconds of each and the
median of the paired ratios (above 1: packing is faster), checks that both give the same states, and prints how
much memory the packed copies hold.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import erniem
from erniem import cpu_fusion
from run import SIZES, padded_batch

SHAPES = [(1, 16), (8, 128), (32, 128)]


def forward(model: erniem.ErnieMModel, ids: torch.Tensor, mask: torch.Tensor, packed: bool) -> torch.Tensor:
    model.requires_grad_(not packed)
    with torch.inference_mode():
        return model(input_ids=ids, attention_mask=mask).last_hidden_state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    arguments = parser.parse_args()
    print("| dtype | shape | reordered ms | packed ms | reordered / packed (median of pairs) | packed copies MiB |")
    print("|---|---|---:|---:|---:|---:|")
    for dtype in (torch.float32, torch.bfloat16):
        torch.manual_seed(0)
        model = erniem.ErnieMModel(erniem.ErnieMConfig(**SIZES["base"], attn_implementation="sdpa")).eval().to(dtype)
        for batch, length in SHAPES:
            ids, mask = padded_batch(batch, length, model.config.vocab_size)
            reordered = forward(model, ids, mask, packed=False)
            packed = forward(model, ids, mask, packed=True)  # lays the weights out on the first shape
            copies = sum(kept.weight.numel() * kept.weight.element_size() for kept in cpu_fusion._PACKED.values())
            tolerance = 1e-5 if dtype == torch.float32 else 0.1  # bf16: oneDNN may pick another kernel
            torch.testing.assert_close(packed, reordered, atol=tolerance, rtol=0)
            times: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(arguments.rounds):
                for kept in times:
                    start = time.perf_counter()
                    forward(model, ids, mask, packed=kept)
                    times[kept].append(time.perf_counter() - start)
            ratio = statistics.median(a / b for a, b in zip(times[False], times[True], strict=True))
            print(
                f"| {str(dtype).removeprefix('torch.')} | {batch}x{length} | "
                f"{statistics.median(times[False]) * 1e3:.1f} | {statistics.median(times[True]) * 1e3:.1f} | "
                f"{ratio:.2f}x | {copies / 2**20:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
