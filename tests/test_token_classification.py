"""NER helpers: label alignment and conlleval-style entity scores, expected values worked out by hand."""

from __future__ import annotations

import pytest

from erniem.tasks.token_classification import IGNORE, align_labels, entities, entity_scores


def test_labels_go_on_first_subwords():
    word_ids = [None, 0, 0, 1, 2, 2, 2, None]
    assert align_labels(word_ids, [3, 0, 5]) == [IGNORE, 3, IGNORE, 0, 5, IGNORE, IGNORE, IGNORE]
    assert align_labels(word_ids, [3, 0, 5], label_all_subwords=True) == [IGNORE, 3, 3, 0, 5, 5, 5, IGNORE]
    with pytest.raises(ValueError, match="word 2"):
        align_labels(word_ids, [3, 0])


def test_chunks_follow_conlleval():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-ORG", "B-ORG", "I-ORG"]
    assert entities(tags) == {("PER", 0, 1), ("LOC", 3, 4), ("LOC", 5, 5), ("ORG", 6, 6), ("ORG", 7, 8)}
    with pytest.raises(ValueError, match="tag 1 'X-PER'"):
        entities(["O", "X-PER"])


def test_entity_scores():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "B-PER"]]
    scores = entity_scores(gold, predicted)
    # gold: PER(0,1) LOC(3,3) ORG(0,0); predicted: PER(0,0) LOC(3,3) ORG(0,0) PER(1,1) -> 2 of 4 right, 2 of 3 found
    assert (scores["overall"]["correct"], scores["overall"]["predicted"], scores["overall"]["gold"]) == (2, 4, 3)
    assert scores["overall"]["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert scores["types"]["PER"]["f1"] == 0.0 and scores["types"]["LOC"]["f1"] == 1.0
    with pytest.raises(ValueError, match="sentence 0"):
        entity_scores([["O"]], [["O", "O"]])
