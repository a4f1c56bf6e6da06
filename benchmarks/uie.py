"""UIE-M extraction throughput: PaddleNLP Taskflow against erniem's UIEPipeline, same checkpoint, texts and schema.

    python benchmarks/uie.py            # full: 64 short texts, 6 long ones, best of 3 rounds (~1 h on 2 cores)
    python benchmarks/uie.py --quick    # 8 short texts, 1 long one, 1 round (~7 min on 2 cores)

Checkpoint: a base-size UIE-M (hidden 768, 12 layers, vocabulary 250,002) with random weights, written by
PaddleNLP 2.8.1 itself (benchmarks/paddle_uie_m.py, in .venv-paddle, real vocabulary) and converted with
`erniem.convert.convert_checkpoint`; cached under `--checkpoint` (paddle/, erniem/, and taskflow/, a hard-linked
copy where Taskflow writes its static model). Texts from tests/data/multilingual.tsv: short = one corpus line
(30-140 characters) each from 8 languages; long = corpus lines of one language joined to 2,000+ characters.
Schemas: two entity types, and an entity with a relation; schema_lang "en", position_prob 0.5.

Rows: Taskflow ("information_extraction", model "uie-m-base", fp32, Paddle Inference, its own thread count unless
`--taskflow-threads`) at its defaults (max_seq_len 512, batch_size 16; only the first `--taskflow-texts` texts,
texts/s scaled accordingly) and at max_seq_len 128, run in .venv-paddle through benchmarks/paddle_uie_m.py;
erniem's UIEPipeline in its default mode (max_seq_len 512, batch_size 16) in fp32, bf16 and int8 (torchao
dynamic quantization, eager unless `--compile-int8`); erniem fp32 and bf16 again while another process keeps
one core busy (share of the quiet figure in the last column); with `--compat-taskflow`, erniem's Taskflow-style
computation (`compat="taskflow"`, max_seq_len 128), which must agree with Taskflow at 128 span for span.
Texts/s: best of `--rounds` calls after a warm-up call on 200 characters. "spans = TF": spans (path, text, start,
end) found by both, out of Taskflow's; random weights give arbitrary spans, so the counts are a consistency check
only: for a text that fits one window erniem's fast mode computes Taskflow's numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "multilingual.tsv"
PADDLE_SIDE = Path(__file__).with_name("paddle_uie_m.py")
LANGUAGES = ("en", "es", "fr", "de", "ru", "ar", "zh-Hant", "ja")
SCHEMAS = {"entities": ["person", "organization"], "relation": {"person": ["employer"]}}
TASKFLOW_SETTINGS = {"Taskflow max_seq_len 512": 512, "Taskflow max_seq_len 128": 128}


def paddle_side(*arguments: str) -> object:
    """Run benchmarks/paddle_uie_m.py in .venv-paddle and return the JSON it prints last."""
    python = Path(os.environ.get("ERNIEM_PADDLENLP_PYTHON", ROOT / ".venv-paddle" / "bin" / "python"))
    if not python.exists():
        sys.exit(f"PaddleNLP env not found at {python}: run `bash scripts/build_reference_env.sh`")
    command = [str(python), str(PADDLE_SIDE), *arguments]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def checkpoint(folder: Path) -> tuple[Path, Path]:
    """(Taskflow's folder, erniem's folder) of the random base UIE-M, built under `folder` unless already there."""
    from erniem.convert import convert_checkpoint
    from erniem.vocabulary import real_vocabulary

    paddle, converted, taskflow = folder / "paddle", folder / "erniem", folder / "taskflow"
    if not (paddle / "model_state.pdparams").is_file():
        start = time.perf_counter()
        shutil.rmtree(paddle, ignore_errors=True)
        paddle_side("build", str(real_vocabulary()), str(paddle))
        print(f"built {paddle} with PaddleNLP in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if not (converted / "model.safetensors").is_file():
        convert_checkpoint(paddle, converted, overwrite=True, progress=False)
    if not taskflow.is_dir():  # hard links: Taskflow adds static/ here, the source stays as PaddleNLP wrote it
        shutil.copytree(paddle, taskflow, copy_function=os.link)
    return taskflow, converted


def corpus_texts(per_language: int, long_count: int) -> dict[str, list[str]]:
    """Short texts (`per_language` lines of each language) and `long_count` texts of 2,000+ characters."""
    lines: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    for row in CORPUS.read_text(encoding="utf-8").split("\n")[1:]:
        language, _, text = row.split("\t", 2) if row.count("\t") >= 2 else ("", "", "")
        if language in lines and 30 <= len(text) <= 140:
            lines[language].append(text)
    short = [text for found in lines.values() for text in found[:: len(found) // per_language][:per_language]]
    long = []
    for index in range(long_count):
        found, text = lines[LANGUAGES[index % len(LANGUAGES)]], ""
        for line in found[index // len(LANGUAGES) * 40 :] + found:
            text = f"{text} {line}" if text else line
            if len(text) >= 2000:
                break
        long.append(text)
    return {"short": short, "long": long}


def spans(results: list[dict]) -> list[set]:
    """Each text's extractions as a set of (path, text, start, end)."""

    def walk(found: dict, path: tuple, into: set) -> None:
        for name, extractions in found.items():
            for extraction in extractions:
                into.add((*path, name, extraction["text"], extraction.get("start"), extraction.get("end")))
                walk(extraction.get("relations", {}), (*path, name, extraction["text"]), into)

    return [walk(result, (), into := set()) or into for result in results]


