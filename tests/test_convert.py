"""Checkpoint conversion: PaddleNLP fixtures made live, safety of the reader, atomic output, every head."""

from __future__ import annotations

import json
import os
import pickle
import shutil

import numpy as np
import pytest
import torch
from tests.conftest import corpus
from transformers import AutoModel, AutoTokenizer

import erniem
from erniem.cli import main as cli
from erniem.convert import ForbiddenGlobalError, convert_checkpoint, read_pdparams, verify_outputs

SMALL = dict(vocab_size=300, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


@pytest.mark.reference
@pytest.mark.parametrize(
    "name, model_class", [("ernie_m", erniem.ErnieMModel), ("uie_m", erniem.ErnieMForInformationExtraction)]
)
def test_paddle_checkpoints_convert_and_reproduce_paddle(paddle_checkpoints, tmp_path, name, model_class):
    target = convert_checkpoint(paddle_checkpoints / name, tmp_path / name, verify=paddle_checkpoints / "outputs.npz")
    deviations = verify_outputs(target, paddle_checkpoints / "outputs.npz")
    cases = json.loads((paddle_checkpoints / "manifest.json").read_text())["cases"]
    assert {key.split("/")[0] for key in deviations} == set(cases)  # taskflow padding with [PAD] included
    assert max(deviations.values()) <= 1e-5
    config = json.loads((target / "config.json").read_text())
    assert config["mask_convention"] == "paddlenlp" and config["architectures"] == [model_class.__name__]
    assert config["intermediate_size"] == 4 * config["hidden_size"]  # read from the weights, not Paddle's config
    model, info = model_class.from_pretrained(target, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    if model_class is erniem.ErnieMModel:
        assert isinstance(AutoModel.from_pretrained(target), erniem.ErnieMModel)


@pytest.mark.reference
def test_converted_tokenizer_uses_the_paddlenlp_rule(paddle_checkpoints, vocabulary, tmp_path):
    target = convert_checkpoint(paddle_checkpoints / "uie_m", tmp_path / "uie_m")
    tokenizer = AutoTokenizer.from_pretrained(target)
    assert tokenizer.tokenizer_rule == "paddlenlp"
    # ErnieMTokenizer with the PaddleNLP rule equals PaddleNLP on the whole corpus (test_tokenizer_parity).
    paddle_rule = erniem.ErnieMTokenizer(
        str(vocabulary / "sentencepiece.bpe.model"), str(vocabulary / "vocab.txt"), tokenizer_rule="paddlenlp"
    )
    lines = [text for _, text in corpus()][::7]
    assert tokenizer(lines)["input_ids"] == paddle_rule(lines)["input_ids"]


def paddle_layout(model: erniem.ErnieMPreTrainedModel, legacy_prefix: bool = False) -> dict[str, np.ndarray]:
    """Parameters as PaddleNLP names and stores them: [in, out] Linear weights, q/k/v one level up."""
    parameters = {}
    for name, tensor in model.state_dict().items():
        array = tensor.numpy()
        if name.endswith(".weight") and tensor.ndim == 2 and "embeddings" not in name:
            array = array.T.copy()
        name = name.replace("self_attn.self_attn.", "self_attn.").replace("qa_outputs.", "classifier.")
        if legacy_prefix:
            name = name.replace("ernie_m.", "encoder.", 1)
        parameters[name] = array
    parameters["StructuredToParameterName@@"] = {name: f"param_{i}" for i, name in enumerate(parameters)}
    return parameters


def write_paddle_checkpoint(directory, parameters, config: dict, vocabulary=None, protocol: int = 4):
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "model_state.pdparams", "wb") as file:
        pickle.dump(parameters, file, protocol=protocol)
    (directory / "config.json").write_text(json.dumps(config))
    if vocabulary is not None:
        for name in ("sentencepiece.bpe.model", "vocab.txt"):
            shutil.copy(vocabulary / name, directory / name)
    return directory


@pytest.fixture(scope="module")
def small_vocabulary(tmp_path_factory):
    """A 300-piece stand-in vocabulary: the converter copies the files, the tests never tokenize with them."""
    import sentencepiece as spm

    directory = tmp_path_factory.mktemp("vocab")
    text = directory / "text.txt"
    text.write_text("\n".join(f"word{i} token{i * 7} sample text number {i}" for i in range(300)))
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(directory / "sp"), vocab_size=200, model_type="unigram", minloglevel=2
    )
    os.replace(directory / "sp.model", directory / "sentencepiece.bpe.model")
    processor = spm.SentencePieceProcessor(model_file=str(directory / "sentencepiece.bpe.model"))
    pieces = [processor.id_to_piece(i) for i in range(3, processor.get_piece_size())]
    (directory / "vocab.txt").write_text("\n".join(["[CLS]", "[PAD]", "[SEP]", "[UNK]", *pieces, "[MASK]"]) + "\n")
    return directory


