"""Named-entity recognition helpers: word labels onto subword tokens, and entity-level scores.

Entity scores follow conlleval (and seqeval's default mode): a chunk starts at `B-`, at `I-` after `O` or
after another type, and ends where the next chunk starts or at `O`; a predicted entity counts when its type,
first and last token all match a gold one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..scores import scores_by_type
from .skipped import OnError, Skipped, filled

IGNORE = -100  # the label index transformers' losses skip


def align_labels(
    word_ids: Sequence[int | None], word_labels: Sequence[int], label_all_subwords: bool = False
) -> list[int]:
    """Token labels from word labels: the word's label on its first subword, `IGNORE` on special tokens and (unless
    `label_all_subwords`) on the word's other subwords.

    Raises:
        ValueError: a token points to a word that has no label.
    """
    labels, previous = [], None
    for word in word_ids:
        if word is None:
            labels.append(IGNORE)
        elif not 0 <= word < len(word_labels):
            raise ValueError(f"token of word {word}, but only {len(word_labels)} word labels were given")
        elif word != previous or label_all_subwords:
            labels.append(word_labels[word])
        else:
            labels.append(IGNORE)
        previous = word
    return labels


def entities(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """The (type, first, last) chunks of a tag sequence (IOB1/IOB2 tags such as `B-PER`, `I-PER`, `O`)."""
    found, start, kind = set(), None, None
    for index, tag in enumerate([*tags, "O"]):
        prefix, _, tag_kind = tag.partition("-")
        if prefix not in ("B", "I", "O") or (prefix != "O" and not tag_kind):
            raise ValueError(f"tag {index} {tag!r} is not O, B-TYPE or I-TYPE")
        begins = prefix == "B" or (prefix == "I" and tag_kind != kind)
        if start is not None and (prefix == "O" or begins):
            found.add((kind, start, index - 1))
            start, kind = None, None
        if begins:
            start, kind = index, tag_kind
    return found


def entity_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, dict]:
    """Micro precision/recall/F1 of entities over sentences: `{"overall": score, "types": {type: score}}`."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold and {len(predicted)} predicted sentences")
    for number, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted, strict=True)):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(f"sentence {number}: {len(gold_tags)} gold tags, {len(predicted_tags)} predicted")
    return scores_by_type((entities(g), entities(p)) for g, p in zip(gold, predicted, strict=True))


def encode_words(
    tokenizer,
    words: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    label2id: Mapping[str, int],
    max_length: int = 512,
    label_all_subwords: bool = False,
    on_error: OnError = "skip",
) -> tuple[list[dict], Skipped]:
    """Training features `{"input_ids", "labels"}` from sentences of words and their tags (`align_labels` puts
    each word's label on its first subword), and what was left out: empty sentences, sentences whose words and
    tags differ in number, and tags not in `label2id` (counted, or raised with `on_error="raise"`).

    `tokenizer` must be a fast tokenizer (it gives `word_ids()`).
    """
    if len(words) != len(tags):
        raise ValueError(f"got {len(words)} sentences of words and {len(tags)} of tags")
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("encode_words needs a fast tokenizer (ErnieMTokenizerFast; AutoTokenizer gives one)")
    skipped = Skipped(on_error)
    kept = []
    for index, (sentence, sentence_tags) in enumerate(zip(words, tags, strict=True)):
        unknown = sorted(set(sentence_tags) - set(label2id))
        if not sentence or not all(filled(word) for word in sentence):
            skipped(index, "empty sentence or word")
        elif len(sentence) != len(sentence_tags):
            skipped(index, "words and tags differ in number", f"{len(sentence)} words, {len(sentence_tags)} tags")
        elif unknown:
            skipped(index, "unknown label", f"{unknown} not in {sorted(label2id)}")
        else:
            kept.append(index)
    if not kept:
        return [], skipped
    encoded = tokenizer([list(words[i]) for i in kept], is_split_into_words=True, truncation=True,
                        max_length=max_length)  # fmt: skip
    features = []
    for row, index in enumerate(kept):
        word_labels = [label2id[tag] for tag in tags[index]]
        labels = align_labels(encoded.word_ids(row), word_labels, label_all_subwords)
        features.append({"input_ids": encoded["input_ids"][row], "labels": labels})
    return features, skipped
