"""Each task example trains a small model for a bounded number of steps and must score far above chance on
held-out data. The thresholds were fixed before any of these runs: classification 0.35 accuracy over 21 topics
(uniform chance 0.048, largest topic 0.28); NER entity F1 0.70 (a random tagger matches almost no exact span);
QA exact match 60% (a random span is almost never exact); multiple choice 0.60 accuracy (chance about 0.27)."""

from __future__ import annotations

import sys

import pytest
from tests.conftest import ROOT

pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate (extra `train`)")
sys.path.insert(0, str(ROOT / "examples"))


def common(tmp_path, steps: int) -> list[str]:
    return ["--output-dir", str(tmp_path), "--max-steps", str(steps), "--save-steps", str(steps), "--logging-steps",
            str(steps)]  # fmt: skip


def test_classification_of_chatterbot_topics(vocabulary, tmp_path):
    pytest.importorskip("chatterbot_corpus", reason="the example reads the chatterbot corpus (extra `test`)")
    import classify

    accuracy = classify.main(common(tmp_path, 300))
    assert accuracy["english"] >= 0.35


def test_ner_on_template_sentences_in_six_languages(vocabulary, tmp_path):
    import ner

    scores = ner.main([*common(tmp_path, 600), "--corpus", "templates"])
    assert scores["overall"]["f1"] >= 0.70
    assert (tmp_path / "model" / "config.json").is_file()


def test_extractive_qa_on_template_questions(vocabulary, tmp_path):
    import qa

    scores = qa.main(common(tmp_path, 1500))
    assert scores["exact_match"] >= 60


@pytest.mark.slow  # about 3 minutes on 2 cores
def test_multiple_choice_on_template_questions(vocabulary, tmp_path):
    import choice

    scores = choice.main(common(tmp_path, 3000))
    assert scores["accuracy"] >= 0.60
