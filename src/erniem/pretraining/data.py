"""Pretraining corpora, streamed: sentences read from files as training needs them (never all in memory),
shared out between processes and data-loader workers, and mixed into one stream of single-objective batches.

Files:
- monolingual: `PATH` or `LANG=PATH`; a `.tsv` file has a header with a `text` column and optionally a
  `language` (or `lang`) column; any other file is one sentence per line. `.gz` files are read compressed.
- parallel: a `.tsv` file with a header naming `source` and `target`, and optionally `source_language` and
  `target_language` (what `scripts/build_parallel_corpus.py` writes).
"""

from __future__ import annotations

import csv
import gzip
import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import torch
from torch.utils.data import IterableDataset, get_worker_info

# Which corpus each objective reads (the paper's Table 6: MMLM and BTMLM on monolingual text, TLM and CAMLM on
# translation pairs).
CORPUS = {"mmlm": "monolingual", "btmlm": "monolingual", "tlm": "parallel", "camlm": "parallel"}

csv.field_size_limit(1 << 24)


def _open(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    return opener(path, "rt", encoding="utf-8", newline="")


def _split_language(spec: str) -> tuple[str | None, Path]:
    """`LANG=PATH` -> (LANG, PATH); `PATH` -> (None, PATH)."""
    language, sep, path = spec.partition("=")
    if sep and language and "/" not in language and not Path(spec).exists():
        return language, Path(path)
    return None, Path(spec)


def _is_tsv(path: Path) -> bool:
    return path.name.removesuffix(".gz").endswith(".tsv")


def _tsv_rows(path: Path, required: Sequence[str]) -> Iterator[dict]:
    with _open(path) as stream:
        reader = csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [name for name in required if name not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: the header names no {', '.join(missing)} column (it has {reader.fieldnames}).")
        yield from reader


def monolingual_sentences(spec: str) -> Iterator[dict]:
    """`{"text", "language"}` per non-empty sentence of one monolingual file (see the module's docstring)."""
    language, path = _split_language(spec)
    if not path.is_file():
        raise FileNotFoundError(f"No monolingual file {path}.")
    if _is_tsv(path):
        for row in _tsv_rows(path, ["text"]):
            if row["text"] and row["text"].strip():
                yield {"text": row["text"], "language": row.get("language") or row.get("lang") or language}
        return
    with _open(path) as stream:
        for line in stream:
            if line.strip():
                yield {"text": line.rstrip("\r\n"), "language": language}


def parallel_pairs(spec: str) -> Iterator[dict]:
    """`{"source", "target", "source_language", "target_language"}` per pair of one parallel TSV file."""
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"No parallel file {path}.")
    for row in _tsv_rows(path, ["source", "target"]):
        if row["source"] and row["target"]:
            yield {name: row.get(name) for name in ("source", "target", "source_language", "target_language")}


def shuffled(items: Iterable, buffer: int, generator: random.Random) -> Iterator:
    """`items` in a random order within a window of `buffer` (a buffer of 1 keeps the order)."""
    pool = []
    for item in items:
        pool.append(item)
        if len(pool) >= buffer:
            yield pool.pop(generator.randrange(len(pool)))
    generator.shuffle(pool)
    yield from pool


def endless(read: Callable[[], Iterable], what: str) -> Iterator:
    """`read()`'s items, read again from the start whenever they run out; `ValueError` when there are none."""
    for epoch in itertools.count():
        empty = True
        for item in read():
            empty = False
            yield item
        if empty:
            raise ValueError(f"No {what} to train on" + (" in this process's share." if epoch == 0 else "."))


class MixedBatches(IterableDataset):
    """An endless stream of collated batches, one objective each, drawn by weight.

    Every random choice (order, objective, masking) comes from `seed` and the process's share, so a run started
    again from a checkpoint sees the same batches again (transformers' Trainer skips those already trained on).

    Args:
        tokenizer: turns sentences into ids (no special tokens; the collators add them).
        collators: objective name (`mmlm`, `tlm`, `camlm`, `btmlm`) -> its collator.
        weights: objective name -> weight; the objective of each batch is drawn with these odds.
        monolingual, parallel: file specifications, read in turn and again from the start when exhausted.
        batch_size: examples per batch.
        shuffle_buffer: sentences held to shuffle (1: file order).
        seed: the seed of every draw.
    """

    def __init__(
        self,
        tokenizer,
        collators: Mapping[str, Callable],
        weights: Mapping[str, float],
        monolingual: Sequence[str] = (),
        parallel: Sequence[str] = (),
        batch_size: int = 32,
        shuffle_buffer: int = 10_000,
        seed: int = 0,
    ):
        super().__init__()
        unknown = set(weights) - set(CORPUS) or set(weights) - set(collators)
        if unknown:
            raise ValueError(f"No objective or collator named {sorted(unknown)}; objectives: {sorted(CORPUS)}.")
        if not weights or any(weight <= 0 for weight in weights.values()):
            raise ValueError(f"Objective weights must be positive, got {dict(weights)}.")
        files = {"monolingual": list(monolingual), "parallel": list(parallel)}
        for objective in weights:
            if not files[CORPUS[objective]]:
                raise ValueError(f"The {objective} objective needs {CORPUS[objective]} files; none were given.")
        self.tokenizer, self.collators, self.weights = tokenizer, dict(collators), dict(weights)
        self.files, self.batch_size, self.shuffle_buffer, self.seed = files, batch_size, shuffle_buffer, seed
        self.process_index, self.process_count = 0, 1

    def shard(self, process_index: int, process_count: int) -> None:
        """Read only this process's share: every `process_count`-th sentence, from the `process_index`-th."""
        if not 0 <= process_index < process_count:
            raise ValueError(f"process_index {process_index} is outside [0, {process_count}).")
        self.process_index, self.process_count = process_index, process_count

    def __iter__(self) -> Iterator[dict]:
        worker = get_worker_info()
        workers, worker_id = (worker.num_workers, worker.id) if worker is not None else (1, 0)
        share, shares = self.process_index * workers + worker_id, self.process_count * workers
        generator = random.Random(f"{self.seed}/{share}")
        torch_generator = torch.Generator().manual_seed(generator.getrandbits(63))
        streams = {
            "monolingual": self._stream("monolingual", monolingual_sentences, share, shares, generator),
            "parallel": self._stream("parallel", parallel_pairs, share, shares, generator),
        }
        objectives, weights = list(self.weights), list(self.weights.values())
        while True:
            objective = generator.choices(objectives, weights)[0]
            examples = list(itertools.islice(streams[CORPUS[objective]], self.batch_size))
            batch = self.collators[objective](self._tokenized(objective, examples), generator=torch_generator)
            yield batch | {"objective": objective}

    def _stream(self, corpus: str, read: Callable, share: int, shares: int, generator: random.Random) -> Iterator:
        def one_pass() -> Iterator:
            sentences = itertools.chain.from_iterable(read(spec) for spec in self.files[corpus])
            return shuffled(itertools.islice(sentences, share, None, shares), self.shuffle_buffer, generator)

        return endless(one_pass, f"{corpus} sentences")

    def _tokenized(self, objective: str, examples: list[dict]) -> list[dict]:
        encode = self.tokenizer
        if CORPUS[objective] == "monolingual":
            ids = encode([example["text"] for example in examples], add_special_tokens=False)["input_ids"]
            return [{"input_ids": i, "language": e["language"]} for i, e in zip(ids, examples, strict=True)]
        sources = encode([example["source"] for example in examples], add_special_tokens=False)["input_ids"]
        targets = encode([example["target"] for example in examples], add_special_tokens=False)["input_ids"]
        return [
            {
                "source_ids": s,
                "target_ids": t,
                "source_language": e["source_language"],
                "target_language": e["target_language"],
            }
            for s, t, e in zip(sources, targets, examples, strict=True)
        ]
