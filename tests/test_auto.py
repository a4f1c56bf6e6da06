"""Registration with the transformers Auto classes and loading of checkpoints written by transformers 4.39."""

from __future__ import annotations

import importlib
import json
import shutil

import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForMultipleChoice,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
)

import erniem

AUTO_CLASSES = {
    AutoModel: erniem.ErnieMModel,
    AutoModelForSequenceClassification: erniem.ErnieMForSequenceClassification,
    AutoModelForMultipleChoice: erniem.ErnieMForMultipleChoice,
    AutoModelForTokenClassification: erniem.ErnieMForTokenClassification,
    AutoModelForQuestionAnswering: erniem.ErnieMForQuestionAnswering,
}


def test_registration_is_idempotent():
    erniem.register()
    erniem.register()
    importlib.reload(erniem)
    config = AutoConfig.for_model("ernie_m", hidden_size=64, num_attention_heads=4)
    assert type(config).__name__ == "ErnieMConfig"


@pytest.mark.parametrize("auto_class", list(AUTO_CLASSES))
def test_auto_classes_build_erniem_models(auto_class):
    config = erniem.ErnieMConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=20
    )
    assert type(auto_class.from_config(config)).__name__ == AUTO_CLASSES[auto_class].__name__


@pytest.mark.reference
def test_hub_layout_directory_loads_through_auto_model(reference, tmp_path):
    """config.json and pytorch_model.bin exactly as transformers 4.39 wrote them (the hub's layout)."""
    source = reference.model_dir("base")
    config = json.loads((source / "config.json").read_text())
    assert config["architectures"] == ["ErnieMModel"] and config["transformers_version"] == "4.39.3"
    assert sorted(p.name for p in source.iterdir()) == ["config.json", "pytorch_model.bin"]
    model, info = AutoModel.from_pretrained(source, output_loading_info=True)
    assert isinstance(model, erniem.ErnieMModel)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    weights = torch.load(source / "pytorch_model.bin", weights_only=True)
    assert not any(key.startswith("ernie_m.") for key in weights)  # the base model is saved without the prefix
    for key, tensor in weights.items():
        assert torch.equal(model.state_dict()[key], tensor), key


@pytest.mark.reference
@pytest.mark.parametrize(
    "name, auto_class",
    [
        ("seq_single", AutoModelForSequenceClassification),
        ("token", AutoModelForTokenClassification),
        ("qa", AutoModelForQuestionAnswering),
        ("choice", AutoModelForMultipleChoice),
    ],
)
def test_head_checkpoints_load_with_no_missing_or_unexpected_keys(reference, name, auto_class):
    model, info = auto_class.from_pretrained(reference.model_dir(name), output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert isinstance(model, AUTO_CLASSES[auto_class])


@pytest.mark.reference
def test_prefixed_and_unprefixed_checkpoints_cross_load(reference):
    base_from_head, info = erniem.ErnieMModel.from_pretrained(
        reference.model_dir("extraction"), output_loading_info=True
    )
    assert not info["missing_keys"]  # the `ernie_m.` prefix is stripped
    assert set(info["unexpected_keys"]) <= {
        "linear_start.weight",
        "linear_start.bias",
        "linear_end.weight",
        "linear_end.bias",
    }
    head_from_base, info = erniem.ErnieMForInformationExtraction.from_pretrained(
        reference.model_dir("base"), output_loading_info=True
    )
    assert set(info["missing_keys"]) == {
        "linear_start.weight",
        "linear_start.bias",
        "linear_end.weight",
        "linear_end.bias",
    }
    assert not info["unexpected_keys"]
    torch.testing.assert_close(
        head_from_base.ernie_m.embeddings.word_embeddings.weight,
        erniem.ErnieMModel.from_pretrained(reference.model_dir("base")).embeddings.word_embeddings.weight,
    )


@pytest.mark.reference
def test_bin_checkpoint_with_code_in_its_pickle_is_refused(reference, tmp_path):
    """Pickled checkpoints are read with torch's weights-only loader: a payload that runs code is refused."""
    target = tmp_path / "model"
    shutil.copytree(reference.model_dir("base"), target)
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"embeddings.word_embeddings.weight": Payload()}, target / "pytorch_model.bin")
    with pytest.raises(Exception, match="(?i)weights_only|unsupported global|pickle"):
        AutoModel.from_pretrained(target)
    assert not marker.exists()
