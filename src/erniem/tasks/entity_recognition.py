"""Named-entity recognition over raw text: entity spans with character offsets into the text.

A text is cut into words (at whitespace, or the caller's words, e.g. from a morphological analyser for
languages written without spaces) and tagged word by word, each word by its first subword, as
`token_classification.encode_words` trains the head. Texts longer than `max_length` tokens are cut into
overlapping windows; a word seen by several windows takes the tag of the window where it sits farthest from a
border. Entities are the chunks of the word tags (`token_classification.entities`), so labels must be IOB tags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .batching import pad_rows, run_batches
from .skipped import filled
from .token_classification import entities


@dataclass(frozen=True)
class Entity:
    """An entity: `text == source[start:end]` (character offsets, end exclusive); `score` is the mean probability
    of its words' tags."""

    type: str
    text: str
    start: int
    end: int
    score: float


def word_spans(text: str, words: Sequence[str] | None = None) -> list[tuple[int, int]]:
    """Character spans of the words of `text`: whitespace-separated, or `words` found in order in the text.

    Raises:
        ValueError: one of `words` is empty or does not occur in the text after the previous word.
    """
    if words is None:
        return [match.span() for match in re.finditer(r"\S+", text)]
    spans, position = [], 0
    for index, word in enumerate(words):
        start = text.find(word, position) if filled(word) else -1
        if start < 0:
            raise ValueError(f"word {index} {word!r} does not occur in the text after character {position}")
        spans.append((start, start + len(word)))
        position = start + len(word)
    return spans


def recognize(
    model,
    tokenizer,
    texts: Sequence[str],
    words: Sequence[Sequence[str] | None] | None = None,
    max_length: int = 512,
    stride: int = 128,
    batch_size: int = 32,
) -> list[list[Entity]]:
    """The entities of each text, in order of position.

    Args:
        words: each text's words, which must occur in the text in order; None (for all texts, or for one)
            splits at whitespace.

    Raises:
        ValueError: the tokenizer is not a fast one, texts and word lists differ in number, or a text is not a
            string.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("recognize needs a fast tokenizer (ErnieMTokenizerFast; AutoTokenizer gives one)")
    if words is not None and len(words) != len(texts):
        raise ValueError(f"got {len(texts)} texts and {len(words)} word lists")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"text {index} is {type(text).__name__}, not a string")
    spans = [word_spans(text, None if words is None else words[i]) for i, text in enumerate(texts)]
    worded = [index for index, text_spans in enumerate(spans) if text_spans]
    if not worded:
        return [[] for _ in texts]
    encoded = tokenizer(
        [[texts[i][s:e] for s, e in spans[i]] for i in worded],
        is_split_into_words=True,
        truncation=True,
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
    )

    def read(output, position: int, row) -> torch.Tensor:
        return torch.softmax(output.logits[position, : len(row)].float(), -1).cpu()

    probabilities = run_batches(
        model, encoded["input_ids"], lambda batch: pad_rows(batch, tokenizer.pad_token_id), read, batch_size
    )
    best: dict[int, dict[int, tuple[int, torch.Tensor]]] = {}  # example -> word -> (distance to border, probs)
    previous_example, previous_words = -1, set()  # of the last window
    for window, example in enumerate(encoded["overflow_to_sample_mapping"]):
        word_ids = encoded.word_ids(window)
        tokens = [t for t, word in enumerate(word_ids) if word is not None]
        for t in tokens:
            word = word_ids[t]
            if t > tokens[0] and word_ids[t - 1] == word:
                continue  # not the word's first subword
            if t == tokens[0] and example == previous_example and word in previous_words:
                continue  # the window may start inside this word; the previous window has its first subword
            distance = min(t - tokens[0], tokens[-1] - t)
            if distance > best.setdefault(example, {}).get(word, (-1, None))[0]:
                best[example][word] = (distance, probabilities[window][t])
        previous_example, previous_words = example, set(word_ids) - {None}
    names = model.config.id2label
    found: list[list[Entity]] = [[] for _ in texts]
    for example, index in enumerate(worded):
        chosen = best.get(example, {})
        tags = [names[int(chosen[w][1].argmax())] if w in chosen else "O" for w in range(len(spans[index]))]
        for kind, first, last in sorted(entities(tags), key=lambda chunk: chunk[1]):
            start, end = spans[index][first][0], spans[index][last][1]
            score = sum(float(chosen[w][1].max()) for w in range(first, last + 1)) / (last - first + 1)
            found[index].append(Entity(kind, texts[index][start:end], start, end, score))
    return found
