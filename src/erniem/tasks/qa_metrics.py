"""Exact match and token F1 of predicted answers against gold ones, as the SQuAD evaluation script scores them.

Answers are normalised as SQuAD does (lowercased, punctuation and the English articles removed, whitespace
collapsed), and, as MLQA does for languages written without spaces, every CJK character, kana and Hangul
syllable counts as a token of its own. Each prediction takes its best score over the question's gold answers.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_SPACELESS = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff])")


def normalize(text: str) -> list[str]:
    """The answer's tokens after SQuAD's normalisation, CJK characters split apart."""
    text = "".join(
        " " if ch in string.punctuation or unicodedata.category(ch).startswith("P") else ch for ch in text.lower()
    )
    text = _SPACELESS.sub(r" \1 ", _ARTICLES.sub(" ", text))
    return text.split()


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize(prediction) == normalize(gold))


def token_f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize(prediction), normalize(gold)
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: Sequence[str], golds: Sequence[Sequence[str]]) -> dict[str, float]:
    """`{"exact_match", "f1"}` in percent over the questions, as the SQuAD script reports them.

    Args:
        predictions: one answer text per question ("" for no answer).
        golds: each question's gold answer texts (an unanswerable question: `[""]`).
    """
    if len(predictions) != len(golds):
        raise ValueError(f"got {len(predictions)} predictions for {len(golds)} questions")
    if not predictions:
        raise ValueError("no questions to score")
    for index, gold in enumerate(golds):
        if isinstance(gold, str) or not gold:
            raise ValueError(f"question {index}: gold answers must be a non-empty list of texts")
    exact = sum(max(exact_match(p, g) for g in gold) for p, gold in zip(predictions, golds, strict=True))
    f1 = sum(max(token_f1(p, g) for g in gold) for p, gold in zip(predictions, golds, strict=True))
    return {"exact_match": 100 * exact / len(predictions), "f1": 100 * f1 / len(predictions)}