HEADS = {
    "ErnieMModel": erniem.ErnieMModel,
    "UIEM": erniem.ErnieMForInformationExtraction,
    "ErnieMForSequenceClassification": erniem.ErnieMForSequenceClassification,
    "ErnieMForTokenClassification": erniem.ErnieMForTokenClassification,
    "ErnieMForQuestionAnswering": erniem.ErnieMForQuestionAnswering,
    "ErnieMForMultipleChoice": erniem.ErnieMForMultipleChoice,
}


@pytest.mark.parametrize("legacy_prefix", [False, True], ids=["ernie_m-prefix", "legacy-encoder-prefix"])
@pytest.mark.parametrize("paddle_name", list(HEADS))
def test_every_head_round_trips_through_the_paddle_layout(tmp_path, small_vocabulary, paddle_name, legacy_prefix):
    torch.manual_seed(0)
    original = HEADS[paddle_name](erniem.ErnieMConfig(**SMALL, num_labels=3))
    config = dict(SMALL, intermediate_size=999, architectures=[paddle_name], model_type="ernie_m", num_classes=3)
    source = write_paddle_checkpoint(
        tmp_path / "paddle", paddle_layout(original, legacy_prefix), config, small_vocabulary
    )
    target = convert_checkpoint(source, tmp_path / "converted")
    converted = HEADS[paddle_name].from_pretrained(target)
    assert converted.config.intermediate_size == 64 and converted.config.num_labels == 3
    for name, tensor in original.state_dict().items():
        assert torch.equal(converted.state_dict()[name], tensor), name


def test_big_parameters_split_into_slices_are_reassembled(tmp_path):
    rng = np.random.default_rng(0)
    big, small = rng.normal(size=(7, 5)).astype("float32"), rng.normal(size=3).astype("float32")
    flat = big.reshape(-1)
    parts = {f"big@@.{i}": flat[i * 10 : (i + 1) * 10] for i in range(4)}  # 35 values in slices of 10
    saved = {
        **parts,
        "small": small,
        "UnpackBigParamInfor@@": {"big": {"OriginShape": big.shape, "slices": list(parts)}},
    }
    path = tmp_path / "model_state.pdparams"
    path.write_bytes(pickle.dumps(saved, protocol=3))
    loaded = read_pdparams(path)
    assert sorted(loaded) == ["big", "small"]
    np.testing.assert_array_equal(loaded["big"], big)
    np.testing.assert_array_equal(loaded["small"], small)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_runs_code_is_refused_and_nothing_runs(tmp_path, small_vocabulary):
    marker = tmp_path / "it-ran"
    parameters = {"embeddings.word_embeddings.weight": np.zeros((300, 16), "float32"), "payload": _RunsCode(marker)}
    source = write_paddle_checkpoint(
        tmp_path / "evil", parameters, dict(SMALL, architectures=["ErnieMModel"]), small_vocabulary
    )
    with pytest.raises(ForbiddenGlobalError, match="posix.system|os.system|nt.system"):
        convert_checkpoint(source, tmp_path / "out")
    assert not marker.exists()
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == ["evil"]


@pytest.fixture
def valid_source(tmp_path, small_vocabulary):
    torch.manual_seed(0)
    model = erniem.ErnieMModel(erniem.ErnieMConfig(**SMALL))
    config = dict(SMALL, architectures=["ErnieMModel"], model_type="ernie_m")
    return write_paddle_checkpoint(tmp_path / "paddle", paddle_layout(model), config, small_vocabulary)


