"""The inference benchmark suite: erniem's runtimes against the transformers 4.39.3 reference and against this
machine's matmul ceiling, measured in one run.

    python benchmarks/run.py [--quick] [--output DIR] [--reference-python PY] [--device cuda]
                             [--sizes SIZE ...] [--runtimes NAME ...]

Models have random weights with the dimensions of ernie-m-base (768 wide, 12 layers) and ernie-m-large (1024,
24). Each batch shape B×S (1×16, 8×128, 32×128, 4×512) is padded realistically: row 0 is S tokens long, the
others between S/2 and S, with the attention mask saying so; tokens/s counts padded positions (B·S per
forward). The "unpadded" runtimes set `config.unpad_inputs` (every layer skips the masked positions, which
get zero states), so their share of the ceiling, which counts B·S positions, can pass 100%. The "classifier"
runtimes run the sequence-classification head (3 labels) instead of the bare encoder, compared with the
reference's classifier: the default path of the most common task, where erniem skips padding without being
asked (the logits read the first token alone), and the ONNX Runtime backend runs rows of similar length
together, each group cut after its last attended position. The "frozen" runtimes are the model as
`erniem.acceleration.optimize` leaves it for the CLI and `UIEPipeline` (weights frozen, so the fused CPU path
keeps them packed: `erniem/cpu_fusion.py`); the others run trainable weights, as `from_pretrained` gives them.

Every runtime lives in its own worker process (the reference in its own virtualenv), built once; the workers take
turns, shape by shape and round by round, so that drift in the machine's speed reaches all of them alike. A round is
a few warm-up forwards, then timed forwards under `torch.inference_mode`; each runtime keeps its fastest round (by
median), which gives tokens/s (B·S / p50) and p50/p95 latency. Peak RSS is the worker's peak resident memory during
that shape (VmHWM, reset before the shape), and "activations" the part of it above the resident size before the
first forward (on a GPU: the peak of allocated GPU memory instead). fp16 and bf16 runtimes are compared with the
bf16 ceiling, int8 with none.

The ceiling: fp32 and bf16 matmul GFLOP/s of this CPU on the encoder's own GEMM shapes (rows = B·S), measured
between rounds; "ceiling tok/s" divides it by the model's matmul FLOPs per token (linear layers plus the
attention products at that length), so "of ceiling" tells how much of the hardware a runtime uses.

Writes results.json, results.md and results.png (tokens/s by runtime and shape; needs matplotlib) into
`--output` (default artifacts/benchmarks) and prints the table. `--quick` (about 5 minutes): base size,
8×128 and 32×128, the reference, fp32 and bf16 sdpa, padded and unpadded, and the fp32 classifiers.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = {
    "base": dict(
        vocab_size=250002, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072
    ),
    "large": dict(
        vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096
    ),
}
SHAPES = [(1, 16), (8, 128), (32, 128), (4, 512)]
REFERENCE = "reference 4.39.3 fp32"
REFERENCE_CLASSIFIER = "reference 4.39.3 fp32 classifier"
# runtime -> what the worker builds: (kind, dtype, attention, options), see `build_model`
RUNTIMES = {
    REFERENCE: ("reference", "float32", "eager", ()),
    "erniem fp32 eager": ("erniem", "float32", "eager", ()),
    "erniem fp32 sdpa": ("erniem", "float32", "sdpa", ()),
    "erniem bf16 sdpa": ("erniem", "bfloat16", "sdpa", ()),
    "erniem fp32 sdpa unpadded": ("erniem", "float32", "sdpa", ("unpad",)),
    "erniem bf16 sdpa unpadded": ("erniem", "bfloat16", "sdpa", ("unpad",)),
    "erniem fp32 sdpa frozen": ("erniem", "float32", "sdpa", ("frozen",)),
    "erniem bf16 sdpa frozen": ("erniem", "bfloat16", "sdpa", ("frozen",)),
    "erniem bf16 compiled": ("erniem", "bfloat16", "sdpa", ("compile",)),
    "erniem int8 (torchao)": ("erniem", "float32", "sdpa", ("int8", "compile")),
    "erniem int8 (torchao) unpadded": ("erniem", "float32", "sdpa", ("int8", "compile", "unpad")),
    "onnxruntime fp32": ("onnxruntime", "float32", "eager", ()),
    REFERENCE_CLASSIFIER: ("reference", "float32", "eager", ("classifier",)),
    "erniem fp32 sdpa classifier": ("erniem", "float32", "sdpa", ("classifier",)),
    "erniem bf16 sdpa classifier": ("erniem", "bfloat16", "sdpa", ("classifier",)),
    "onnxruntime fp32 classifier": ("onnxruntime", "float32", "eager", ("classifier",)),
    "erniem fp32 sdpa classifier frozen": ("erniem", "float32", "sdpa", ("classifier", "frozen")),
    "erniem bf16 sdpa classifier frozen": ("erniem", "bfloat16", "sdpa", ("classifier", "frozen")),
    "erniem bf16 eager": ("erniem", "bfloat16", "eager", ()),
    "erniem fp16 sdpa": ("erniem", "float16", "sdpa", ()),
    "erniem bf16 flash-attn 2": ("erniem", "bfloat16", "flash_attention_2", ()),
}
GPU_RUNTIMES = [
    "erniem fp32 sdpa",
    "erniem bf16 eager",
    "erniem bf16 sdpa",
    "erniem fp16 sdpa",
    "erniem bf16 flash-attn 2",
]
GPU_ONLY = {"erniem bf16 eager", "erniem fp16 sdpa", "erniem bf16 flash-attn 2"}
CPU_RUNTIMES = [name for name in RUNTIMES if name not in GPU_ONLY]
QUICK = dict(
    sizes=["base"],
    shapes=[(8, 128), (32, 128)],
    runtimes=[
        REFERENCE,
        "erniem fp32 sdpa",
        "erniem bf16 sdpa",
        "erniem fp32 sdpa unpadded",
        "erniem bf16 sdpa unpadded",
        REFERENCE_CLASSIFIER,
        "erniem fp32 sdpa classifier",
        "onnxruntime fp32 classifier",
    ],
)
# runtimes measured at base size only (each shape compiles or exports anew: minutes at large size; unpadding
# saves the same share of the work at either size)
BASE_ONLY = {"erniem bf16 compiled", "erniem int8 (torchao)", "erniem int8 (torchao) unpadded", "onnxruntime fp32",
             "erniem fp32 sdpa unpadded", "erniem bf16 sdpa unpadded", REFERENCE_CLASSIFIER,
             "erniem fp32 sdpa classifier", "erniem bf16 sdpa classifier", "onnxruntime fp32 classifier",
             "erniem fp32 sdpa frozen", "erniem bf16 sdpa frozen", "erniem fp32 sdpa classifier frozen",
             "erniem bf16 sdpa classifier frozen"}  # fmt: skip
ROUND_SECONDS = 2.0  # timed forwards per round: as many as fit, within [3, 20]


# ---------------------------------------------------------------- worker side (also runs in the reference env)


def status_bytes(field_name: str) -> int:
    """A /proc/self/status field (VmRSS, VmHWM) in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field_name} in /proc/self/status")


