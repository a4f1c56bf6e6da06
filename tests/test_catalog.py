"""Published models by name: the registry against PaddleNLP 2.8.1's own source, and download, check, conversion
and cache against a loopback mirror that serves PaddleNLP-written checkpoints under the real URL paths."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from tests.conftest import ROOT, run_reference
from tests.mirror import Mirror

from erniem.catalog import (
    ChecksumError,
    DamagedCacheError,
    DownloadError,
    OfflineError,
    UnknownModelError,
    cached_model,
    published_models,
    resolve_model,
)
from erniem.catalog.registry import REGISTRY_FILE
from erniem.cli import main
from erniem.convert import convert_checkpoint, verify_outputs
from erniem.uie import UIEPipeline

FIXTURE_OF = {"uie-m-base": "uie_m", "uie-m-large": "uie_m", "ernie-m-base": "ernie_m", "ernie-m-large": "ernie_m"}
SCHEMA = ["person", "organization"]
TEXTS = ["In 1997, Steve was excited to become the CEO of Apple.", "María Gómez trabaja en Telefónica en Madrid."]


@pytest.mark.reference
def test_the_registry_is_what_paddlenlp_publishes(tmp_path):
    run_reference("paddlenlp", ROOT / "tests" / "reference" / "paddle_registry.py", tmp_path / "paddle.json")
    paddle = json.loads((tmp_path / "paddle.json").read_text(encoding="utf-8"))
    ours = json.loads(REGISTRY_FILE.read_text(encoding="utf-8"))["models"]
    assert sorted(ours) == sorted(paddle)
    for name, entry in paddle.items():
        assert {file: [spec["url"], spec["md5"]] for file, spec in ours[name]["files"].items()} == entry["files"]
        assert ours[name].get("config") == entry.get("config")
        assert ours[name].get("tokenizer_config") == entry.get("tokenizer_config")


@pytest.fixture(scope="module")
def served(paddle_checkpoints, tmp_path_factory):
    """(mirror files by URL path, a registry file whose md5s and encoder configs are the fixtures')."""
    files, entries = {}, json.loads(REGISTRY_FILE.read_text(encoding="utf-8"))["models"]
    for name, entry in entries.items():
        folder = paddle_checkpoints / FIXTURE_OF[name]
        for file_name, spec in entry["files"].items():
            data = (folder / file_name).read_bytes()
            files[urlsplit(spec["url"]).path] = data
            if spec["md5"] is not None:  # the encoders keep PaddleNLP's "no md5"
                spec["md5"] = hashlib.md5(data).hexdigest()
        if "config" in entry:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            entry["config"] = {key: config[key] for key in entry["config"]}
    registry = tmp_path_factory.mktemp("registry") / "models.json"
    registry.write_text(json.dumps({"models": entries}), encoding="utf-8")
    return files, registry


@pytest.fixture
def mirror(served, tmp_path, monkeypatch):
    files, registry = served
    for variable in ("ERNIEM_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    with Mirror(dict(files)) as running:
        monkeypatch.setenv("ERNIEM_MODEL_ENDPOINT", running.url)
        monkeypatch.setenv("ERNIEM_MODEL_REGISTRY", str(registry))
        monkeypatch.setenv("ERNIEM_HOME", str(tmp_path / "home"))
        yield running


def path_of(name: str, file_name: str) -> str:
    return urlsplit({f.name: f.url for f in published_models()[name].files}[file_name]).path


def test_first_use_downloads_converts_and_extracts_then_the_cache_needs_no_network(
    mirror, paddle_checkpoints, tmp_path, monkeypatch
):
    pipeline = UIEPipeline.from_pretrained("uie-m-base", SCHEMA, schema_lang="en")
    cached = cached_model("uie-m-base")
    assert cached == tmp_path / "home" / "models" / "uie-m-base" / "erniem"
    assert verify_outputs(cached, paddle_checkpoints / "outputs.npz")  # PaddleNLP's own outputs, reproduced
    direct = convert_checkpoint(paddle_checkpoints / "uie_m", tmp_path / "direct")
    expected = UIEPipeline.from_pretrained(direct, SCHEMA, schema_lang="en")(TEXTS)
    assert pipeline(TEXTS) == expected
    assert set(mirror.state.requests.values()) == {1}
    assert len(mirror.state.requests) == len(published_models()["uie-m-base"].files)

    before = sum(mirror.state.requests.values())
    assert UIEPipeline.from_pretrained("uie-m-base", SCHEMA, schema_lang="en")(TEXTS) == expected
    monkeypatch.setenv("ERNIEM_OFFLINE", "1")
    assert resolve_model("uie-m-base") == cached
    assert sum(mirror.state.requests.values()) == before


def test_an_encoder_without_published_md5_or_config_converts_from_the_registry(mirror, paddle_checkpoints, tmp_path):
    assert main(["convert", "ernie-m-base", str(tmp_path / "out")]) == 0
    deviations = verify_outputs(tmp_path / "out", paddle_checkpoints / "outputs.npz")
    assert deviations and max(deviations.values()) <= 1e-5
    checksums = json.loads((tmp_path / "home" / "models" / "ernie-m-base" / "sha256.json").read_text())
    weights = tmp_path / "home" / "models" / "ernie-m-base" / "paddle" / "model_state.pdparams"
    assert checksums["paddle/model_state.pdparams"] == hashlib.sha256(weights.read_bytes()).hexdigest()


def test_a_damaged_cached_file_is_refused(mirror, tmp_path):
    cached = cached_model("uie-m-base")
    weights = cached / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(DamagedCacheError, match=r"erniem download uie-m-base --force"):
        cached_model("uie-m-base")
    assert main(["download", "uie-m-base", "--force"]) == 0
    assert cached_model("uie-m-base") == cached


def test_an_md5_mismatch_is_reported_and_leaves_nothing(mirror, tmp_path):
    weights = path_of("uie-m-base", "model_state.pdparams")
    mirror.state.files[weights] = mirror.state.files[weights][:-1] + b"x"
    with pytest.raises(ChecksumError, match=rf"{mirror.url}{weights} arrived with md5 .* deleted it"):
        cached_model("uie-m-base")
    folder = tmp_path / "home" / "models" / "uie-m-base"
    assert not (folder / "erniem").exists() and not (folder / "sha256.json").exists()
    assert not list(folder.rglob("model_state.pdparams*"))


def test_a_broken_transfer_resumes_with_a_range_request(mirror, paddle_checkpoints):
    weights = path_of("uie-m-base", "model_state.pdparams")
    mirror.state.drop_once.add(weights)
    cached = cached_model("uie-m-base")
    size = len(mirror.state.files[weights])
    assert mirror.state.ranges == [(weights, size // 2)]
    assert mirror.state.requests[weights] == 2
    assert verify_outputs(cached, paddle_checkpoints / "outputs.npz")


def test_server_errors_are_retried(mirror):
    weights = path_of("uie-m-base", "model_state.pdparams")
    mirror.state.failures[weights] = 2
    cached_model("uie-m-base")
    assert mirror.state.requests[weights] == 3


def test_one_line_errors(mirror, tmp_path, capsys, monkeypatch):
    def error(*argv) -> str:
        assert main(list(argv)) == 1
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1, lines
        return lines[0]

    del mirror.state.files[path_of("uie-m-large", "config.json")]
    assert error("download", "uie-m-large") == (
        f"erniem download: {mirror.url}{path_of('uie-m-large', 'config.json')} answered 404 Not Found: "
        f"the mirror set by ERNIEM_MODEL_ENDPOINT={mirror.url} lacks it"
    )
    assert "did you mean 'uie-m-large'?" in error("download", "uie-m-lrge")
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    missing = tmp_path / "nowhere"
    assert error("extract", "--model", str(missing), "--schema", str(schema), "-") == (
        f"erniem extract: no such model directory: {missing}"
    )
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert "cannot write the model cache" in error("download", "uie-m-base", "--cache-dir", str(blocked / "models"))
    mirror.state.huge.add(path_of("uie-m-base", "model_state.pdparams"))
    assert "not enough disk space" in error("download", "uie-m-base")
    assert not list((tmp_path / "home" / "models" / "uie-m-base").rglob("model_state.pdparams*"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "run `erniem download uie-m-base`" in error("download", "uie-m-base")


def test_offline_without_a_cache_names_the_download_command(mirror, monkeypatch):
    monkeypatch.setenv("ERNIEM_OFFLINE", "1")
    with pytest.raises(OfflineError, match=r"run `erniem download uie-m-base`"):
        resolve_model("uie-m-base")
    assert sum(mirror.state.requests.values()) == 0


def test_two_processes_download_once_and_both_succeed(mirror):
    command = [sys.executable, "-m", "erniem.cli", "download", "uie-m-base"]
    processes = [subprocess.Popen(command, env=os.environ.copy(), stderr=subprocess.PIPE) for _ in range(2)]
    results = [(process.wait(timeout=300), process.stderr.read().decode()) for process in processes]
    assert [code for code, _ in results] == [0, 0], results
    assert mirror.state.requests[path_of("uie-m-base", "model_state.pdparams")] == 1


def test_names_paths_and_repositories_resolve_apart(tmp_path):
    assert resolve_model(tmp_path) == tmp_path
    assert resolve_model("susnato/ernie-m-base_pytorch") == "susnato/ernie-m-base_pytorch"
    with pytest.raises(FileNotFoundError, match="no such model directory"):
        resolve_model(tmp_path / "missing")
    with pytest.raises(UnknownModelError, match="known names: ernie-m-base, ernie-m-large, uie-m-base, uie-m-large"):
        resolve_model("ernie-m")


def test_a_download_that_fails_everywhere_names_its_url(mirror):
    weights = path_of("uie-m-base", "model_state.pdparams")
    mirror.state.failures[weights] = 99
    from erniem.catalog.download import Retries, download_file

    with pytest.raises(DownloadError, match=rf"could not download {mirror.url}{weights} after 2 attempts"):
        download_file(mirror.url + weights, Path(os.environ["ERNIEM_HOME"]) / "w", None, Retries(2, 0.01))
