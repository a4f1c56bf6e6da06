"""UIE extraction throughput: erniem's pipeline against a Taskflow-style loop on the same model, in one run.

    python benchmarks/uie.py [--model artifacts/uie-demo/model] [--rounds 3]

The model is the one `bash scripts/demo.sh` fine-tunes (run that first), with its schema (four entity types
and a relation). The Taskflow-style loop is PaddleNLP Taskflow's computation (`compat="taskflow"`): the
schema predicted node by node, texts cut into character slices of max_seq_len - len(longest prompt) - 3,
every input padded to 512. erniem: the pipeline's default mode (token windows, a whole schema level per
batch, sorted by length, the padding computed once per row). Both compute the same numbers for a text that
fits one window; long texts are windowed differently. Texts/s from the best of `--rounds` alternating
rounds; the results of both sides are compared span by span.

max_seq_len 512. Short texts: two template sentences (~60 tokens). Long texts: ~4,000 characters of them, one
per line, languages mixed, with `split_sentence` on both sides (the demo model was trained on single
sentences; Taskflow's splitter, reproduced by `compat="taskflow"`, breaks lines too).
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import uie_data  # noqa: E402

from erniem.uie import UIEPipeline  # noqa: E402


def texts(count: int, characters: int, seed: int, separator: str = " ") -> list[str]:
    """`count` texts of template sentences, each at least `characters` long."""
    sentences = [record["text"] for record in uie_data.dataset(count * max(2, characters // 40), seed)]
    random.Random(seed).shuffle(sentences)
    made, current = [], ""
    for sentence in sentences:
        current = f"{current}{separator}{sentence}" if current else sentence
        if len(current) >= characters:
            made.append(current)
            current = ""
            if len(made) == count:
                break
    return made


def spans(results: list[dict]) -> list[set]:
    """Each text's extractions as a set of (path, text, start, end)."""

    def walk(found: dict, path: tuple, into: set) -> None:
        for name, extractions in found.items():
            for extraction in extractions:
                into.add((*path, name, extraction["text"], extraction.get("start"), extraction.get("end")))
                walk(extraction.get("relations", {}), (*path, name, extraction["text"]), into)

    sets = []
    for result in results:
        into: set = set()
        walk(result, (), into)
        sets.append(into)
    return sets


def measure(pipeline, batch: list[str], rounds_results: list) -> float:
    with torch.inference_mode():
        start = time.perf_counter()
        results = pipeline(batch)
        elapsed = time.perf_counter() - start
    rounds_results.append(results)
    return len(batch) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "artifacts" / "uie-demo" / "model")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--short", type=int, default=64, help="short texts")
    parser.add_argument("--long", type=int, default=12, help="long texts")
    arguments = parser.parse_args()
    if not (arguments.model / "config.json").is_file():
        print(f"no model at {arguments.model}: run `bash scripts/demo.sh` first, or pass --model", file=sys.stderr)
        return 1
    torch.manual_seed(0)
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    suites = (  # name, texts, split_sentence
        ("short", texts(arguments.short, 160, 11), False),
        ("long", texts(arguments.long, 4000, 12, separator="\n"), True),
    )
    for label, batch, split_sentence in suites:
        sides = {
            name: UIEPipeline.from_pretrained(
                arguments.model, uie_data.SCHEMA, schema_lang="en", compat=compat, split_sentence=split_sentence
            )
            for name, compat in (("Taskflow-style loop", "taskflow"), ("erniem UIEPipeline", "fast"))
        }
        tokenizer = sides["erniem UIEPipeline"].tokenizer
        tokens = sum(len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in batch) / len(batch)
        speeds: dict[str, float] = {name: 0.0 for name in sides}
        results: dict[str, list] = {name: [] for name in sides}
        for _ in range(arguments.rounds):
            for name, pipeline in sides.items():
                speeds[name] = max(speeds[name], measure(pipeline, batch, results[name]))
        baseline, ours = (spans(results[name][-1]) for name in sides)
        same = sum(a == b for a, b in zip(baseline, ours, strict=True))
        shared = sum(len(a & b) for a, b in zip(baseline, ours, strict=True))
        print(f"\n{label} texts: {len(batch)}, {tokens:.0f} tokens each on average; split_sentence={split_sentence}")
        reference = speeds["Taskflow-style loop"]
        for name, speed in speeds.items():
            print(f"  {name:20} {speed:8.2f} texts/s  {speed / reference:5.2f}x")
        print(
            f"  results: {same}/{len(batch)} texts identical; spans found by both {shared}, "
            f"only by the loop {sum(map(len, baseline)) - shared}, only by erniem {sum(map(len, ours)) - shared}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