def agreement(ours: list[set], taskflow: list[set]) -> str:
    """Spans found by both, out of Taskflow's, over the texts Taskflow saw."""
    pairs = list(zip(ours, taskflow, strict=False))  # Taskflow at 512 saw the first texts
    return f"{sum(len(a & b) for a, b in pairs)}/{sum(len(b) for _, b in pairs)}"


def measure(loaded, schema, texts: list[str], rounds: int, warm_up: list[str], **options) -> tuple:
    """(texts/s at best of `rounds`, last results, texts seen) of a pipeline over `loaded`'s model, after a
    warm-up call on `warm_up`."""
    import torch

    from erniem.uie import UIEPipeline

    pipeline = UIEPipeline(loaded.model, loaded.tokenizer, schema, "en", **options)
    with torch.inference_mode():
        pipeline(warm_up)
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            results = pipeline(texts)
            best = min(best, time.perf_counter() - start)
    return len(texts) / best, results, len(texts)


@contextmanager
def busy_core(seconds: int):
    """Another process spinning on one core (it stops by itself after `seconds`, and is killed on exit)."""
    spin = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    process = subprocess.Popen([sys.executable, "-c", spin])
    try:
        yield
    finally:
        process.kill()
        process.wait()


def taskflow_rows(model_dir: Path, suites: dict, arguments) -> tuple[dict, int]:
    """({(text set, schema): {row: (texts/s, results, texts seen)}}, Taskflow's thread count), from one run of
    Taskflow in .venv-paddle."""
    cases, keys = [], []
    for (label, schema_name), texts in suites.items():
        for row, max_seq_len in TASKFLOW_SETTINGS.items():
            seen = texts[: arguments.taskflow_texts] if max_seq_len == 512 else texts
            schema = SCHEMAS[schema_name]
            cases.append({"schema": schema, "schema_lang": "en", "max_seq_len": max_seq_len, "batch_size": 16})
            cases[-1]["texts"] = seen
            keys.append(((label, schema_name), row, len(seen)))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cases.json"
        path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
        threads = [] if arguments.taskflow_threads is None else ["--threads", str(arguments.taskflow_threads)]
        outputs = paddle_side("taskflow", str(model_dir), str(path), "--rounds", str(arguments.rounds), *threads)
    rows: dict = {key: {} for key in suites}
    for (suite, row, seen), output in zip(keys, outputs, strict=True):
        rows[suite][row] = (seen / output["seconds"], output["results"], seen)
    return rows, outputs[0]["threads"]