def test_truncated_and_corrupted_files_are_refused_without_output(valid_source, tmp_path):
    weights = valid_source / "model_state.pdparams"
    data = weights.read_bytes()
    for damaged in (data[: len(data) // 2], data[:100] + b"\x00garbage" * 50):
        weights.write_bytes(damaged)
        with pytest.raises(ValueError, match="not a complete .pdparams file"):
            convert_checkpoint(valid_source, tmp_path / "out")
        assert not (tmp_path / "out").exists()


def test_another_architecture_and_a_shape_mismatch_are_refused(valid_source, tmp_path):
    config = json.loads((valid_source / "config.json").read_text())
    (valid_source / "config.json").write_text(
        json.dumps({**config, "model_type": "bert", "architectures": ["BertModel"]})
    )
    with pytest.raises(ValueError, match="not an ERNIE-M checkpoint"):
        convert_checkpoint(valid_source, tmp_path / "out")
    (valid_source / "config.json").write_text(json.dumps({**config, "max_position_embeddings": 600}))
    with pytest.raises(ValueError, match="position_embeddings.weight.*does not fit"):
        convert_checkpoint(valid_source, tmp_path / "out")
    parameters = read_pdparams(valid_source / "model_state.pdparams")
    del parameters["pooler.dense.bias"]
    (valid_source / "config.json").write_text(json.dumps(config))
    write_paddle_checkpoint(valid_source, parameters, config)
    with pytest.raises(ValueError, match="lacks 1 parameters.*pooler.dense.bias"):
        convert_checkpoint(valid_source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_existing_destination_needs_overwrite(valid_source, tmp_path):
    destination = tmp_path / "out"
    destination.mkdir()
    (destination / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite"):
        convert_checkpoint(valid_source, destination)
    assert (destination / "keep.txt").read_text() == "mine"
    convert_checkpoint(valid_source, destination, overwrite=True)
    assert not (destination / "keep.txt").exists() and (destination / "model.safetensors").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "paddle"]  # no staging folders left


def test_missing_tokenizer_files_are_asked_for(valid_source, tmp_path, small_vocabulary):
    for name in ("sentencepiece.bpe.model", "vocab.txt"):
        (valid_source / name).unlink()
    with pytest.raises(FileNotFoundError, match="--vocabulary"):
        convert_checkpoint(valid_source, tmp_path / "out")
    convert_checkpoint(valid_source, tmp_path / "out", vocabulary=small_vocabulary)
    assert (tmp_path / "out" / "vocab.txt").read_bytes() == (small_vocabulary / "vocab.txt").read_bytes()


def test_failed_verification_leaves_nothing(valid_source, tmp_path):
    outputs = tmp_path / "outputs.npz"
    np.savez(
        outputs,
        **{"one/input/input_ids": np.array([[0, 5, 6, 2]]), "one/output/last_hidden_state": np.zeros((1, 4, 16))},
    )
    with pytest.raises(ValueError, match="verification failed: one/last_hidden_state"):
        convert_checkpoint(valid_source, tmp_path / "out", verify=outputs)
    assert not (tmp_path / "out").exists()


@pytest.mark.reference
def test_pickled_transformers_checkpoint_becomes_safetensors(reference, tmp_path):
    target = convert_checkpoint(reference.model_dir("base"), tmp_path / "base")
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "model.safetensors"]
    original = torch.load(reference.model_dir("base") / "pytorch_model.bin", weights_only=True)
    model = AutoModel.from_pretrained(target)
    for name, tensor in original.items():
        assert torch.equal(model.state_dict()[name], tensor), name


def test_pickled_checkpoint_that_runs_code_is_refused(tmp_path):
    source = tmp_path / "evil"
    source.mkdir()
    marker = tmp_path / "it-ran"
    torch.save({"weight": _RunsCode(marker)}, source / "pytorch_model.bin")
    with pytest.raises(ValueError, match="cannot be read safely"):
        convert_checkpoint(source, tmp_path / "out")
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_command_line(valid_source, tmp_path, capsys):
    assert cli(["convert", str(valid_source), str(tmp_path / "out")]) == 0
    assert "converted" in capsys.readouterr().out
    assert cli(["convert", str(valid_source), str(tmp_path / "out")]) == 1
    assert "exists" in capsys.readouterr().err
    assert cli(["convert", str(tmp_path / "nowhere"), str(tmp_path / "x")]) == 1
    assert "not a directory" in capsys.readouterr().err
