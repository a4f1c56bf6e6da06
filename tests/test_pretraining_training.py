"""Pretraining end to end: losses fall on every objective, `erniem pretrain` with its errors, exact resumption,
and two processes under torchrun."""

import json
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainingArguments

import erniem
from erniem.cli import main
from erniem.pretraining import PretrainingOptions, pretrain

SENTENCES = {
    "en": ["The cat sleeps on the mat.", "We drink coffee every morning.", "The train leaves at nine."],
    "de": ["Die Katze schläft auf der Matte.", "Wir trinken jeden Morgen Kaffee.", "Der Zug fährt um neun."],
}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpora")
    mono = folder / "mono.tsv"
    rows = [f"{lang}\t{text}" for lang, texts in SENTENCES.items() for text in texts]
    mono.write_text("lang\ttext\n" + "\n".join(rows) + "\n", encoding="utf-8")
    pairs = folder / "pairs.tsv"
    rows = [f"en\tde\t{en}\t{de}" for en, de in zip(SENTENCES["en"], SENTENCES["de"], strict=True)]
    pairs.write_text("source_language\ttarget_language\tsource\ttarget\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(mono), str(pairs)


@pytest.fixture(scope="module")
def base_model(tokenizer, tmp_path_factory):
    """A one-layer encoder with the real vocabulary, saved as the released checkpoints are (with a pooler)."""
    folder = tmp_path_factory.mktemp("base")
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=4, intermediate_size=64
    )
    erniem.ErnieMModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("objective", ["mmlm", "tlm", "camlm", "btmlm"])
def test_the_loss_falls_on_each_objective(objective, base_model, tokenizer, corpora, tmp_path):
    model = erniem.ErnieMForPreTraining.from_pretrained(base_model, languages=["en", "de"], num_languages=2)
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=30, per_device_train_batch_size=6, learning_rate=5e-3, logging_steps=5,
        save_strategy="no", report_to=[], disable_tqdm=True, use_cpu=True, seed=0,
    )  # fmt: skip
    options = PretrainingOptions(weights={objective: 1.0}, max_length=48)
    trainer = pretrain(model, tokenizer, args, monolingual=[corpora[0]], parallel=[corpora[1]], options=options)
    losses = [row[f"{objective}_loss"] for row in trainer.state.log_history if f"{objective}_loss" in row]
    assert len(losses) == 6
    assert losses[-1] < losses[0] - 1.0 and losses[-1] == min(losses), losses
    assert model.ernie_m.embeddings.language_embeddings.weight.any()  # the language table learnt too


def common(base_model, corpora):
    return ["pretrain", "--model", str(base_model), "--monolingual", corpora[0], "--parallel", corpora[1],
            "--batch-size", "4", "--max-length", "48", "--learning-rate", "1e-3", "--logging-steps", "2"]  # fmt: skip


def test_resuming_from_a_checkpoint_gives_the_uninterrupted_run(base_model, corpora, tmp_path):
    arguments = [*common(base_model, corpora), "--max-steps", "8", "--save-steps", "4"]
    assert main([*arguments, "--output", str(tmp_path / "straight")]) == 0
    (tmp_path / "resumed").mkdir()
    shutil.copytree(tmp_path / "straight" / "checkpoint-4", tmp_path / "resumed" / "checkpoint-4")
    assert main([*arguments, "--output", str(tmp_path / "resumed"), "--resume"]) == 0
    straight = load_file(tmp_path / "straight" / "model" / "model.safetensors")
    resumed = load_file(tmp_path / "resumed" / "model" / "model.safetensors")
    assert straight.keys() == resumed.keys() and any("lm_head" in key for key in straight)
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key
    state = json.loads((tmp_path / "resumed" / "checkpoint-8" / "trainer_state.json").read_text())
    assert state["global_step"] == 8


def test_pretrain_command_reports_bad_arguments_in_one_line(base_model, corpora, tmp_path, capsys):
    for arguments, message in [
        (["--objectives", "mmlm,xlm"], "--objectives takes distinct names"),
        (["--objectives", "mmlm,tlm", "--weights", "1"], "--weights has 1 values for 2 objectives"),
        (["--objectives", "mmlm", "--weights", "x"], "--weights must be numbers"),
        (["--resume"], "--resume: no checkpoint in"),
    ]:
        assert main([*common(base_model, corpora), "--output", str(tmp_path / "out"), *arguments]) == 1
        error = capsys.readouterr().err.strip().splitlines()[-1]
        assert error.startswith("erniem pretrain: ") and message in error
    no_parallel = ["pretrain", "--model", str(base_model), "--monolingual", corpora[0], "--output", str(tmp_path)]
    assert main([*no_parallel, "--objectives", "tlm"]) == 1
    assert "The tlm objective needs parallel files" in capsys.readouterr().err


def test_two_processes_under_torchrun(base_model, corpora, tmp_path):
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "erniem.cli"]
    arguments = [*common(base_model, corpora), "--max-steps", "4", "--save-steps", "4", "--output", str(tmp_path)]
    done = subprocess.run([*torchrun, *arguments], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("pretrained 4 steps") == 1  # the first process alone reports and saves
    checkpoint = tmp_path / "checkpoint-4"
    assert (checkpoint / "rng_state_0.pth").is_file() and (checkpoint / "rng_state_1.pth").is_file()
    model = erniem.ErnieMForPreTraining.from_pretrained(tmp_path / "model")
    assert model.lm_head.dense.weight.abs().sum() > 0
