"""`erniem extract --engine ray` (Ray Data, a local Ray) against the single-process `erniem extract`: same model,
schema and input file, each run as a subprocess on this machine, timed end to end.

    python benchmarks/distributed.py                        # random base UIE-M, 2,000 rows (~11 min on 2 cores)
    python benchmarks/distributed.py --rows 400             # shorter (~3 min on 2 cores)
    python benchmarks/distributed.py --tiny --rows 500      # a 1-layer, 32-wide random model: a quick check

Model: the base-size UIE-M with random weights of benchmarks/uie.py (artifacts/uie-m-base-random/erniem, built by
its `checkpoint()` when absent; it needs the PaddleNLP env), `--model DIR`, or with `--tiny` a random
ErnieMForInformationExtraction of hidden 32 and 1 layer over the real vocabulary, written to a temporary folder.
Input: `--rows` JSON Lines {"text": ...}, benchmarks/uie.py's short corpus lines (30-140 characters, 64 from each
of 8 languages) cycled. Schema ["person", "organization"], --schema-lang en, every other setting at the CLI's
defaults (max_seq_len 512, 16 texts per forward pass). The model file is read once before the runs (page cache).

Rows, each one `python -m erniem.cli extract ...` process:
- single process, its default threads (torch's: one per core) and with OMP_NUM_THREADS=1 (the per-CPU figure);
- Ray: `--engine ray --address local --actors 1 --cpus-per-actor 1` (Ray starts with every core, 2 here; the
  actor gets one, Ray sets its OMP_NUM_THREADS=1, the other core is left for reading, writing and Ray itself:
  an actor pool holding every CPU can leave Ray Data no CPU to read with, and the job hangs).

Wall s: from the start of the process to its exit; rows/s = rows / wall s, and its ratio to both single-process
rows. Steady rows/s, the time inside: rows finished after the first output / time from the first output to the
last; single process: its stdout lines, as they arrive (it writes 64 lines at a time), Ray: the output files'
modification times (one file per block, written when the block has passed the actor), so it leaves out start-up
(imports, ray.init, actor start, model load) and shut-down. The timeline lines give those instants. Peak RSS:
single process, its own maximum (ru_maxrss from wait4); Ray, the largest sum, over samples every 0.2 s, of the
resident sets of the driver and all its descendants (GCS, raylet, dashboard, log monitor, the Ray Data actor and
tasks, Ray's helper actors); shared pages (the object store) count in every process that maps them.
"Results = single": output rows whose text and spans (path, text, start, end; not probabilities, whose last
digits move with batch composition and thread count) the default single-process run also gave.

Start-up cost, measured in this process after the runs: `ray.init(num_cpus=2)`; the first output batch of
`extract_dataset` on 2 texts (Ray Data's executor, a new actor process that imports erniem and torch and loads
the model, then 2 texts); `ray.shutdown()`; and for comparison, in a fresh Python with OMP_NUM_THREADS=1, the
import of erniem.uie, the model load and the same 2 texts.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from erniem.cli.streaming import CHUNK  # lines the single-process CLI writes at a time
from uie import checkpoint, corpus_texts, spans

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ["person", "organization"]
SAMPLE_EVERY = 0.2  # seconds between memory samples
RAY_POOL = ["--actors", "1", "--cpus-per-actor", "1"]


@dataclass
class Run:
    """One CLI process: its timings (seconds from its start), output and memory."""

    name: str
    wall: float
    rows: int
    outputs: list[tuple[float, int]]  # (seconds from start, rows finished by then), in time order
    peak_rss: int  # bytes
    results: Counter = field(default_factory=Counter)  # (text, its spans) -> count
    summary: str = ""
    summary_at: float | None = None

    @property
    def steady(self) -> float | None:
        """Rows/s from the first output to the last (None with a single output)."""
        (first, done), (last, total) = self.outputs[0], self.outputs[-1]
        return (total - done) / (last - first) if last > first else None


def tiny_model(folder: Path) -> Path:
    """A 1-layer, 32-wide random UIE-M over the real vocabulary (tests/conftest.py's `small`), saved in `folder`."""
    import torch

    import erniem
    from erniem.vocabulary import real_vocabulary

    vocabulary = real_vocabulary()
    tokenizer = erniem.ErnieMTokenizer(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
    erniem.ErnieMForInformationExtraction(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def input_texts(rows: int) -> list[str]:
    """`rows` short corpus texts: 64 lines of each of 8 languages, cycled."""
    return list(itertools.islice(itertools.cycle(corpus_texts(64, 0)["short"]), rows))


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of `process` and all its descendants (those that exit meanwhile count as 0)."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_cli(name: str, arguments: list[str], environment: dict, texts: list[str], output: Path | None) -> Run:
    """Run `python -m erniem.cli extract ARGUMENTS`, timing its stdout lines (single process) or the files it
    writes under `output` (Ray), and sampling the memory of its process tree."""
    command = [sys.executable, "-m", "erniem.cli", "extract", *arguments]
    lines: list[tuple[float, str]] = []
    errors: list[tuple[float, str]] = []
    peak = 0
    start_wall, start = time.time(), time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)

    def read(stream, into: list) -> None:
        for line in stream:
            into.append((time.perf_counter() - start, line))

    streams = ((child.stdout, lines), (child.stderr, errors))
    readers = [threading.Thread(target=read, args=pair, daemon=True) for pair in streams]
    for reader in readers:
        reader.start()
    stopped = threading.Event()

    def sample() -> None:
        nonlocal peak
        process = psutil.Process(child.pid)
        while not stopped.wait(SAMPLE_EVERY):
            peak = max(peak, tree_rss(process))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stopped.set()
    for thread in (*readers, sampler):
        thread.join()
    if child.returncode:
        sys.exit(f"{' '.join(command)} failed ({child.returncode}):\n{''.join(line for _, line in errors)[-3000:]}")
    summaries = [(at, line.strip()) for at, line in errors if line.startswith("erniem extract:")]
    if output is None:  # single process: one result per line, in input order
        times = [at for at, _ in lines]
        chunk = min(CHUNK, len(times))
        outputs = [(times[chunk - 1], chunk), (times[-1], len(times))]
        answers = [json.loads(line) for _, line in lines]
        results = Counter(zip(texts, map(canonical, answers), strict=True))
        return Run(name, wall, len(lines), outputs, usage.ru_maxrss * 1024, results)
    outputs, done, results = [], 0, Counter()
    for path in sorted(output.iterdir(), key=lambda path: path.stat().st_mtime):
        written = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        done += len(written)
        outputs.append((path.stat().st_mtime - start_wall, done))
        results.update((row["text"], canonical(json.loads(row["result"]))) for row in written if row["result"])
    summary_at, summary = summaries[-1] if summaries else (None, "no summary line")
    return Run(name, wall, done, outputs, max(peak, usage.ru_maxrss * 1024), results, summary, summary_at)


def canonical(result: dict) -> frozenset:
    """The spans (path, text, start, end) of one result; probabilities left out (batch composition moves their
    last digits)."""
    return frozenset(spans([result])[0])


def start_up_cost(model: Path, texts: list[str]) -> dict[str, float]:
    """Seconds of ray.init, of the first output batch on 2 texts, of ray.shutdown, and of a plain load in a fresh
    process (import, load, the same 2 texts)."""
    import ray
    import ray.data

    from erniem.distributed import extract_dataset

    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    initialised = time.perf_counter()
    rows = ray.data.from_items([{"text": text} for text in texts[:2]])
    found = extract_dataset(rows, str(model), SCHEMA, schema_lang="en", actors=1, cpus_per_actor=1)
    next(iter(found.iter_batches(batch_size=None)))
    first_batch = time.perf_counter()
    ray.shutdown()
    stopped = time.perf_counter()
    plain = (
        "import sys, time\nstart = time.perf_counter()\nfrom erniem.uie import UIEPipeline\n"
        f"pipeline = UIEPipeline.from_pretrained({str(model)!r}, {SCHEMA!r}, schema_lang='en')\n"
        f"pipeline({texts[:2]!r})\nprint(time.perf_counter() - start)"
    )
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    loaded = subprocess.run([sys.executable, "-c", plain], capture_output=True, text=True, env=environment, check=True)
    return {
        "ray.init(num_cpus=2)": initialised - start,
        "first output batch of extract_dataset (2 texts), after ray.init": first_batch - initialised,
        "ray.shutdown()": stopped - first_batch,
        "plain process (OMP_NUM_THREADS=1): import erniem.uie, load, 2 texts": float(loaded.stdout.split()[-1]),
    }


def table(runs: list[Run], rows: int) -> list[str]:
    """Markdown rows: throughput, ratios to both single-process runs, steady rate, memory, agreement."""
    single, single_one = runs[0], runs[1]
    lines = [
        "| engine | rows | wall s | rows/s | × single | × single 1 thread | steady rows/s | peak RSS GiB "
        "| results = single |",
        "|" + "---|" * 9,
    ]
    for run in runs:
        speed = run.rows / run.wall
        ratios = [f"{speed / (other.rows / other.wall):.2f}" for other in (single, single_one)]
        steady = f"{run.steady:.1f}" if run.steady else "n/a"
        agree = f"{sum((run.results & single.results).values())}/{rows}"
        lines.append(
            f"| {run.name} | {run.rows} | {run.wall:.1f} | {speed:.1f} | {' | '.join(ratios)} | {steady} "
            f"| {run.peak_rss / 2**30:.2f} | {agree} |"
        )
    return lines


def timeline(run: Run) -> str:
    """When the first and last outputs came, and the summary line (Ray), in seconds from the process start."""
    (first, done), (last, total) = run.outputs[0], run.outputs[-1]
    parts = [f"first output ({done} rows) at {first:.1f} s", f"last ({total} rows) at {last:.1f} s"]
    if run.summary_at is not None:
        parts.append(f"summary at {run.summary_at:.1f} s ({run.summary!r})")
    return f"- {run.name}: {', '.join(parts)}, exit at {run.wall:.1f} s; {len(run.outputs)} outputs timed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000, help="input rows (default 2000)")
    parser.add_argument("--model", type=Path, help="UIE-M directory (default: the random base UIE-M)")
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "artifacts" / "uie-m-base-random")
    parser.add_argument("--tiny", action="store_true", help="a 1-layer, 32-wide random model: a quick check")
    arguments = parser.parse_args()
    begin, load = time.perf_counter(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        if arguments.tiny:
            model, label = tiny_model(folder / "tiny"), "tiny random UIE-M (hidden 32, 1 layer)"
        elif arguments.model:
            model, label = arguments.model, str(arguments.model)
        else:
            model, label = checkpoint(arguments.checkpoint)[1], f"{arguments.checkpoint} (random base UIE-M)"
        (model / "model.safetensors").read_bytes()  # page cache: no run reads it cold
        texts = input_texts(arguments.rows)
        source, schema = folder / "in.jsonl", folder / "schema.json"
        source.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), "utf-8")
        schema.write_text(json.dumps(SCHEMA), encoding="utf-8")
        common = ["--model", str(model), "--schema", str(schema), "--schema-lang", "en"]
        plain = {key: value for key, value in os.environ.items() if key not in ("OMP_NUM_THREADS", "RAY_ADDRESS")}
        ray_engine = ["--engine", "ray", "--address", "local", *RAY_POOL]
        engines = [  # (row, options, environment, the folder Ray writes)
            ("single process", [], plain, None),
            ("single process, OMP_NUM_THREADS=1", [], {**plain, "OMP_NUM_THREADS": "1"}, None),
            ("ray, 1 actor × 1 CPU", ray_engine, plain, folder / "out"),
        ]
        runs = [
            run_cli(name, [*common, *options, str(source), *([str(output)] if output else [])], env, texts, output)
            for name, options, env, output in engines
        ]
        costs = start_up_cost(model, texts)

    import ray
    import torch

    memory = psutil.virtual_memory().total / 2**30
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB; torch "
        f"{torch.__version__} ({torch.get_num_threads()} threads by default); ray {ray.__version__}; Python "
        f"{platform.python_version()}; load average {load:.1f} at the start"
    )
    print(f"model: {label}; {arguments.rows} rows of {sum(map(len, texts)) / len(texts):.0f} characters on average")
    print(f"schema {SCHEMA}, schema_lang en; one run per row\n")
    print("\n".join(table(runs, arguments.rows)))
    print("\nTimeline (seconds from the process start):")
    print("\n".join(timeline(run) for run in runs))
    print("\nRay start-up cost (in this process, after the runs):")
    print("\n".join(f"- {name}: {seconds:.2f} s" for name, seconds in costs.items()))
    print(f"total {time.perf_counter() - begin:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
