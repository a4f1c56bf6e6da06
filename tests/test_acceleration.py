"""`erniem.acceleration.optimize`: int8 (torchao) keeps a fine-tuned classifier's held-out accuracy within one
point of fp32, bf16 keeps its logits within 2e-2, and the compiled model stays usable by the task functions."""

from __future__ import annotations

import sys

import pytest
import torch
from tests.conftest import ROOT

import erniem
from erniem.acceleration import optimize
from erniem.tasks.classification import classify

sys.path.insert(0, str(ROOT / "examples"))


@pytest.fixture(scope="module")
def classifier(vocabulary, tmp_path_factory):
    """A topic classifier fine-tuned by examples/classify.py (300 steps), and its held-out lines."""
    pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate (extra `train`)")
    pytest.importorskip("chatterbot_corpus", reason="the example reads the chatterbot corpus (extra `test`)")
    import classify as example

    directory = tmp_path_factory.mktemp("classifier")
    example.main(["--output-dir", str(directory), "--max-steps", "300", "--save-steps", "300"])
    lines = [(line, topic) for line, topic in example.topic_lines("english") if example.held_out(line)]
    tokenizer = erniem.ErnieMTokenizerFast.from_pretrained(directory / "model")
    return directory / "model", tokenizer, [(line, topic) for line, topic in lines]


def accuracy(model, tokenizer, lines) -> float:
    predicted = classify(model, tokenizer, [line for line, _ in lines], max_length=64)
    return sum(best[0].label == topic for best, (_, topic) in zip(predicted, lines, strict=True)) / len(lines)


def logits(model, tokenizer, lines) -> torch.Tensor:
    encoded = tokenizer([line for line, _ in lines], padding=True, truncation=True, max_length=64, return_tensors="pt",
                        return_attention_mask=True)  # fmt: skip
    with torch.inference_mode():
        return model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).logits.float()


def test_int8_and_bf16_keep_the_classifier(classifier):
    pytest.importorskip("torchao", reason="int8 needs torchao (extra `int8`)")
    directory, tokenizer, lines = classifier
    load = erniem.ErnieMForSequenceClassification.from_pretrained
    fp32 = accuracy(load(directory), tokenizer, lines)
    int8 = accuracy(optimize(load(directory), quantize="int8"), tokenizer, lines)
    assert fp32 >= 0.35  # the classifier learnt something (21 topics)
    assert abs(int8 - fp32) <= 0.01
    expected = logits(load(directory), tokenizer, lines)
    assert (logits(load(directory, dtype=torch.bfloat16), tokenizer, lines) - expected).abs().max() <= 2e-2


def test_compiled_int8_model_serves_the_task_functions(classifier):
    pytest.importorskip("torchao", reason="int8 needs torchao (extra `int8`)")
    directory, tokenizer, lines = classifier
    eager = optimize(erniem.ErnieMForSequenceClassification.from_pretrained(directory), quantize="int8")
    compiled = optimize(
        erniem.ErnieMForSequenceClassification.from_pretrained(directory), quantize="int8", compile=True
    )
    assert compiled.config.id2label == eager.config.id2label
    few = lines[:8]
    torch.testing.assert_close(logits(compiled, tokenizer, few), logits(eager, tokenizer, few), atol=0.05, rtol=0.05)
    assert [best[0].label for best in classify(compiled, tokenizer, [line for line, _ in few], max_length=64)] == [
        best[0].label for best in classify(eager, tokenizer, [line for line, _ in few], max_length=64)
    ]


def test_optimize_refuses_an_unknown_quantization():
    with pytest.raises(ValueError, match="quantize must be one of"):
        optimize(
            erniem.ErnieMModel(
                erniem.ErnieMConfig(vocab_size=99, hidden_size=32, num_hidden_layers=1, num_attention_heads=4)
            ),
            quantize="int4",
        )
