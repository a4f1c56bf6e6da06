"""Task data preparation: features checked against the text at their offsets, and bad examples left out and
counted (or raised), with the summary line a run prints."""

from __future__ import annotations

import itertools
import random

import pytest
from tests.conftest import small

import erniem
from erniem.tasks.batching import length_batches, length_groups
from erniem.tasks.classification import encode_texts
from erniem.tasks.labels import config_label2id
from erniem.tasks.multiple_choice import encode_training as encode_choice_training
from erniem.tasks.qa_features import AnswerSpan, encode_training
from erniem.tasks.skipped import Skipped
from erniem.tasks.token_classification import IGNORE, encode_words


def test_length_batches_sort_by_length_and_keep_order_on_ties():
    assert length_batches([5, 1, 3, 1, 9], 2) == [[1, 3], [2, 0], [4]]
    with pytest.raises(ValueError, match="batch_size"):
        length_batches([1], 0)


def split_cost(lengths: list[int], groups: list[list[int]], group_cost: int) -> int:
    return sum(len(group) * max(lengths[index] for index in group) + group_cost for group in groups)


def least_split_cost(lengths: list[int], group_cost: int) -> int:
    """Every way of cutting the sorted lengths into runs, tried."""
    ordered = sorted(lengths)
    costs = []
    for cuts in itertools.product([False, True], repeat=len(ordered) - 1):
        runs, run = [], [ordered[0]]
        for length, cut in zip(ordered[1:], cuts, strict=True):
            if cut:
                runs.append(run)
                run = []
            run.append(length)
        costs.append(sum(len(run) * run[-1] + group_cost for run in runs + [run]))
    return min(costs)


def test_length_groups_split_at_the_least_cost_every_split_gives():
    generator = random.Random(0)
    for _ in range(200):
        lengths = [generator.randint(1, 40) for _length in range(generator.randint(1, 9))]
        group_cost = generator.choice([0, 3, 16, 100])
        groups = length_groups(lengths, group_cost)
        assert sorted(index for group in groups for index in group) == list(range(len(lengths)))
        flat = [lengths[index] for group in groups for index in group]
        assert flat == sorted(lengths)
        assert split_cost(lengths, groups, group_cost) == least_split_cost(lengths, group_cost), (lengths, group_cost)
    assert length_groups([5, 3, 5, 1, 100], 0) == [[3], [1], [0, 2], [4]]  # equal lengths together, input order
    assert length_groups([5, 3, 5, 1, 100], 1000) == [[3, 1, 0, 2, 4]]
    assert length_groups([], 4) == []
    with pytest.raises(ValueError, match="group_cost"):
        length_groups([1], -1)


def test_skipped_counts_reasons_or_raises():
    skipped = Skipped()
    skipped(0, "empty context")
    skipped(3, "answer not in context", "'x'")
    skipped(4, "answer not in context", "'y'")
    assert skipped.summary(7) == "kept 7 of 10 examples; skipped 3: 2 answer not in context, 1 empty context"
    assert Skipped().summary(5) == "kept 5 of 5 examples"
    with pytest.raises(ValueError, match="example 3: answer not in context: 'x'"):
        Skipped("raise")(3, "answer not in context", "'x'")


def test_qa_windows_point_at_the_answer(fast_tokenizer):
    context = " ".join(f"Sentence {n} is about nothing." for n in range(12)) + " The capital of France is Paris."
    features, skipped = encode_training(
        fast_tokenizer, ["What is the capital of France?"], [context], [AnswerSpan("Paris")], max_length=32, stride=8
    )
    assert skipped.total == 0 and len(features) > 3
    encoded = fast_tokenizer(
        ["What is the capital of France?"], [context], truncation="only_second", max_length=32, stride=8,
        return_overflowing_tokens=True, return_offsets_mapping=True,
    )  # fmt: skip
    holding = 0
    for window, feature in enumerate(features):
        start, end = feature["start_positions"], feature["end_positions"]
        if (start, end) == (0, 0):
            continue
        holding += 1
        offsets = encoded["offset_mapping"][window]
        assert context[offsets[start][0] : offsets[end][1]] == "Paris"
    assert holding == 1  # the answer sits at the end: only the last window holds it


