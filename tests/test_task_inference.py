"""Task inference: entity offsets from a tagger whose answers are known, SQuAD metrics worked out by hand,
length-sorted batching that changes no result, and `erniem predict` over JSON Lines."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest
import torch
from tests.conftest import small

import erniem
from erniem.cli import main
from erniem.tasks.classification import classify
from erniem.tasks.entity_recognition import Entity, recognize, word_spans
from erniem.tasks.multiple_choice import choose
from erniem.tasks.qa_metrics import squad_scores

TAGS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}


class TableTagger(torch.nn.Module):
    """A token classifier that tags every subword of chosen words by a table: its answers are known."""

    def __init__(self, tokenizer, words: dict[str, int]):
        super().__init__()
        self.config = SimpleNamespace(id2label=TAGS)
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.table = torch.zeros(len(tokenizer), dtype=torch.long)
        for word, tag in words.items():
            self.table[tokenizer([word], is_split_into_words=True, add_special_tokens=False)["input_ids"]] = tag

    def forward(self, input_ids, attention_mask):
        return SimpleNamespace(logits=10.0 * torch.nn.functional.one_hot(self.table[input_ids], len(TAGS)).float())


def test_entities_come_back_at_their_character_offsets(fast_tokenizer):
    tagger = TableTagger(fast_tokenizer, {"Maria": 1, "Gómez": 2, "New": 3, "York.": 4})
    text = "Yesterday  Maria Gómez\tflew to New York."
    (found,) = recognize(tagger, fast_tokenizer, [text])
    assert [(e.type, e.text, e.start, e.end) for e in found] == [
        ("PER", "Maria Gómez", 11, 22),
        ("LOC", "New York.", 31, 40),
    ]
    assert all(text[e.start : e.end] == e.text for e in found)


def test_long_texts_are_windowed_and_each_entity_found_once(fast_tokenizer):
    tagger = TableTagger(fast_tokenizer, {"Maria": 1, "Gómez": 2, "Oslo": 3})
    sentence = "Then Maria Gómez went to Oslo again and again. "
    text = sentence * 40
    (found,) = recognize(tagger, fast_tokenizer, [text], max_length=24, stride=6, batch_size=4)
    expected = []
    for n in range(40):
        base = n * len(sentence)
        expected += [("PER", base + 5, base + 16), ("LOC", base + 25, base + 29)]
    assert [(e.type, e.start, e.end) for e in found] == expected


def test_given_words_locate_entities_in_text_without_spaces(fast_tokenizer):
    tagger = TableTagger(fast_tokenizer, {"東京": 3, "都": 4})
    text = "私は東京都に住む。"
    (found,) = recognize(
        tagger, fast_tokenizer, [text, ""], words=[["私", "は", "東京", "都", "に", "住む", "。"], []]
    )[:1]
    assert found == [Entity("LOC", "東京都", 2, 5, pytest.approx(1.0, abs=1e-3))]
    with pytest.raises(ValueError, match="word 1 'X' does not occur in the text after character 1"):
        word_spans(text, ["私", "X"])


def test_squad_scores_by_hand():
    scores = squad_scores(
        ["the Eiffel Tower", "Eiffel", "北京市", ""], [["Eiffel Tower!"], ["Eiffel Tower"], ["北京"], [""]]
    )
    # EM: 1, 0, 0, 1; F1: 1, 2*(1*0.5)/1.5, 2*(2/3*1)/(5/3), 1
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3 + 0.8 + 1) / 4)
    with pytest.raises(ValueError, match="question 0"):
        squad_scores(["x"], [[]])


def test_classify_and_choose_batch_by_length_without_changing_results(fast_tokenizer):
    texts = ["short", "a much longer text than the others, with many more tokens in it", "mid length text", "x y"]
    classifier = small(erniem.ErnieMForSequenceClassification, fast_tokenizer, id2label={0: "a", 1: "b", 2: "c"})
    found = classify(classifier, fast_tokenizer, texts, top_k=2, batch_size=2)
    for text, labels in zip(texts, found, strict=True):
        with torch.no_grad():
            probabilities = classifier(**fast_tokenizer(text, return_tensors="pt")).logits.softmax(-1)[0]
        best = probabilities.argsort(descending=True)[:2].tolist()
        assert [label.label for label in labels] == [classifier.config.id2label[i] for i in best]
        assert [label.score for label in labels] == pytest.approx(probabilities[best].tolist(), abs=1e-5)

    chooser = small(erniem.ErnieMForMultipleChoice, fast_tokenizer)
    contexts = ["Where is Oslo?", "When?", "Who wrote it, and where did it happen in the end?"]
    options = [["Norway", "Peru"], ["1990", "in the year 2001", "never"], ["Ann", "Bob"]]
    chosen = choose(chooser, fast_tokenizer, contexts, options, batch_size=2)
    for context, row, choice in zip(contexts, options, chosen, strict=True):
        ids = fast_tokenizer([context] * len(row), row, padding=True, return_tensors="pt")
        with torch.no_grad():
            scores = chooser(**{k: v[None] for k, v in ids.items()}).logits.softmax(-1)[0]
        assert choice.scores == pytest.approx(scores.tolist(), abs=1e-5)
        assert choice.index == int(scores.argmax()) and choice.text == row[choice.index]


def run_cli(monkeypatch, capsys, arguments: list[str], lines: list[str]) -> tuple[int, list, str]:
    monkeypatch.setattr("sys.stdin", SimpleNamespace(buffer=io.BytesIO("\n".join(lines).encode())))
    status = main(arguments)
    captured = capsys.readouterr()
    return status, [json.loads(line) for line in captured.out.splitlines()], captured.err


@pytest.fixture
def saved(fast_tokenizer, tmp_path):
    def save(model_class, **config):
        directory = tmp_path / model_class.__name__
        small(model_class, fast_tokenizer, **config).save_pretrained(directory)
        fast_tokenizer.save_pretrained(directory)
        return str(directory)

    return save


def test_predict_classify_ner_and_choice(saved, monkeypatch, capsys):
    model = saved(erniem.ErnieMForSequenceClassification, id2label={0: "no", 1: "yes"})
    lines = ['{"text": "good"}', '{"text": "a", "text_pair": "b"}', '{"text": ""}', "[1]"]
    status, out, err = run_cli(
        monkeypatch, capsys, ["predict", "classify", "--model", model, "--on-error", "skip", "-"], lines
    )
    assert (
        status == 0 and out[2:] == [None, None] and "line 3" in err and "line 4" in err and "2 line(s) skipped" in err
    )
    assert out[0]["label"] in ("no", "yes") and 0.5 <= out[0]["score"] <= 1
    model = saved(erniem.ErnieMForTokenClassification, id2label=TAGS)
    lines = [
        '{"text": "Ann lives in Oslo"}',
        '{"text": "東京都", "words": ["東京", "都"]}',
        '{"text": "ab", "words": ["c"]}',
    ]
    status, out, err = run_cli(monkeypatch, capsys, ["predict", "ner", "--model", model, "-"], lines)
    assert status == 1 and len(out) == 2 and "line 3" in err and "'c' does not occur" in err
    for line, entities in zip(lines, out, strict=False):
        text = json.loads(line)["text"]
        assert all(text[e["start"] : e["end"]] == e["text"] and e["type"] in ("PER", "LOC") for e in entities)
    model = saved(erniem.ErnieMForMultipleChoice)
    lines = ['{"context": "Where?", "choices": ["Oslo", "1990", "Ann"]}', '{"context": "x", "choices": ["only"]}']
    status, out, err = run_cli(
        monkeypatch, capsys, ["predict", "choice", "--model", model, "--on-error", "skip", "-"], lines
    )
    assert status == 0 and out[1] is None and "two or more" in err
    assert out[0]["text"] == ["Oslo", "1990", "Ann"][out[0]["choice"]] and sum(out[0]["scores"]) == pytest.approx(1)


@pytest.mark.parametrize(
    "options",
    [["--dtype", "bfloat16"], ["--dtype", "bf16"], ["--dtype", "bf16", "--compile"], ["--quantize", "int8"]],
    ids=["bfloat16", "bf16", "bf16-compiled", "int8"],
)
def test_predict_in_reduced_precision_stays_close_to_float32(saved, monkeypatch, capsys, options):
    if "--quantize" in options:
        pytest.importorskip("torchao", reason="int8 needs torchao (extra `int8`)")
    model = saved(erniem.ErnieMForSequenceClassification, id2label={0: "no", 1: "yes", 2: "maybe"})
    lines = ['{"text": "good morning"}', '{"text": "a longer line about the weather in Oslo"}']
    command = ["predict", "classify", "--model", model, "--top-k", "3", "-"]
    _, full, _ = run_cli(monkeypatch, capsys, command, lines)
    status, half, _ = run_cli(monkeypatch, capsys, [*command, *options], lines)
    assert status == 0
    for full_labels, half_labels in zip(full, half, strict=True):
        scores = {label["label"]: label["score"] for label in half_labels}
        assert all(abs(scores[label["label"]] - label["score"]) < 2e-2 for label in full_labels)
