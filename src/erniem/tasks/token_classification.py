"""Named-entity recognition helpers: word labels onto subword tokens, and entity-level scores.

Entity scores follow conlleval (and seqeval's default mode): a chunk starts at `B-`, at `I-` after `O` or
after another type, and ends where the next chunk starts or at `O`; a predicted entity counts when its type,
first and last token all match a gold one.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..scores import Score

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
    overall, types = Score(), {}
    for number, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted, strict=True)):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError(f"sentence {number}: {len(gold_tags)} gold tags, {len(predicted_tags)} predicted")
        gold_entities, predicted_entities = entities(gold_tags), entities(predicted_tags)
        overall.add(gold_entities, predicted_entities)
        for kind in {entity[0] for entity in gold_entities | predicted_entities}:
            types.setdefault(kind, Score()).add(
                {e for e in gold_entities if e[0] == kind}, {e for e in predicted_entities if e[0] == kind}
            )
    return {"overall": overall.to_dict(), "types": {kind: s.to_dict() for kind, s in sorted(types.items())}}