def padded_batch(batch: int, length: int, vocab_size: int):
    """ids (batch, length) padded with id 1 and the 0/1 mask: row 0 full, the others between length/2 and length."""
    import torch

    generator = torch.Generator().manual_seed(batch * 1000 + length)
    lengths = torch.randint(max(1, length // 2), length + 1, (batch,), generator=generator)
    lengths[0] = length
    ids = torch.randint(3, vocab_size, (batch, length), generator=generator)
    mask = (torch.arange(length)[None, :] < lengths[:, None]).long()
    return ids.masked_fill(mask == 0, 1), mask


def build_model(runtime: str, size: str, device: str, workdir: Path):
    """The callable `forward(ids, mask)` of one runtime, on random weights (seed 0)."""
    import torch

    kind, dtype_name, attention, options = RUNTIMES[runtime]
    dtype = getattr(torch, dtype_name)
    torch.manual_seed(0)
    head = "ErnieMForSequenceClassification" if "classifier" in options else "ErnieMModel"
    if kind == "reference":
        import transformers

        model = getattr(transformers, head)(transformers.ErnieMConfig(**SIZES[size], num_labels=3)).eval()
    else:
        import erniem

        unpad_inputs = True if "unpad" in options else None  # None: the default
        config = erniem.ErnieMConfig(
            **SIZES[size], num_labels=3, attn_implementation=attention, unpad_inputs=unpad_inputs
        )
        model = getattr(erniem, head)(config).eval()
    if kind == "onnxruntime":
        from erniem.onnx import OnnxRuntimeModel, export_onnx

        model.save_pretrained(workdir / "model")
        del model
        task = "sequence-classification" if "classifier" in options else "base"
        session = OnnxRuntimeModel.from_pretrained(export_onnx(workdir / "model", workdir / "onnx", task=task))
        return lambda ids, mask: session(input_ids=ids, attention_mask=mask)
    from erniem.acceleration import optimize

    model = model.to(device=device, dtype=dtype)
    if "frozen" in options:  # as `optimize` leaves it for the CLI and UIEPipeline: weights frozen, kept packed
        model = optimize(model)
        with torch.inference_mode():  # lay the packed weights out now: the model's memory, not the forward's
            model(input_ids=torch.full((1, 16), 5, device=device))
    if "compile" in options:
        model = optimize(model, quantize="int8" if "int8" in options else None, compile=True)
    return lambda ids, mask: model(input_ids=ids.to(device), attention_mask=mask.to(device))


def measure(forward, batch: int, length: int, vocab_size: int, device: str) -> dict:
    """Warm up, then time forwards for about ROUND_SECONDS; latencies in seconds and the peak RSS."""
    import torch

    ids, mask = padded_batch(batch, length, vocab_size)
    cuda = device.startswith("cuda")
    synchronize = torch.cuda.synchronize if cuda else (lambda: None)
    if cuda:  # GPU memory instead of the process's resident memory
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        before = status_bytes("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current resident size
    latencies = []
    with torch.inference_mode():
        forward(ids, mask)  # warm-up (and compilation, for compiled runtimes)
        synchronize()
        while len(latencies) < 3 or (len(latencies) < 20 and sum(latencies) < ROUND_SECONDS):
            start = time.perf_counter()
            forward(ids, mask)
            synchronize()
            latencies.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() if cuda else status_bytes("VmHWM")
    return {"latencies": latencies, "peak_rss": peak, "rss_before": before}


def serve(runtime: str, size: str, device: str, workdir: Path) -> None:
    """Worker loop: build the model, say ready, then answer one JSON request per stdin line."""
    import torch

    if device == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    forward = build_model(runtime, size, device, workdir)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps(measure(forward, request["batch"], request["length"], SIZES[size]["vocab_size"], device)))
        sys.stdout.flush()


# ---------------------------------------------------------------- orchestrator side


@dataclass
class Cell:
    """One runtime at one size and shape: its best round."""

    runtime: str
    size: str
    batch: int
    length: int
    p50: float = float("inf")
    p95: float = float("inf")
    peak_rss: int = 0
    activations: int = 0
    rounds: list[float] = field(default_factory=list)

    def add(self, result: dict) -> None:
        p50 = statistics.median(result["latencies"])
        self.rounds.append(p50)
        if p50 < self.p50:
            ordered = sorted(result["latencies"])
            self.p50, self.p95 = p50, ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        self.peak_rss = max(self.peak_rss, result["peak_rss"])
        self.activations = max(self.activations, result["peak_rss"] - result["rss_before"])

    @property
    def tokens_per_second(self) -> float:
        return self.batch * self.length / self.p50


class Worker:
    """A runtime's worker process."""

    def __init__(self, runtime: str, size: str, python: Path, device: str, workdir: Path):
        command = [str(python), __file__, "--worker", runtime, "--size", size, "--device", device]
        command += ["--workdir", str(workdir)]
        environment = {**os.environ, "PYTHONPATH": "" if RUNTIMES[runtime][0] == "reference" else str(ROOT / "src")}
        self.runtime = runtime
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment
        )
        self._read()  # ready

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.runtime} worker exited (code {self.process.wait()}); see its error above")
        return json.loads(line)

    def measure(self, batch: int, length: int) -> dict:
        self.process.stdin.write(json.dumps({"batch": batch, "length": length}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def gemm_gflops(dtype_name: str, rows: int, dimensions: dict, device: str) -> float:
    """Best GFLOP/s of this device over the encoder's GEMM shapes with `rows` rows, in `dtype_name`."""
    import torch

    dtype, hidden, inner = getattr(torch, dtype_name), dimensions["hidden_size"], dimensions["intermediate_size"]
    best = 0.0
    for k, n in ((hidden, hidden), (hidden, inner), (inner, hidden)):
        a = torch.randn(rows, k, dtype=dtype, device=device)
        w = torch.randn(n, k, dtype=dtype, device=device)
        for repeat in range(8):
            start = time.perf_counter()
            torch.nn.functional.linear(a, w)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if repeat >= 2:
                best = max(best, 2 * rows * k * n / (time.perf_counter() - start) / 1e9)
    return best


def flops_per_token(dimensions: dict, length: int) -> float:
    """Matmul FLOPs per token of the encoder: linear layers, plus Q·Kᵀ and P·V over `length` keys."""
    hidden, inner, layers = dimensions["hidden_size"], dimensions["intermediate_size"], dimensions["num_hidden_layers"]
    return layers * (2 * (4 * hidden * hidden + 2 * hidden * inner) + 4 * length * hidden)


def run(arguments: argparse.Namespace) -> dict:
    import torch

    sizes = arguments.sizes or (QUICK["sizes"] if arguments.quick else list(SIZES))
    shapes = QUICK["shapes"] if arguments.quick else SHAPES
    runtimes = arguments.runtimes or (QUICK["runtimes"] if arguments.quick else CPU_RUNTIMES)
    if arguments.device != "cpu":
        runtimes = [name for name in GPU_RUNTIMES if name in runtimes or not (arguments.quick or arguments.runtimes)]
        if importlib.util.find_spec("flash_attn") is None:
            print("# flash-attn is not installed: no flash_attention_2 run", file=sys.stderr)
            runtimes.remove("erniem bf16 flash-attn 2")
    rounds = arguments.rounds or (2 if arguments.quick else 3)
    cells: list[Cell] = []
    ceilings: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="erniem-benchmarks-") as scratch:  # saved and exported models
        for size in sizes:
            names = [name for name in runtimes if size == "base" or name not in BASE_ONLY]
            workers = []
            for name in names:
                python = arguments.reference_python if RUNTIMES[name][0] == "reference" else Path(sys.executable)
                print(f"# {size}: starting {name}", file=sys.stderr, flush=True)
                workers.append(Worker(name, size, python, arguments.device, Path(scratch) / f"{size}-{len(workers)}"))
            try:
                for batch, length in shapes:
                    row = {name: Cell(name, size, batch, length) for name in names}
                    ceiling = ceilings.setdefault(f"{size} {batch}x{length}", {"float32": 0.0, "bfloat16": 0.0})
                    for index in range(rounds):
                        for dtype_name in ceiling:
                            gflops = gemm_gflops(dtype_name, batch * length, SIZES[size], arguments.device)
                            ceiling[dtype_name] = max(ceiling[dtype_name], gflops)
                        order = workers[index % len(workers) :] + workers[: index % len(workers)]
                        for worker in order:
                            row[worker.runtime].add(worker.measure(batch, length))
                    cells += row.values()
                    print(f"# {size} {batch}x{length} done", file=sys.stderr, flush=True)
            finally:
                for worker in workers:
                    worker.close()
    return {
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "device": arguments.device if arguments.device == "cpu" else torch.cuda.get_device_name(),
            "rounds": rounds,
        },
        "ceiling_gflops": ceilings,
        "cells": [asdict(cell) | {"tokens_per_second": cell.tokens_per_second} for cell in cells],
    }


