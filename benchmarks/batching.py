"""Length-aware batching: the task inference functions on a mixed-length set, rows sorted by length before
batching (what `erniem.tasks.batching.run_batches` does) against the same batches taken in input order.

    python benchmarks/batching.py [--texts 128] [--batch-size 16] [--rounds 3]

Texts are corpus lines (tests/data/multilingual.tsv, 47 languages) joined into passages of 1 to 48 lines, so
lengths range from a few tokens to the 512-token limit. A classification model with random weights and
half the base width (384 hidden, 6 layers, real vocabulary size) runs `classify` over them. Both orders
give the same results (checked); each keeps its fastest of `--rounds` alternating rounds.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from unittest import mock

import torch

import erniem
from erniem.tasks import batching, classification
from erniem.vocabulary import real_vocabulary

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "multilingual.tsv"


def passages(count: int, seed: int = 0) -> list[str]:
    lines = [row.split("\t", 2)[2] for row in CORPUS.read_text(encoding="utf-8").split("\n")[1:] if row]
    generator = random.Random(seed)
    return [" ".join(generator.sample(lines, generator.randint(1, 48))) for _ in range(count)]


def unsorted_run_batches(model, rows, collate, read, batch_size=32, length=len):
    """run_batches with every row the same length: batches in input order."""
    return batching.run_batches(model, rows, collate, read, batch_size, length=lambda row: 0)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--texts", type=int, default=128)
    options.add_argument("--batch-size", type=int, default=16)
    options.add_argument("--rounds", type=int, default=3)
    arguments = options.parse_args()

    vocabulary = real_vocabulary()
    tokenizer = erniem.ErnieMTokenizerFast(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(
        vocab_size=len(tokenizer), hidden_size=384, num_hidden_layers=6, num_attention_heads=6,
        intermediate_size=1536, num_labels=3,
    )  # fmt: skip
    model = erniem.ErnieMForSequenceClassification(config).eval()
    texts = passages(arguments.texts)
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=512)["input_ids"]]
    print(f"{len(texts)} texts, {min(lengths)}-{max(lengths)} tokens (mean {sum(lengths) / len(lengths):.0f}), "
          f"batch size {arguments.batch_size}, torch threads {torch.get_num_threads()}")  # fmt: skip

    def timed() -> tuple[float, list]:
        start = time.perf_counter()
        found = classification.classify(model, tokenizer, texts, top_k=3, batch_size=arguments.batch_size)
        return time.perf_counter() - start, found

    best = {"sorted by length": float("inf"), "input order": float("inf")}
    results = {}
    for _ in range(arguments.rounds):
        seconds, results["sorted by length"] = timed()
        best["sorted by length"] = min(best["sorted by length"], seconds)
        with mock.patch.object(classification, "run_batches", unsorted_run_batches):
            seconds, results["input order"] = timed()
        best["input order"] = min(best["input order"], seconds)
    for one, other in zip(results["sorted by length"], results["input order"], strict=True):
        assert [label.label for label in one] == [label.label for label in other]
        assert all(abs(a.score - b.score) < 1e-4 for a, b in zip(one, other, strict=True))
    print("| batching | seconds | texts/s | vs input order |")
    print("|---|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.2f} | {len(texts) / seconds:.1f} | {best['input order'] / seconds:.2f}× |")


if __name__ == "__main__":
    main()
