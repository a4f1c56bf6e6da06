"""doccano exports to UIE examples: prompts, offsets, negatives, splits and errors, checked by hand."""

from __future__ import annotations

import pytest

from erniem.uie.doccano import classification_examples, extraction_examples, split

TEXT = "Alice works for Acme in Paris."
RECORD = {
    "text": TEXT,
    "entities": [
        {"id": 1, "start_offset": 0, "end_offset": 5, "label": "person"},
        {"id": 2, "start_offset": 16, "end_offset": 20, "label": "organization"},
        {"id": 3, "start_offset": 24, "end_offset": 29, "label": "location"},
    ],
    "relations": [{"id": 7, "from_id": 1, "to_id": 2, "type": "employer"}],
}
OTHER = {"text": "Bob sleeps.", "entities": [{"id": 1, "start_offset": 0, "end_offset": 3, "label": "person"}]}


def by_prompt(examples):
    return {e["prompt"]: e for e in examples if e["content"] == TEXT}


@pytest.mark.parametrize(("lang", "prompt"), [("en", "employer of Alice"), ("zh", "Alice的employer")])
def test_entities_and_relations_become_prompted_examples(lang, prompt):
    examples = by_prompt(extraction_examples([RECORD, OTHER], schema_lang=lang, negative_ratio=None))
    assert examples["person"]["result_list"] == [{"text": "Alice", "start": 0, "end": 5}]
    assert examples["organization"]["result_list"] == [{"text": "Acme", "start": 16, "end": 20}]
    assert examples[prompt]["result_list"] == [{"text": "Acme", "start": 16, "end": 20}]
    for example in examples.values():
        for span in example["result_list"]:
            assert example["content"][span["start"] : span["end"]] == span["text"]


def test_negatives_are_the_labels_and_relations_a_text_lacks():
    examples = extraction_examples([RECORD, OTHER], schema_lang="en", negative_ratio=None)
    bob = {e["prompt"]: e["result_list"] for e in examples if e["content"] == OTHER["text"]}
    assert bob == {
        "person": [{"text": "Bob", "start": 0, "end": 3}],
        "location": [],
        "organization": [],
        "employer of Bob": [],
    }
    sampled = extraction_examples([OTHER, RECORD], schema_lang="en", negative_ratio=1)
    negatives = [e for e in sampled if e["content"] == OTHER["text"] and not e["result_list"]]
    assert len(negatives) == 1  # one positive prompt, ratio 1


def test_doccano_label_triples_are_read():
    record = {"text": "Alice in Paris", "label": [[0, 5, "person"], [9, 14, "location"]]}
    examples = {e["prompt"]: e["result_list"] for e in extraction_examples([record], negative_ratio=None)}
    assert examples == {
        "person": [{"text": "Alice", "start": 0, "end": 5}],
        "location": [{"text": "Paris", "start": 9, "end": 14}],
    }


def test_classification_answers_point_into_the_prompt():
    records = [{"text": "great food", "label": ["正向"]}, {"text": "cold soup", "label": ["负向"]}]
    for example in classification_examples(records, shuffle_options=True, seed=3):
        prompt, (span,) = example["prompt"], example["result_list"]
        assert prompt.startswith("情感倾向[") and sorted(prompt[5:-1].split(",")) == ["正向", "负向"]
        shift = len(prompt) + 1
        assert span["end"] < 0 and prompt[span["start"] + shift : span["end"] + shift] == span["text"]


def test_bad_records_are_named():
    broken = {**RECORD, "entities": [{"id": 1, "start_offset": 3, "end_offset": 99, "label": "person"}]}
    with pytest.raises(ValueError, match="record 1: entity 1 has offsets"):
        extraction_examples([RECORD, broken])
    dangling = {**RECORD, "relations": [{"id": 7, "from_id": 1, "to_id": 42, "type": "employer"}]}
    with pytest.raises(ValueError, match="unknown entity 42"):
        extraction_examples([dangling])
    with pytest.raises(ValueError, match="not among the options"):
        classification_examples([{"text": "x", "label": ["maybe"]}])


def test_splits_partition_the_records():
    parts = split(list(range(100)), [0.8, 0.1, 0.1], seed=1)
    assert [len(p) for p in parts] == [80, 10, 10]
    assert sorted(sum(parts, [])) == list(range(100))
    with pytest.raises(ValueError, match="sum to 1"):
        split([1, 2], [0.5, 0.6])