def erniem_rows(model_dir: Path, suites: dict, arguments) -> dict:
    """{(text set, schema): {row: (texts/s, results, texts seen)}} for erniem's pipelines."""
    import torch

    from erniem.uie import UIEPipeline

    loads = {"fp32": {}, "bf16": {"dtype": torch.bfloat16}, "int8": {"quantize": "int8"}}
    if arguments.compile_int8:
        loads["int8"]["compile"] = True
    rows: dict = {key: {} for key in suites}
    for precision, options in loads.items():
        loaded = UIEPipeline.from_pretrained(model_dir, ["person"], **options)
        compiled = options.get("compile", False)
        for (label, schema_name), texts in suites.items():
            warm_up = texts if compiled else [texts[0][:200]]  # compiled: each batch shape compiles once
            run = partial(measure, loaded, SCHEMAS[schema_name], texts, arguments.rounds, warm_up)
            found = rows[label, schema_name]
            found[f"erniem {precision}" + (" (compiled)" if compiled else "")] = run()
            if precision != "int8":
                with busy_core(seconds=1800):
                    found[f"erniem {precision}, one busy process"] = run()
            if precision == "fp32" and arguments.compat_taskflow:
                found["erniem fp32 compat=taskflow, max_seq_len 128"] = run(compat="taskflow", max_seq_len=128)
    return rows


def table(rows: dict) -> list[str]:
    """Markdown rows: texts/s, ratios and span agreement against both Taskflow settings."""
    reference = {name: (rows[name][0], spans(rows[name][1])) for name in TASKFLOW_SETTINGS}
    lines = ["| row | texts/s | × TF 128 | × TF 512 | spans = TF 128 | spans = TF 512 | note |", "|" + "---|" * 7]
    for name, (speed, results, seen) in rows.items():
        found = spans(results)
        ratios = [f"{speed / reference[tf][0]:.2f}" for tf in reversed(TASKFLOW_SETTINGS)]
        agree = [agreement(found, reference[tf][1]) for tf in reversed(TASKFLOW_SETTINGS)]
        note = f"first {seen} texts" if seen < len(rows["Taskflow max_seq_len 128"][1]) else ""
        if name.endswith(", one busy process"):
            note = f"{speed / rows[name.removesuffix(', one busy process')][0]:.0%} of quiet"
        lines.append(f"| {name} | {speed:.2f} | {' | '.join(ratios)} | {' | '.join(agree)} | {note} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "artifacts" / "uie-m-base-random")
    parser.add_argument("--quick", action="store_true", help="1 short text per language, 1 long text, 1 round")
    parser.add_argument("--rounds", type=int, help="timed calls per row (default 3, 1 with --quick)")
    parser.add_argument("--taskflow-texts", type=int, help="texts for Taskflow at 512 (default 16, 2 with --quick)")
    parser.add_argument("--taskflow-threads", type=int, help="Taskflow's num_threads (default: its own)")
    parser.add_argument("--compile-int8", action="store_true", help="torch.compile the int8 model")
    parser.add_argument("--compat-taskflow", action="store_true", help="add erniem's Taskflow-style computation")
    arguments = parser.parse_args()
    arguments.rounds = arguments.rounds or (1 if arguments.quick else 3)
    arguments.taskflow_texts = arguments.taskflow_texts or (2 if arguments.quick else 16)
    start = time.perf_counter()
    taskflow_dir, erniem_dir = checkpoint(arguments.checkpoint)
    texts = corpus_texts(*((1, 1) if arguments.quick else (8, 6)))
    suites = {(label, schema): texts[label] for label in texts for schema in SCHEMAS}
    measured, taskflow_threads = taskflow_rows(taskflow_dir, suites, arguments)
    for suite, rows in erniem_rows(erniem_dir, suites, arguments).items():
        measured[suite].update(rows)

    import torch

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads; Taskflow with num_threads={taskflow_threads}; "
        f"best of {arguments.rounds} round(s)"
    )
    print(f"checkpoint: {arguments.checkpoint} (random base UIE-M)")
    for (label, schema_name), rows in measured.items():
        batch = suites[label, schema_name]
        characters = sum(map(len, batch)) / len(batch)
        print(f"\n### {label} texts ({len(batch)}, {characters:.0f} characters each), schema {SCHEMAS[schema_name]}\n")
        print("\n".join(table(rows)))
    print(f"\nTaskflow at 512: the first {arguments.taskflow_texts} texts of each set; texts/s per text it saw.")
    print(f"total {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
