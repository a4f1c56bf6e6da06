"""Length-aware batching: the task inference functions and the UIE pipeline on a mixed-length set, rows sorted by
length before batching (`erniem.tasks.batching.length_batches`, which both use) against input-order batches.

    python benchmarks/batching.py [--texts 128] [--batch-size 16] [--rounds 3]

Texts are corpus lines (tests/data/multilingual.tsv, 47 languages) joined into passages of 1 to 48 lines, so
lengths range from a few tokens to the 512-token limit. A classification model with random weights and
half the base width (384 hidden, 6 layers, real vocabulary size) runs `classify` over them, and a UIE model of
the same size extracts two entity types from them (two prompts per text, windows of 512 tokens). Both orders
give the same results (checked); each keeps its fastest of `--rounds` alternating rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from pathlib import Path
from unittest import mock

import torch

import erniem
from erniem.tasks import batching, classification
from erniem.uie import UIEPipeline
from erniem.uie import pipeline as uie_pipeline
from erniem.vocabulary import real_vocabulary

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "multilingual.tsv"


def passages(count: int, seed: int = 0) -> list[str]:
    lines = [row.split("\t", 2)[2] for row in CORPUS.read_text(encoding="utf-8").split("\n")[1:] if row]
    generator = random.Random(seed)
    return [" ".join(generator.sample(lines, generator.randint(1, 48))) for _ in range(count)]


@contextlib.contextmanager
def input_order():
    """Batches in input order: `length_batches` sees every row as equally long, in both pipelines."""
    by_length = batching.length_batches
    same_length = lambda lengths, batch_size: by_length([0] * len(lengths), batch_size)  # noqa: E731
    with (
        mock.patch.object(batching, "length_batches", same_length),
        mock.patch.object(uie_pipeline, "length_batches", same_length),
    ):
        yield


def compare(name: str, run, rounds: int, same) -> None:
    """Time `run()` with length-sorted and with input-order batches, alternating; check both give `same` results."""
    best = {"sorted by length": float("inf"), "input order": float("inf")}
    results = {}
    for _ in range(rounds):
        for order, context in (("sorted by length", contextlib.nullcontext), ("input order", input_order)):
            with context():
                start = time.perf_counter()
                results[order] = run()
                best[order] = min(best[order], time.perf_counter() - start)
    for one, other in zip(results["sorted by length"], results["input order"], strict=True):
        assert same(one, other), (one, other)
    for order, seconds in best.items():
        print(f"| {name} | {order} | {seconds:.2f} | {best['input order'] / seconds:.2f}× |")


def same_labels(one, other) -> bool:
    return [label.label for label in one] == [label.label for label in other] and all(
        abs(a.score - b.score) < 1e-4 for a, b in zip(one, other, strict=True)
    )


def same_extractions(one, other) -> bool:
    spans = lambda result: {(e.text, e.start, e.end): e.probability for found in result.values() for e in found}  # noqa: E731
    a, b = spans(one), spans(other)
    return a.keys() == b.keys() and all(abs(a[key] - b[key]) < 1e-4 for key in a)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--texts", type=int, default=128)
    options.add_argument("--batch-size", type=int, default=16)
    options.add_argument("--rounds", type=int, default=3)
    arguments = options.parse_args()

    vocabulary = real_vocabulary()
    tokenizer = erniem.ErnieMTokenizerFast(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")
    dimensions = dict(vocab_size=len(tokenizer), hidden_size=384, num_hidden_layers=6, num_attention_heads=6,
                      intermediate_size=1536)  # fmt: skip
    torch.manual_seed(0)
    classifier = erniem.ErnieMForSequenceClassification(erniem.ErnieMConfig(**dimensions, num_labels=3)).eval()
    extractor = erniem.ErnieMForInformationExtraction(erniem.ErnieMConfig(**dimensions)).eval()
    with torch.no_grad():  # few spans above 0.5, so that the comparison is not decided at the threshold
        extractor.linear_start.bias.fill_(-4.0)
        extractor.linear_end.bias.fill_(-4.0)
    pipeline = UIEPipeline(extractor, erniem.ErnieMTokenizer(vocabulary / "sentencepiece.bpe.model",
                           vocabulary / "vocab.txt"), ["person", "place"], batch_size=arguments.batch_size)  # fmt: skip
    texts = passages(arguments.texts)
    lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=512)["input_ids"]]
    print(f"{len(texts)} texts, {min(lengths)}-{max(lengths)} tokens (mean {sum(lengths) / len(lengths):.0f}), "
          f"batch {arguments.batch_size}, {torch.get_num_threads()} threads, best of {arguments.rounds}")  # fmt: skip
    print("| pipeline | batching | seconds | vs input order |")
    print("|---|---|---|---|")
    compare(
        "classify (tasks)",
        lambda: classification.classify(classifier, tokenizer, texts, top_k=3, batch_size=arguments.batch_size),
        arguments.rounds,
        same_labels,
    )
    compare("UIE, 2 entity types", lambda: pipeline.extract(texts), arguments.rounds, same_extractions)


if __name__ == "__main__":
    main()
