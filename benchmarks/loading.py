"""Peak memory of loading a base-size checkpoint (model.safetensors) with `from_pretrained`, against its file size.

    python benchmarks/loading.py [--directory DIR]

Saves a random ErnieMModel with ernie-m-base dimensions (1.1 GB in fp32) once, then loads it in fresh
processes: the resident memory after `import erniem` is the baseline, the kernel's peak (VmHWM, reset just
before loading through /proc/self/clear_refs) the peak, read right after loading and again after every weight
has been read once (mapped pages count once they are touched); the ratio is (peak - baseline) / file size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE = dict(vocab_size=250002, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)


def memory(field: str) -> int:
    """A /proc/self/status field (VmRSS, VmHWM) in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def worker(directory: str) -> None:
    import torch

    import erniem

    torch.set_num_threads(2)
    baseline = memory("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current resident size
    start = time.perf_counter()
    model = erniem.ErnieMModel.from_pretrained(directory)
    seconds = time.perf_counter() - start
    loaded = memory("VmHWM")
    with torch.no_grad():  # read every weight, so that mapped pages are resident, as after a first forward
        checksum = sum(float(p.sum()) for p in model.parameters())
    print(json.dumps({"baseline": baseline, "loaded": loaded, "peak": memory("VmHWM"), "seconds": seconds,
                      "checksum": checksum}))  # fmt: skip


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--directory", type=Path, help="where to keep the checkpoint (default: a temporary folder)")
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--worker", help=argparse.SUPPRESS)
    arguments = options.parse_args()
    if arguments.worker:
        worker(arguments.worker)
        return
    with tempfile.TemporaryDirectory() as temporary:
        directory = arguments.directory or Path(temporary) / "ernie-m-base-random"
        if not (directory / "model.safetensors").is_file():
            import torch

            import erniem

            torch.manual_seed(0)
            erniem.ErnieMModel(erniem.ErnieMConfig(**BASE)).save_pretrained(directory)
        size = (directory / "model.safetensors").stat().st_size
        print(f"checkpoint {size / 2**30:.2f} GiB ({directory / 'model.safetensors'})")
        print(
            "| run | load s | baseline RSS GiB | peak after load GiB | peak after reading every weight GiB | "
            "(peak - baseline) / file size |"
        )
        print("|---|---|---|---|---|---|")
        for run in range(arguments.runs):
            done = subprocess.run(
                [sys.executable, __file__, "--worker", str(directory)], capture_output=True, text=True, check=True
            )
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            grown = figures["peak"] - figures["baseline"]
            gib = {key: figures[key] / 2**30 for key in ("baseline", "loaded", "peak")}
            print(f"| {run + 1} | {figures['seconds']:.2f} | {gib['baseline']:.2f} | {gib['loaded']:.2f} | "
                  f"{gib['peak']:.2f} | {grown / size:.2f}× |")  # fmt: skip


if __name__ == "__main__":
    main()
