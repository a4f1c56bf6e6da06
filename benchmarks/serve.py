"""`erniem serve` under load on loopback: closed-loop clients against the HTTP service, beside the offline pipeline.

    python benchmarks/serve.py                                  # 1, 8 and 64 clients, 20 s each (~2 min on 2 cores)
    python benchmarks/serve.py --seconds 10 --concurrency 1 8   # shorter
    python benchmarks/serve.py --dtype bf16 --model DIR

Model: the base-size UIE-M with random weights of benchmarks/uie.py (artifacts/uie-m-base-random/erniem, built
by its `checkpoint()` when absent; it needs the PaddleNLP env), or `--model DIR`. Texts: benchmarks/uie.py's short
corpus texts (8 lines of 30-140 characters from each of 8 languages, 64 in all); schema ["person",
"organization"], schema_lang "en"; `--dtype` goes to both the service and the offline pipeline.

The service is `python -m erniem.cli serve` in a subprocess on 127.0.0.1 at its default limits (batches of up to
16384 tokens, 5 ms wait, 16 rows per forward pass), its schema given at start-up; the benchmark waits for
/health 200 and sends one request of all 64 texts as a warm-up. Then, for each `--concurrency` N, N clients
(httpx.AsyncClient, one asyncio loop) each post `/v1/extract` with one text per request, the next as soon as the
last is answered, for `--seconds`. Per N: requests/s (all answers) and texts/s (texts answered 200) over the
phase's wall time; p50/p95/p99 latency of the requests answered 200 (nearest rank); errors, non-200 answers
by status and failed requests by exception; the mean batch size (texts per model batch, from /metrics:
erniem_batch_size_sum / erniem_batch_size_count, their growth during the phase); and service texts/s over the
offline figure. Offline: `UIEPipeline.from_pretrained(model, schema, schema_lang="en")` called on the list of
64 texts in this process, after the service has stopped; best of 3 calls after a warm-up call.

On a machine with few cores (2 here) the clients share the CPUs with the server: the client loop, JSON and HTTP
take cycles the model would otherwise use, so the ratio to offline is a floor for a server with cores of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from uie import checkpoint, corpus_texts

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = ROOT / "artifacts" / "uie-m-base-random"
SCHEMA = ["person", "organization"]
DTYPES = ("fp32", "bf16", "fp16")  # erniem serve --dtype spellings
TORCH_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


@dataclass
class Phase:
    """What N clients saw during one phase."""

    clients: int
    seconds: float  # wall time, until the last answer
    latencies: list[float]  # seconds, requests answered 200
    errors: Counter  # "status 429", "ReadTimeout", ...
    batches: tuple[float, float]  # growth of erniem_batch_size_sum and _count

    @property
    def requests_per_second(self) -> float:
        return (len(self.latencies) + sum(self.errors.values())) / self.seconds

    @property
    def texts_per_second(self) -> float:
        return len(self.latencies) / self.seconds  # one text per request

    @property
    def mean_batch(self) -> float:
        texts, batches = self.batches
        return texts / batches if batches else float("nan")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def service(model: Path, dtype: str | None, startup_timeout: float = 600) -> Iterator[str]:
    """`erniem serve` on 127.0.0.1 in a subprocess, ready (/health 200); yields its base URL."""
    with tempfile.TemporaryDirectory() as folder:
        schema, log = Path(folder) / "schema.json", Path(folder) / "serve.log"
        schema.write_text(json.dumps(SCHEMA), encoding="utf-8")
        port = free_port()
        command = [
            sys.executable, "-m", "erniem.cli", "serve", "--model", str(model), "--schema", str(schema),
            "--schema-lang", "en", "--port", str(port), *(["--dtype", dtype] if dtype else []),
        ]  # fmt: skip
        with log.open("wb") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, process, log, startup_timeout)
            yield base
        finally:
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_healthy(base: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            sys.exit(f"erniem serve exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            sys.exit(f"erniem serve was not ready within {timeout:g} s:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


async def batch_totals(client: httpx.AsyncClient, base: str) -> tuple[float, float]:
    """(erniem_batch_size_sum, erniem_batch_size_count) from /metrics."""
    values = {}
    for line in (await client.get(f"{base}/metrics")).text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("erniem_batch_size_sum", "erniem_batch_size_count"):
            values[name] = float(value)
    return values["erniem_batch_size_sum"], values["erniem_batch_size_count"]


async def load(base: str, texts: list[str], clients: int, seconds: float) -> Phase:
    """`clients` closed-loop clients posting one text per request for `seconds`."""
    latencies: list[float] = []
    errors: Counter = Counter()
    limits = httpx.Limits(max_connections=clients + 1, max_keepalive_connections=clients + 1)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        before = await batch_totals(client, base)

        async def one_client(index: int, deadline: float) -> None:
            sent = index
            while time.perf_counter() < deadline:
                text = texts[sent % len(texts)]
                sent += clients
                start = time.perf_counter()
                try:
                    response = await client.post(f"{base}/v1/extract", json={"texts": [text]})
                except httpx.HTTPError as error:
                    errors[type(error).__name__] += 1
                    continue
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors[f"status {response.status_code}"] += 1

        start = time.perf_counter()
        await asyncio.gather(*(one_client(index, start + seconds) for index in range(clients)))
        elapsed = time.perf_counter() - start
        after = await batch_totals(client, base)
    return Phase(clients, elapsed, latencies, errors, (after[0] - before[0], after[1] - before[1]))


def offline_texts_per_second(model: Path, dtype: str | None, texts: list[str], rounds: int = 3) -> float:
    """Texts/s of the pipeline called on all `texts` at once: best of `rounds` calls after a warm-up call."""
    import torch

    from erniem.uie import UIEPipeline

    torch_dtype = getattr(torch, TORCH_DTYPES[dtype]) if dtype else None
    pipeline = UIEPipeline.from_pretrained(model, SCHEMA, dtype=torch_dtype, schema_lang="en")
    pipeline(texts)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        pipeline(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in [0, 1]); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def table(phases: list[Phase], offline: float, texts: int) -> list[str]:
    """Markdown rows: one per phase, then the offline pipeline's."""
    header = "| clients | requests/s | texts/s | p50 ms | p95 ms | p99 ms | errors | mean batch | × offline |"
    lines = [header, "|" + "---|" * 9]
    for phase in phases:
        latency = [f"{percentile(phase.latencies, share) * 1000:.0f}" for share in (0.50, 0.95, 0.99)]
        errors = ", ".join(f"{kind}: {count}" for kind, count in sorted(phase.errors.items())) or "0"
        lines.append(
            f"| {phase.clients} | {phase.requests_per_second:.2f} | {phase.texts_per_second:.2f} | "
            f"{' | '.join(latency)} | {errors} | {phase.mean_batch:.1f} | {phase.texts_per_second / offline:.2f} |"
        )
    lines.append(f"| offline, {texts} texts per call | | {offline:.2f} | | | | | {texts} | 1.00 |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help=f"a UIE-M directory (default: {CHECKPOINT / 'erniem'})")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each concurrency phase")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64], help="clients, one phase each")
    parser.add_argument("--dtype", choices=DTYPES, help="the model's dtype, in the service and offline")
    arguments = parser.parse_args()
    model = arguments.model or CHECKPOINT / "erniem"
    if arguments.model is None and not (model / "model.safetensors").is_file():
        model = checkpoint(CHECKPOINT)[1]
    texts = corpus_texts(8, 0)["short"]
    start = time.perf_counter()
    phases = []
    with service(model, arguments.dtype) as base:
        httpx.post(f"{base}/v1/extract", json={"texts": texts}, timeout=600).raise_for_status()  # warm-up
        for clients in arguments.concurrency:
            phases.append(asyncio.run(load(base, texts, clients, arguments.seconds)))
    offline = offline_texts_per_second(model, arguments.dtype, texts)

    import torch

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores shared by server and clients; "
        f"torch {torch.__version__}; dtype {arguments.dtype or 'fp32'}; {arguments.seconds:g} s per phase"
    )
    print(f"model: {model}; {len(texts)} short texts, {sum(map(len, texts)) / len(texts):.0f} characters each; "
          f"schema {SCHEMA}\n")  # fmt: skip
    print("\n".join(table(phases, offline, len(texts))))
    print(f"\ntotal {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
