"""QA post-processing on crafted logits, the answers worked out by hand."""

from __future__ import annotations

import pytest

from erniem.tasks.qa_postprocessing import Answer, best_answers

CONTEXT = "Paris is the capital of France."
# Tokens: [CLS] q q [SEP] Paris is the capital of France . [SEP]
OFFSETS = [None, None, None, None, (0, 5), (6, 8), (9, 12), (13, 20), (21, 23), (24, 30), (30, 31), None]


def logits(length: int, **values: float) -> list[float]:
    row = [-10.0] * length
    for index, value in values.items():
        row[int(index[1:])] = value
    return row


def test_the_best_valid_span_wins_and_top_k_ranks_the_rest():
    starts = logits(12, t4=5.0, t9=3.0, t1=9.0)  # t1 is in the question: never an answer start
    ends = logits(12, t4=4.0, t9=6.0)
    answers = best_answers(CONTEXT, [starts], [ends], [OFFSETS], top_k=3)
    # Candidates: Paris (5+4=9), Paris..France (5+6=11), France (3+6=9); France..Paris ends before it starts.
    assert answers == [
        Answer("Paris is the capital of France", 0, 30, 11.0),
        Answer("Paris", 0, 5, 9.0),
        Answer("France", 24, 30, 9.0),
    ]


def test_max_answer_length_drops_long_spans():
    starts, ends = logits(12, t4=5.0, t9=3.0), logits(12, t4=4.0, t9=6.0)
    answers = best_answers(CONTEXT, [starts], [ends], [OFFSETS], top_k=2, max_answer_length=5)
    assert [a.text for a in answers] == ["Paris", "France"]  # Paris..France is 6 tokens


def test_an_answer_across_a_window_border_comes_from_the_window_that_holds_it():
    # Two windows over the context: tokens "Paris is the capital" and "capital of France ."
    first = [None, None, None, (0, 5), (6, 8), (9, 12), (13, 20), None]
    second = [None, None, None, (13, 20), (21, 23), (24, 30), (30, 31), None]
    starts = [logits(8, t6=4.0), logits(8, t3=4.5)]  # "capital" starts the answer in both windows
    ends = [logits(8, t6=1.0), logits(8, t5=5.0)]  # ... which ends at "France", only in the second window
    answers = best_answers(CONTEXT, starts, ends, [first, second], top_k=2)
    assert answers == [Answer("capital of France", 13, 30, 9.5), Answer("capital", 13, 20, 5.0)]


def test_the_same_span_in_two_windows_keeps_its_best_score():
    first = [None, (24, 30), None]
    second = [None, (24, 30), None]
    answers = best_answers(CONTEXT, [[0, 2, 0], [0, 1, 0]], [[0, 2, 0], [0, 3, 0]], [first, second], top_k=5)
    assert answers == [Answer("France", 24, 30, 4.0)]


def test_impossible_answers():
    starts, ends = logits(12, t0=8.0, t4=2.0), logits(12, t0=8.0, t4=2.0)
    assert best_answers(CONTEXT, [starts], [ends], [OFFSETS])[0].text == "Paris"
    assert best_answers(CONTEXT, [starts], [ends], [OFFSETS], allow_impossible=True)[0] == Answer("", 0, 0, 16.0)
    no_context = [None] * 12  # a window holding no context token has no span to offer
    assert best_answers(CONTEXT, [starts], [ends], [no_context]) == []


def test_mismatched_windows_are_refused():
    with pytest.raises(ValueError, match="must match"):
        best_answers(CONTEXT, [[0.0]], [], [[None]])
    with pytest.raises(ValueError, match="window 0"):
        best_answers(CONTEXT, [[0.0, 1.0]], [[0.0]], [[None]])
