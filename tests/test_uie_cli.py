"""`erniem extract` and `erniem uie ...`: streaming JSON Lines, bad lines named by number, atomic outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tests.conftest import planted_model

from erniem.cli import main

NAME = "Zorbulax"


@pytest.fixture(scope="module")
def model_dir(tokenizer, tmp_path_factory):
    """The planted model (it finds "Zorbulax" and nothing else), saved with its tokenizer."""
    pieces = tokenizer(" " + NAME, add_special_tokens=False)["input_ids"]
    directory = tmp_path_factory.mktemp("cli") / "model"
    planted_model(tokenizer, {pieces[0]}, {pieces[-1]}).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture
def schema(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(["人物"], ensure_ascii=False), encoding="utf-8")
    return path


def extract(arguments, stdin: bytes):
    command = [sys.executable, "-m", "erniem.cli", "extract", *map(str, arguments)]
    return subprocess.run(command, input=stdin, capture_output=True, check=False)


LINES = [
    json.dumps({"text": f"We met {NAME} today."}).encode(),
    b'{"text": "broken',
    b'{"text": "caf\xe9"}',  # Latin-1, not UTF-8
    json.dumps({"words": "no text"}).encode(),
    json.dumps({"text": ""}).encode(),
    json.dumps({"text": f"{NAME} again."}).encode(),
]


def test_skip_keeps_one_output_line_per_input_line(model_dir, schema):
    done = extract(["--model", model_dir, "--schema", schema, "--on-error", "skip", "-"], b"\n".join(LINES) + b"\n")
    assert done.returncode == 0, done.stderr.decode()
    results = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert results[0] == {"人物": [{"text": NAME, "start": 7, "end": 15, "probability": pytest.approx(0.9, abs=0.1)}]}
    assert results[1:5] == [None, None, None, {}]
    assert results[5]["人物"][0]["start"] == 0 and len(results) == 6
    errors = done.stderr.decode()
    for message in (
        "line 2: not JSON",
        "line 3: not UTF-8",
        'line 4: expected an object {"text"',
        "line 5: empty text",
    ):
        assert message in errors


def test_stop_keeps_what_was_written_before_the_bad_line(model_dir, schema, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(LINES))
    done = extract(["--model", model_dir, "--schema", schema, source], b"")
    assert done.returncode == 1
    assert [json.loads(line)["人物"][0]["text"] for line in done.stdout.decode().splitlines()] == [NAME]
    assert f"{source}: line 2: not JSON" in done.stderr.decode()


def test_long_texts_and_bad_schemas(model_dir, schema, tmp_path, capsys):
    text = ("filler words " * 3000) + NAME
    done = extract(
        ["--model", model_dir, "--schema", schema, "--max-seq-len", "64", "-"], json.dumps({"text": text}).encode()
    )
    assert json.loads(done.stdout)["人物"][0]["start"] == len(text) - len(NAME)
    bad = tmp_path / "bad.json"
    for content, message in (("[1]", "schema[0] is a int"), ('{"": []}', "cannot be empty"), ("[", "is not JSON")):
        bad.write_text(content)
        assert main(["extract", "--model", str(model_dir), "--schema", str(bad), "-"]) == 1
        assert message in capsys.readouterr().err


def test_convert_train_evaluate(model_dir, tmp_path, capsys):
    pytest.importorskip("accelerate", reason="transformers.Trainer needs accelerate (extra `train`)")
    acme = len(NAME) + len(" works for ")
    labels = [[0, len(NAME), "人物"], [acme, acme + 4, "公司"]]
    records = [{"text": f"{NAME} works for Acme number {i}.", "label": labels} for i in range(20)]
    export = tmp_path / "export.jsonl"
    export.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    data = tmp_path / "data"
    assert (
        main(["uie", "convert-doccano", str(export), "--output-dir", str(data), "--splits", "0.5", "0.25", "0.25"]) == 0
    )
    assert [len((data / f"{part}.jsonl").read_text().splitlines()) for part in ("train", "dev", "test")] == [20, 10, 10]
    trained = tmp_path / "trained"
    arguments = [
        "uie",
        "train",
        "--model",
        str(model_dir),
        "--train",
        str(data / "train.jsonl"),
        "--output",
        str(trained),
    ]
    assert main([*arguments, "--epochs", "1"]) == 0
    assert (trained / "model.safetensors").is_file() and not (trained / "training_args.bin").exists()
    assert main([*arguments, "--epochs", "1"]) == 1  # exists: refused without --overwrite
    assert "exists" in capsys.readouterr().err
    assert main(["uie", "evaluate", "--model", str(model_dir), "--data", str(data / "test.jsonl"), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    # The planted model finds the name for every prompt: right for 人物, wrong for 公司.
    assert scores["items"]["人物"]["f1"] == 1.0 and scores["items"]["公司"]["correct"] == 0


def test_bad_examples_stop_training_with_their_line(model_dir, tmp_path, capsys):
    bad = tmp_path / "train.jsonl"
    bad.write_text(json.dumps({"content": "x", "prompt": "p", "result_list": []}) + "\n{oops\n", encoding="utf-8")
    assert main(["uie", "train", "--model", str(model_dir), "--train", str(bad), "--output", str(tmp_path / "o")]) == 1
    assert f"{bad}: line 2: not JSON" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
