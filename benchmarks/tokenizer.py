"""Tokenizer throughput: the references against erniem's slow and fast tokenizers, measured in one run.

    python benchmarks/tokenizer.py [--repeats 5]

One batch call on 1,000 lines of the multilingual test corpus (every 33rd line: all 47 languages and the
hard cases), real vocabulary; then the same lines one call each ("one text": the mean time of a call). Without
offsets the reference is transformers 4.39.3's ErnieMTokenizer (it cannot return offsets); with offsets it is
PaddleNLP 2.8.1's, on the lines where PaddleNLP does not crash (all tokenizers then get those same lines).
"AutoTokenizer" is the class `transformers.AutoTokenizer` returns for a saved ERNIE-M tokenizer
(`ErnieMTokenizerFast`); "its backend alone" is that class with its direct path switched off (every call through
its `tokenizers` backend and Python pre-tokenizer, see `erniem.fast_encoding`). Figures are the best of
`--repeats` calls after a warm-up (the least disturbed by other work on the machine); tokens/s counts the ids
returned, special tokens included. The references run in their own virtualenvs through this same file
(`--worker`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "multilingual.tsv"
ENVS = {"transformers": ".venv-ref", "paddlenlp": ".venv-paddle"}


def sample_lines() -> list[str]:
    rows = CORPUS.read_text(encoding="utf-8").split("\n")[1:]
    return [row.split("\t", 2)[2] for row in rows if row][::33][:1000]


def best_seconds(call, repeats: int) -> float:
    call()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        timings.append(time.perf_counter() - start)
    return min(timings)


def worker(backend: str, vocabulary: Path, repeats: int) -> dict:
    """Runs inside a reference virtualenv."""
    model, vocab = str(vocabulary / "sentencepiece.bpe.model"), str(vocabulary / "vocab.txt")
    lines = sample_lines()
    if backend == "transformers":
        from transformers import ErnieMTokenizer

        tokenizer = ErnieMTokenizer(model, vocab)
        return {
            "plain": best_seconds(lambda: tokenizer(lines), repeats),
            "one text": best_seconds(lambda: [tokenizer(line) for line in lines], repeats),
        }
    from paddlenlp.transformers import ErnieMTokenizer

    tokenizer = ErnieMTokenizer(vocab, model)
    safe = []
    for index, line in enumerate(lines):
        try:
            tokenizer(line, return_offsets_mapping=True)
            safe.append(index)
        except ValueError:  # "substring not found": PaddleNLP's offset search fails on this line
            pass
    kept = [lines[i] for i in safe]
    return {
        "plain": best_seconds(lambda: tokenizer(lines, return_attention_mask=False), repeats),
        "offsets": best_seconds(
            lambda: tokenizer(kept, return_offsets_mapping=True, return_attention_mask=False), repeats
        ),
        "one text offsets": best_seconds(
            lambda: [tokenizer(line, return_offsets_mapping=True, return_attention_mask=False) for line in kept],
            repeats,
        ),
        "safe": safe,
    }


def run_worker(backend: str, vocabulary: Path, repeats: int) -> dict:
    python = Path(os.environ.get(f"ERNIEM_{backend.upper()}_PYTHON", ROOT / ENVS[backend] / "bin" / "python"))
    if not python.exists():
        sys.exit(f"{backend} reference env not found at {python}: run `bash scripts/build_reference_env.sh`")
    command = [str(python), __file__, "--worker", backend, "--vocabulary", str(vocabulary), "--repeats", str(repeats)]
    result = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""})
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--vocabulary", type=Path, help="folder with the real vocabulary (default: build/cache it)")
    parser.add_argument("--worker", choices=list(ENVS), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.worker:
        print(json.dumps(worker(arguments.worker, arguments.vocabulary, arguments.repeats)))
        return

    import tempfile

    from transformers import AutoTokenizer

    import erniem
    from erniem.vocabulary import real_vocabulary

    class BackendAlone(erniem.ErnieMTokenizerFast):
        def _encode_directly(self, text, text_pair, options):
            return None

    vocabulary = arguments.vocabulary or real_vocabulary()
    files = (str(vocabulary / "sentencepiece.bpe.model"), str(vocabulary / "vocab.txt"))
    lines = sample_lines()
    transformers_reference = run_worker("transformers", vocabulary, arguments.repeats)
    paddle_reference = run_worker("paddlenlp", vocabulary, arguments.repeats)
    kept = [lines[i] for i in paddle_reference["safe"]]
    slow, backend = erniem.ErnieMTokenizer(*files), BackendAlone(*files)
    with tempfile.TemporaryDirectory() as directory:
        slow.save_pretrained(directory)
        auto = AutoTokenizer.from_pretrained(directory)
    tokens = {"ids": sum(map(len, slow(lines)["input_ids"])), "offsets": sum(map(len, slow(kept)["input_ids"]))}
    counts = {"ids": len(lines), "offsets": len(kept)}
    tokenizers = {
        "erniem ErnieMTokenizer": slow,
        f"AutoTokenizer ({type(auto).__name__})": auto,
        "  its backend alone": backend,
    }
    runs = {
        ("ids", "reference transformers 4.39.3"): transformers_reference["plain"],
        ("ids", "reference PaddleNLP 2.8.1"): paddle_reference["plain"],
        **{("ids", name): best_seconds(lambda t=t: t(lines), arguments.repeats) for name, t in tokenizers.items()},
        ("offsets", "reference PaddleNLP 2.8.1"): paddle_reference["offsets"],
        **{
            ("offsets", name): best_seconds(lambda t=t: t(kept, return_offsets_mapping=True), arguments.repeats)
            for name, t in tokenizers.items()
        },
    }
    one_text = {
        ("ids", "reference transformers 4.39.3"): transformers_reference["one text"],
        **{
            ("ids", name): best_seconds(lambda t=t: [t(line) for line in lines], arguments.repeats)
            for name, t in tokenizers.items()
        },
        ("offsets", "reference PaddleNLP 2.8.1"): paddle_reference["one text offsets"],
        **{
            ("offsets", name): best_seconds(
                lambda t=t: [t(line, return_offsets_mapping=True) for line in kept], arguments.repeats
            )
            for name, t in tokenizers.items()
        },
    }
    baselines = {"ids": runs[("ids", "reference transformers 4.39.3")], "offsets": paddle_reference["offsets"]}
    print(
        f"# {len(lines)} corpus lines, one batch call, best of {arguments.repeats}; offsets on the "
        f"{len(kept)} lines PaddleNLP can offset"
    )
    print(f"{'mode':<9} {'tokenizer':<40} {'lines/s':>9} {'tokens/s':>10} {'vs reference':>13}")
    for (mode, name), seconds in runs.items():
        ratio = baselines[mode] / seconds
        print(f"{mode:<9} {name:<40} {counts[mode] / seconds:>9.0f} {tokens[mode] / seconds:>10.0f} {ratio:>12.2f}x")
    print("# one text per call: mean latency of a call (µs)")
    one_baselines = {mode: one_text[(mode, name)] for (mode, name) in one_text if name.startswith("reference")}
    for (mode, name), seconds in one_text.items():
        ratio = one_baselines[mode] / seconds
        print(f"{mode:<9} {name:<40} {seconds / counts[mode] * 1e6:>9.1f} {'':>10} {ratio:>12.2f}x")
    print("# reference: transformers 4.39.3 without offsets (it has none), PaddleNLP 2.8.1 with offsets")


if __name__ == "__main__":
    main()