def test_qa_examples_that_cannot_be_trained_on_are_counted(fast_tokenizer):
    questions = ["Who?", "Who?", "Who?", "Who?", "Who?"]
    contexts = ["Ann met Bob.", "  ", "Ann met Bob.", "Ann met Bob.", "Ann met Bob."]
    answers = [AnswerSpan("Bob", 8), AnswerSpan("Bob"), AnswerSpan("Bob", 0), AnswerSpan("Carl"), None]
    features, skipped = encode_training(fast_tokenizer, questions, contexts, answers)
    assert len(features) == 2 and (features[1]["start_positions"], features[1]["end_positions"]) == (0, 0)
    assert skipped.summary(2) == "kept 2 of 5 examples; skipped 3: 2 answer not in context, 1 empty context"
    with pytest.raises(ValueError, match="example 1: empty context"):
        encode_training(fast_tokenizer, questions[:3], contexts[:3], answers[:3], on_error="raise")


def test_classification_features_of_texts_and_pairs(fast_tokenizer):
    label2id = {"entailment": 0, "contradiction": 1}
    features, skipped = encode_texts(
        fast_tokenizer,
        ["A man sleeps.", "", "A dog runs.", "Rain."],
        ["contradiction", "entailment", "neutral", "entailment"],
        label2id,
        text_pairs=["A man is awake.", "x", "An animal moves.", "It rains."],
    )
    assert [feature["labels"] for feature in features] == [1, 0]
    assert features[0]["input_ids"] == fast_tokenizer("A man sleeps.", "A man is awake.")["input_ids"]
    assert skipped.summary(2) == "kept 2 of 4 examples; skipped 2: 1 empty text, 1 unknown label"
    with pytest.raises(ValueError, match="example 2: unknown label: 'neutral' is not one of"):
        encode_texts(fast_tokenizer, ["a", "b", "c"], ["entailment"] * 2 + ["neutral"], label2id, on_error="raise")


def test_labels_missing_from_the_config_are_named(fast_tokenizer):
    model = small(erniem.ErnieMForSequenceClassification, fast_tokenizer, id2label={0: "food", 1: "sports"})
    assert config_label2id(model.config, ["food"]) == {"food": 0, "sports": 1}
    with pytest.raises(ValueError, match=r"labels missing from the model config: \['money'\]"):
        config_label2id(model.config, ["food", "money"])
    unnamed = small(erniem.ErnieMForSequenceClassification, fast_tokenizer, num_labels=3)
    with pytest.raises(ValueError, match="names no labels"):
        config_label2id(unnamed.config, ["food"])


def test_ner_features_label_first_subwords_and_skip_bad_sentences(fast_tokenizer):
    label2id = {"O": 0, "B-LOC": 1, "I-LOC": 2}
    words = [["Visit", "Reykjavík", "today"], ["Go", "home"], ["Paris"], []]
    tags = [["O", "B-LOC", "O"], ["O", "B-PER"], ["B-LOC", "O"], []]
    features, skipped = encode_words(fast_tokenizer, words, tags, label2id)
    assert skipped.summary(1) == (
        "kept 1 of 4 examples; skipped 3: 1 unknown label, 1 words and tags differ in number, 1 empty sentence or word"
    )
    word_ids = fast_tokenizer([words[0]], is_split_into_words=True).word_ids(0)
    expected, previous = [], None
    for word in word_ids:
        expected.append(IGNORE if word is None or word == previous else label2id[tags[0][word]])
        previous = word
    assert features[0]["labels"] == expected and expected.count(1) == 1


def test_choice_examples_with_another_count_or_a_bad_label_are_counted(fast_tokenizer):
    contexts = ["Where?", "When?", "Who?", "Which?"]
    choices = [["Oslo", "1990", "Ann"], ["Oslo", "1990", "Ann"], ["Ann", "Bob"], ["Oslo", "1990", "Ann"]]
    features, skipped = encode_choice_training(fast_tokenizer, contexts, choices, [0, 1, 0, 3])
    assert [len(feature["input_ids"]) for feature in features] == [3, 3]
    assert skipped.summary(2) == (
        "kept 2 of 4 examples; skipped 2: 1 other number of choices, 1 label is not a choice index"
    )
