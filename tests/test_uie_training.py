"""UIE features, training and evaluation: labels on the right tokens, the loss going down, scores counted right."""

from __future__ import annotations

import pytest
import torch
from tests.conftest import planted_model

import erniem
from erniem.scores import Score
from erniem.uie.evaluation import evaluate, schema_item
from erniem.uie.training import build_features, check_example, train


def example(content: str, prompt: str, *spans: tuple[str, int]) -> dict:
    """A UIE example whose answers are (text, start) pairs."""
    result_list = [{"text": text, "start": start, "end": start + len(text)} for text, start in spans]
    return {"content": content, "prompt": prompt, "result_list": result_list}


EXAMPLES = [
    example("Alice works for Acme in Paris.", "person", ("Alice", 0)),
    example("Alice works for Acme in Paris.", "employer of Alice", ("Acme", 16)),
    example("北京是中国的首都。", "城市", ("北京", 0)),
    example("great food", "情感倾向[正向,负向]", ("正向", -7)),  # in the prompt: its character 5 is -7
]


def test_labels_sit_on_the_spans_first_and_last_tokens(tokenizer):
    for feature, example in zip(build_features(tokenizer, EXAMPLES), EXAMPLES, strict=True):
        starts = [i for i, label in enumerate(feature.start_labels) if label]
        ends = [i for i, label in enumerate(feature.end_labels) if label]
        (span,) = example["result_list"]
        assert len(starts) == len(ends) == 1
        first, last = feature.offsets[starts[0]][0], feature.offsets[ends[0]][1]
        source = example["prompt"] if span["start"] < 0 else example["content"]
        assert source[first:last] == span["text"]


def test_long_content_is_windowed_and_labels_follow(tokenizer):
    content = "Filler words here. " * 40 + "Alice arrived."
    features = build_features(
        tokenizer, [example(content, "person", ("Alice", content.index("Alice")))], max_seq_len=32, stride=4
    )
    assert len(features) > 5 and all(len(f.input_ids) <= 32 for f in features)
    labelled = [f for f in features if any(f.start_labels)]
    assert labelled and all(
        content[f.shift + f.offsets[f.start_labels.index(1.0)][0] :].startswith("Alice") for f in labelled
    )


def test_malformed_examples_are_refused():
    with pytest.raises(ValueError, match="'prompt' must be a str"):
        check_example({"content": "x", "result_list": []}, "line 3")
    with pytest.raises(ValueError, match="line 4: result 0 .* outside"):
        check_example({"content": "abc", "prompt": "p", "result_list": [{"start": 1, "end": 9}]}, "line 4")


def test_evaluation_counts_exact_spans(tokenizer):
    pieces = tokenizer(" Zorbulax", add_special_tokens=False)["input_ids"]
    # Quiet below position 9: the name inside the prompt "Zorbulax的朋友" (positions 1-6) is not marked.
    model = planted_model(tokenizer, {pieces[0]}, {pieces[-1]}, quiet_below=9)
    text = "Yesterday evening in the old town we met Zorbulax and later Zorbulax again."
    first, second = text.index("Zorbulax"), text.rindex("Zorbulax")
    examples = [
        example(text, "person", ("Zorbulax", first)),
        example("nobody here", "person", ("nobody", 0)),
        example(text, "Zorbulax的朋友", ("Zorbulax", second)),
    ]
    scores = evaluate(model, tokenizer, examples)
    # The planted model finds both names in each of the two texts that hold them: 4 predicted, 2 right, 3 gold.
    assert scores["overall"] == Score(gold=3, predicted=4, correct=2).to_dict()
    assert scores["items"]["person"] == Score(gold=2, predicted=2, correct=1).to_dict()
    assert scores["items"]["朋友"] == Score(gold=1, predicted=2, correct=1).to_dict()
    assert scores["overall"]["f1"] == pytest.approx(2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3))


@pytest.mark.parametrize(
    ("prompt", "lang", "item"),
    [("person", "en", "person"), ("employer of Alice", "en", "employer"), ("Alice的雇主", "zh", "雇主"),
     ("情感倾向[正向,负向]", "zh", "情感倾向"), ("sentiment of food [good,bad]", "en", "sentiment")],
)  # fmt: skip
def test_schema_items(prompt, lang, item):
    assert schema_item(prompt, lang) == item


def test_trainer_fits_the_examples(tokenizer, tmp_path):
    pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate (extra `train`)")
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(
        vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=1, num_attention_heads=4, intermediate_size=128
    )
    model = erniem.ErnieMForInformationExtraction(config)
    model.ernie_m.embeddings.word_embeddings.weight.requires_grad_(False)
    before = evaluate(model, tokenizer, EXAMPLES)["overall"]
    trainer = train(
        model, tokenizer, EXAMPLES, tmp_path / "out", num_train_epochs=200, learning_rate=2e-3,
        per_device_train_batch_size=4, save_strategy="no", use_cpu=True, seed=0, disable_tqdm=True, logging_steps=10,
    )  # fmt: skip
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert losses[-1] < 0.3 * losses[0]
    after = evaluate(model, tokenizer, EXAMPLES)["overall"]
    assert after["f1"] == 1.0 and before["f1"] < 1.0
    reloaded = erniem.ErnieMForInformationExtraction.from_pretrained(tmp_path / "out")
    assert evaluate(reloaded, tokenizer, EXAMPLES)["overall"]["f1"] == 1.0
