"""answer_questions end to end on a hand-built model whose answer is known: a name planted in a long context."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tests.conftest import planted_model

import erniem
from erniem.tasks.question_answering import answer_questions

NAME = "Zorbulax"


@pytest.fixture(scope="module")
def qa(vocabulary, tokenizer):
    fast = erniem.ErnieMTokenizerFast(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")
    pieces = tokenizer(" " + NAME, add_special_tokens=False)["input_ids"]
    model = planted_model(tokenizer, {pieces[0]}, {pieces[-1]}, head=erniem.ErnieMForQuestionAnswering)
    return model, fast


@pytest.mark.parametrize("filler", [3, 60, 200])
def test_the_planted_name_is_the_answer_wherever_the_windows_fall(qa, filler):
    model, tokenizer = qa
    context = "The old harbour town was quiet that morning. " * filler + f"Then {NAME} arrived by boat. The end."
    answer = answer_questions(model, tokenizer, ["Who arrived?"], [context], max_length=64, stride=16)[0][0]
    assert (answer.text, answer.start) == (NAME, context.index(NAME))
    assert context[answer.start : answer.end] == NAME


def test_top_k_and_several_questions(qa):
    model, tokenizer = qa
    contexts = [f"{NAME} met {NAME} twice.", f"Nobody but {NAME}."]
    answers = answer_questions(model, tokenizer, ["Who?", "Who?"], contexts, top_k=3)
    # Three spans score the same (the same two logits): ties go to the earlier start, then the earlier end.
    second = len(NAME) + len(" met ")
    assert [(a.start, a.end) for a in answers[0]] == [
        (0, len(NAME)),
        (0, second + len(NAME)),
        (second, second + len(NAME)),
    ]
    assert answers[1][0].text == NAME


def test_bad_input_is_refused(qa, tokenizer):
    model, fast = qa
    with pytest.raises(ValueError, match="context 1 is empty"):
        answer_questions(model, fast, ["a", "b"], ["text", "  "])
    with pytest.raises(ValueError, match="2 questions and 1 contexts"):
        answer_questions(model, fast, ["a", "b"], ["text"])
    with pytest.raises(ValueError, match="fast tokenizer"):
        answer_questions(model, tokenizer, ["a"], ["text"])


def test_predict_qa_command(qa, tmp_path):
    model, tokenizer = qa
    directory = tmp_path / "qa"
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    lines = [
        json.dumps({"question": "Who?", "context": f"In the end {NAME} came."}).encode(),
        json.dumps({"question": "Who?", "context": ""}).encode(),
        b"not json",
    ]
    command = [
        sys.executable,
        "-m",
        "erniem.cli",
        "predict",
        "qa",
        "--model",
        str(directory),
        "--on-error",
        "skip",
        "-",
    ]
    done = subprocess.run(command, input=b"\n".join(lines), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    first, second, third = (json.loads(line) for line in done.stdout.decode().splitlines())
    assert (first["answer"], first["start"], first["end"]) == (NAME, 11, 11 + len(NAME))
    assert second is None and third is None
    assert "line 2: 'context' must be a non-empty string" in done.stderr.decode()
    assert "line 3: not JSON" in done.stderr.decode()