def table(results: dict) -> str:
    """The Markdown table: one line per size, shape and runtime."""
    memory = "peak RSS" if results["machine"]["device"] == "cpu" else "peak GPU memory"
    lines = [
        f"| size | shape | runtime | tokens/s | vs reference | of ceiling | p50 ms | p95 ms | {memory} MiB | "
        "activations MiB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cells = results["cells"]
    for cell in cells:
        shape = f"{cell['batch']}x{cell['length']}"
        reference_name = REFERENCE_CLASSIFIER if cell["runtime"].endswith("classifier") else REFERENCE
        reference = next(
            (
                c
                for c in cells
                if c["runtime"] == reference_name
                and c["size"] == cell["size"]
                and c["batch"] == cell["batch"]
                and c["length"] == cell["length"]
            ),
            None,
        )
        versus = f"{cell['tokens_per_second'] / reference['tokens_per_second']:.2f}x" if reference else "-"
        dtype_name = "float32" if " fp32 " in f" {cell['runtime']} " or "int8" in cell["runtime"] else "bfloat16"
        gflops = results["ceiling_gflops"][f"{cell['size']} {shape}"][dtype_name]
        ceiling = gflops * 1e9 / flops_per_token(SIZES[cell["size"]], cell["length"])
        of_ceiling = f"{cell['tokens_per_second'] / ceiling:.0%}" if "int8" not in cell["runtime"] else "-"
        lines.append(
            f"| {cell['size']} | {shape} | {cell['runtime']} | {cell['tokens_per_second']:.0f} | {versus} | "
            f"{of_ceiling} | {cell['p50'] * 1e3:.1f} | {cell['p95'] * 1e3:.1f} | {cell['peak_rss'] / 2**20:.0f} | "
            f"{cell['activations'] / 2**20:.0f} |"
        )
    lines += ["", "| size | shape | fp32 GEMM GFLOP/s | bf16 GEMM GFLOP/s | fp32 ceiling tok/s | bf16 ceiling tok/s |"]
    lines += ["|---|---|---:|---:|---:|---:|"]
    for key, gflops in results["ceiling_gflops"].items():
        size, shape = key.split()
        per_token = flops_per_token(SIZES[size], int(shape.split("x")[1]))
        lines.append(
            f"| {size} | {shape} | {gflops['float32']:.0f} | {gflops['bfloat16']:.0f} | "
            f"{gflops['float32'] * 1e9 / per_token:.0f} | {gflops['bfloat16'] * 1e9 / per_token:.0f} |"
        )
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> bool:
    """Bar chart of tokens/s by runtime for each size and shape; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return False
    cells = results["cells"]
    groups = list(dict.fromkeys(f"{c['size']} {c['batch']}x{c['length']}" for c in cells))
    runtimes = list(dict.fromkeys(c["runtime"] for c in cells))
    figure, axes = pyplot.subplots(figsize=(max(8, 1.6 * len(groups)), 5))
    width = 0.8 / len(runtimes)
    for index, runtime in enumerate(runtimes):
        values = {
            f"{c['size']} {c['batch']}x{c['length']}": c["tokens_per_second"] for c in cells if c["runtime"] == runtime
        }
        xs = [position + index * width for position, group in enumerate(groups) if group in values]
        axes.bar(xs, [values[group] for group in groups if group in values], width, label=runtime)
    axes.set_xticks([position + 0.4 - width / 2 for position in range(len(groups))], groups)
    axes.set_ylabel("tokens/s (padded positions)")
    axes.set_title(f"ERNIE-M inference, {results['machine']['device']}, {results['machine']['cpus']} CPUs")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_python = os.environ.get("ERNIEM_REFERENCE_PYTHON", str(ROOT / ".venv-ref" / "bin" / "python"))
    parser.add_argument("--reference-python", type=Path, default=Path(default_python))
    parser.add_argument("--output", type=Path, default=ROOT / "artifacts" / "benchmarks")
    parser.add_argument("--quick", action="store_true", help="base size, 8x128 and 32x128, eight runtimes")
    parser.add_argument("--rounds", type=int, help="rounds per shape (default 3; 2 with --quick)")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (erniem runtimes only, no reference)")
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), help="only these sizes")
    parser.add_argument("--runtimes", nargs="+", choices=list(RUNTIMES), help="only these runtimes")
    parser.add_argument("--worker", choices=list(RUNTIMES), help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=list(SIZES), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        serve(arguments.worker, arguments.size, arguments.device, arguments.workdir)
        return
    if arguments.device == "cpu" and not arguments.reference_python.exists():
        sys.exit(f"reference env not found at {arguments.reference_python}: run `bash scripts/build_reference_env.sh`")
    results = run(arguments)
    arguments.output.mkdir(parents=True, exist_ok=True)
    markdown = table(results)
    (arguments.output / "results.json").write_text(json.dumps(results, indent=1))
    (arguments.output / "results.md").write_text(markdown)
    plotted = plot(results, arguments.output / "results.png")
    print(markdown)
    print(f"written to {arguments.output}" + ("" if plotted else " (no plot: pip install matplotlib)"))


if __name__ == "__main__":
    main()
