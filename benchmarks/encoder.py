"""Encoder throughput at base size: the transformers 4.39.3 reference against erniem, measured in one run.

    python benchmarks/encoder.py [--reference-python .venv-ref/bin/python] [--iterations 10] [--rounds 3]

Random weights with the dimensions of ernie-m-base (768 hidden, 12 layers, 12 heads, FFN 3072, 250,002 ids);
one batch of 8 rows × 128 tokens, rows padded to lengths between 64 and 128, with an attention mask.
Tokens/s counts padded positions (8 × 128 per forward) from the fastest of `--iterations` forwards after two
warm-up calls, under `torch.inference_mode`. The runs alternate for `--rounds` rounds and each keeps its best
round, so that drift in the machine's load does not favour one side. The reference runs in its own
virtualenv through this same file (`--worker reference`); it cannot run in bf16 (its mask is always fp32),
so it is measured in fp32 only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

BASE = dict(vocab_size=250002, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
BATCH, SEQUENCE = 8, 128
ROOT = Path(__file__).resolve().parents[1]
# name -> (attention implementation, dtype) of the erniem runs
ERNIEM_RUNS = {
    "erniem fp32-sdpa": ("sdpa", torch.float32),
    "erniem fp32-eager": ("eager", torch.float32),
    "erniem bf16-sdpa": ("sdpa", torch.bfloat16),
}


def padded_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """The benchmark batch: ids (8, 128) padded with id 1, and the 0/1 attention mask."""
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(SEQUENCE // 2, SEQUENCE + 1, (BATCH,), generator=generator)
    lengths[0] = SEQUENCE
    ids = torch.randint(3, BASE["vocab_size"], (BATCH, SEQUENCE), generator=generator)
    mask = (torch.arange(SEQUENCE)[None, :] < lengths[:, None]).long()
    return ids.masked_fill(mask == 0, 1), mask


def tokens_per_second(model: torch.nn.Module, iterations: int) -> float:
    ids, mask = padded_batch()
    with torch.inference_mode():
        for _ in range(2):
            model(input_ids=ids, attention_mask=mask)
        timings = []
        for _ in range(iterations):
            start = time.perf_counter()
            model(input_ids=ids, attention_mask=mask)
            timings.append(time.perf_counter() - start)
    return BATCH * SEQUENCE / min(timings)


def measure_reference(iterations: int) -> float:
    """Runs inside the transformers 4.39.3 virtualenv."""
    from transformers import ErnieMConfig, ErnieMModel

    torch.manual_seed(0)
    return tokens_per_second(ErnieMModel(ErnieMConfig(**BASE)).eval(), iterations)


def measure_erniem(implementation: str, dtype: torch.dtype, iterations: int) -> float:
    import erniem

    torch.manual_seed(0)
    config = erniem.ErnieMConfig(**BASE, attn_implementation=implementation)
    return tokens_per_second(erniem.ErnieMModel(config).eval().to(dtype), iterations)


def run_reference(python: Path, iterations: int) -> float:
    command = [str(python), __file__, "--worker", "reference", "--iterations", str(iterations)]
    result = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    return json.loads(result.stdout.strip().splitlines()[-1])["tokens_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_python = os.environ.get("ERNIEM_REFERENCE_PYTHON", str(ROOT / ".venv-ref" / "bin" / "python"))
    parser.add_argument("--reference-python", type=Path, default=Path(default_python))
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", choices=["reference"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker == "reference":
        print(json.dumps({"tokens_per_second": measure_reference(arguments.iterations)}))
        return
    if not arguments.reference_python.exists():
        sys.exit(f"reference env not found at {arguments.reference_python}: run `bash scripts/build_reference_env.sh`")

    print(
        f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print(
        f"# base-size ERNIE-M, random weights, batch {BATCH} x {SEQUENCE} padded, best of {arguments.iterations} "
        f"forwards, best of {arguments.rounds} alternating rounds"
    )
    results: dict[str, float] = {}
    for _ in range(arguments.rounds):
        rounds = {"reference transformers 4.39.3 fp32": run_reference(arguments.reference_python, arguments.iterations)}
        for name, (implementation, dtype) in ERNIEM_RUNS.items():
            rounds[name] = measure_erniem(implementation, dtype, arguments.iterations)
        results = {name: max(value, results.get(name, 0.0)) for name, value in rounds.items()}
    reference = results["reference transformers 4.39.3 fp32"]
    print(f"{'run':<38} {'tokens/s':>10} {'vs reference':>13}")
    for name, value in results.items():
        print(f"{name:<38} {value:>10.0f} {value / reference:>12.2f}x")


if __name__ == "__main__":
    main()
