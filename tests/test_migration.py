"""The migration guides (docs/migration/) run as printed, and what they claim is checked.

Taskflow guide: the code blocks marked `<!-- check: NAME -->` run on both sides: the PaddleNLP blocks in PaddleNLP
2.8.1 (tests/reference/taskflow_migration.py), the erniem blocks here, once as printed and once with every pipeline
in `compat="taskflow"` (the fine-tuning commands, which train, are only checked against erniem's parser). Both sides
read two UIE-Ms saved by PaddleNLP: a hand-built one whose answers are known (tests/reference/planted.py: it marks
Steve, Apple, 北京 and 上海, outside the prompt) and a random one (tests/reference/paddle_reference.py), whose
probabilities go through every layer. erniem finds them under the name the guide uses, "uie-m-base", in a model
cache prepared as `erniem download` prepares it (PaddleNLP's files are already there, so `prepare_model` downloads
nothing and converts them with `convert_checkpoint`); Taskflow gets them as its `task_path`.

Transformers guide: its erniem blocks run on a small checkpoint laid out as transformers 4.x wrote them; its claims
about the numbers are tests/test_parity.py's.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import torch
from tests.conftest import ROOT, run_reference

import erniem
import erniem.uie
from erniem.catalog import prepare_model, published_model
from erniem.uie import UIEPipeline

pytestmark = pytest.mark.reference

GUIDES = ROOT / "docs" / "migration"
MARKER = re.compile(r"<!-- check: ([\w-]+) -->")
FENCE = re.compile(r'^```(\w+) title="([^"]*)"\n(.*?)^```$', re.S | re.M)
PLANTED = {"starts": ["▁Steve", "▁Apple", "北", "上"], "ends": ["▁Steve", "▁Apple", "京", "海"], "quiet_below": 5}
# The names each check's code leaves to compare (erniem's long-text block also leaves `found`), in the guide's order;
# the checks whose texts fit one window.
RECORD = {"entities": ["results"], "relations": ["results"], "set-schema": ["results"], "options": ["results"],
          "long-text": ["results"], "finetuned": ["results"], "server": [], "client": ["asked", "after"]}  # fmt: skip
ONE_WINDOW = ["entities", "relations", "set-schema", "options", "finetuned"]


@dataclass(frozen=True)
class Block:
    language: str
    title: str
    code: str


def checked_blocks(page: Path) -> dict[str, list[Block]]:
    """{name: code blocks} of every `<!-- check: NAME -->` on a guide page: the blocks of the grid that follows the
    marker, or else the one block that follows it (other comments may come between)."""
    text = page.read_text(encoding="utf-8")
    checks = {}
    for marker in MARKER.finditer(text):
        rest = text[marker.end() :].lstrip()
        rest = rest[: rest.index("</div>")] if rest.startswith("<div") else rest[: FENCE.search(rest).end()]
        checks[marker.group(1)] = [Block(*match.groups()) for match in FENCE.finditer(rest)]
    return checks


def side(blocks: list[Block], prefix: str) -> list[Block]:
    """The blocks titled for one side ("PaddleNLP", "transformers", "erniem"), and those for either side."""
    sides = ("PaddleNLP", "transformers", "erniem")
    return [block for block in blocks if block.title.startswith(prefix) or not block.title.startswith(sides)]


def shell_commands(code: str) -> list[str]:
    """The commands of a shell block, continuation lines joined."""
    return [line for line in code.replace("\\\n", " ").splitlines() if line.strip() and not line.startswith("#")]


# --- comparing results ----------------------------------------------------------------------------------------


def position(span: dict) -> tuple:
    return (span.get("start", -1), span.get("end", -1), span["text"], span["probability"])


def normalised(results):
    """Results with spans without text left out (erniem drops spans on special tokens), names left without spans
    dropped, and every list of spans sorted by position."""
    if isinstance(results, dict):
        cleaned = {name: normalised(value) for name, value in results.items()}
        return {name: value for name, value in cleaned.items() if value != []}
    if isinstance(results, list):
        kept = [normalised(item) for item in results if not (isinstance(item, dict) and item.get("text") == "")]
        spans = all(isinstance(item, dict) and "probability" in item for item in kept)
        return sorted(kept, key=position) if spans else kept
    return results


def split(results) -> tuple:
    """(the results with every probability replaced by None, the probabilities in order)."""
    found = []

    def strip(value):
        if isinstance(value, dict):
            if "probability" in value:
                found.append(value["probability"])
            return {key: None if key == "probability" else strip(item) for key, item in value.items()}
        return [strip(item) for item in value] if isinstance(value, list) else value

    return strip(results), found


def assert_same_results(ours, taskflow):
    (structure, probabilities), (expected, expected_probabilities) = map(split, map(normalised, (ours, taskflow)))
    assert structure == expected
    assert probabilities == pytest.approx(expected_probabilities, abs=1e-5)


def spans_of(results) -> list[list[dict]]:
    """Every list of spans in the results, nested relations included."""
    lists = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            if value and all(isinstance(item, dict) and "probability" in item for item in value):
                lists.append(value)
            for item in value:
                walk(item)

    walk(results)
    return lists


def texts_found(results, name: str) -> list[str]:
    return [span["text"] for result in results for span in result.get(name, [])]


# --- the two sides ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paddle_models(vocabulary, tokenizer, paddle_checkpoints, tmp_path_factory) -> dict[str, Path]:
    """{"planted": ..., "random": ...}: UIE-Ms saved by PaddleNLP 2.8.1."""
    directory = tmp_path_factory.mktemp("migration-models")
    spec = {key: tokenizer.convert_tokens_to_ids(v) if isinstance(v, list) else v for key, v in PLANTED.items()}
    (directory / "spec.json").write_text(json.dumps(spec))
    planted_script = ROOT / "tests" / "reference" / "planted_paddle.py"
    run_reference("paddlenlp", planted_script, vocabulary, directory / "spec.json", directory / "planted")
    return {"planted": directory / "planted", "random": paddle_checkpoints / "uie_m"}


@pytest.fixture(scope="module")
def taskflow_guide() -> dict[str, list[Block]]:
    return checked_blocks(GUIDES / "taskflow.md")


def work_dir(base: Path, model: Path) -> Path:
    """A fresh folder holding the model as `checkpoint/model_best` (the guide's fine-tuned model)."""
    base.mkdir(parents=True)
    shutil.copytree(model, base / "checkpoint" / "model_best")
    return base


@pytest.fixture(scope="module")
def taskflow_side(paddle_models, taskflow_guide, tmp_path_factory) -> dict[str, dict]:
    """What the guide's PaddleNLP code gives: {"planted": {check: recorded}, "random": {"entities": recorded}}."""
    directory = tmp_path_factory.mktemp("taskflow-side")
    runs = []
    for model, checks in (("planted", list(RECORD)), ("random", ["entities"])):
        model_dir = directory / f"{model}-model"  # Taskflow writes its static model beside the weights
        shutil.copytree(paddle_models[model], model_dir)
        blocks = [
            {"name": name, "code": block.code, "record": RECORD[name]}
            for name in checks
            for block in side(taskflow_guide[name], "PaddleNLP")
        ]
        runs.append({"model_dir": str(model_dir), "work_dir": str(work_dir(directory / model, model_dir)),
                     "blocks": blocks})  # fmt: skip
    (directory / "runs.json").write_text(json.dumps(runs, ensure_ascii=False), encoding="utf-8")
    script = ROOT / "tests" / "reference" / "taskflow_migration.py"
    run_reference("paddlenlp", script, directory / "runs.json", directory / "out.json")
    planted, random = json.loads((directory / "out.json").read_text(encoding="utf-8"))
    return {"planted": planted, "random": random}


@pytest.fixture(scope="module")
def model_homes(paddle_models, tmp_path_factory) -> dict[str, Path]:
    """{model: an ERNIEM_HOME whose cache holds that model as "uie-m-base"}, made by `prepare_model`."""
    homes = {}
    for model, source in paddle_models.items():
        home = tmp_path_factory.mktemp(f"home-{model}")
        shutil.copytree(source, home / "models" / "uie-m-base" / "paddle")
        prepare_model(published_model("uie-m-base"), home / "models", progress=False)
        homes[model] = home
    return homes


class TaskflowMode(UIEPipeline):
    """`UIEPipeline` in `compat="taskflow"`, whatever the code asks: the guide's code run in that mode too."""

    def __init__(self, *arguments, **options):
        super().__init__(*arguments, **{**options, "compat": "taskflow"})


class Guide:
    """Runs the erniem blocks of a guide in one namespace, in one folder, as a reader would run them in order."""

    def __init__(self, monkeypatch, directory: Path):
        self.namespace: dict = {"__name__": "__guide__"}
        self.monkeypatch, self.directory = monkeypatch, directory
        monkeypatch.chdir(directory)

    def run(self, block: Block) -> None:
        if block.language == "python":
            exec(compile(block.code, f"<guide: {block.title}>", "exec"), self.namespace)
        else:
            for command in shell_commands(block.code):
                self.shell(command)

    def shell(self, command: str) -> None:
        """`erniem ...` through the command's own entry point, in this process (`erniem serve` builds its app and
        hands it over instead of serving it); anything else (`echo`) through the shell."""
        if not command.startswith("erniem "):
            subprocess.run(command, shell=True, check=True, cwd=self.directory)
            return
        import uvicorn

        from erniem.cli import main

        served = []
        self.monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
        assert main(shlex.split(command)[1:]) == 0, command
        if served:
            self.namespace["app"] = served[0]

    def record(self, names: list[str]) -> dict:
        return {name: self.namespace[name] for name in names}


def loopback_requests(client) -> types.ModuleType:
    """A `requests` module whose `post` the test client's app answers, in process."""
    module = types.ModuleType("requests")
    module.post = lambda url, json=None, **_: client.post(urlsplit(url).path, json=json)
    return module


def run_erniem_side(guide_blocks, paddle_models, model_homes, directory: Path, taskflow_mode: bool) -> dict:
    """What the guide's erniem code gives: {"planted": {check: recorded}, "random": {"entities": recorded}}."""
    pytest.importorskip("fastapi")  # the serve extra, for `erniem serve`
    from fastapi.testclient import TestClient

    outputs = {}
    for model, checks in (("planted", list(RECORD)), ("random", ["entities"])):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("ERNIEM_HOME", str(model_homes[model]))
            monkeypatch.setenv("ERNIEM_OFFLINE", "1")  # the name comes from the cache, never from the network
            if taskflow_mode:
                monkeypatch.setattr(erniem.uie, "UIEPipeline", TaskflowMode)
            guide = Guide(monkeypatch, work_dir(directory / model, paddle_models[model]))
            recorded = outputs.setdefault(model, {})
            for name in checks:
                for block in side(guide_blocks[name], "erniem"):
                    if name != "client":
                        guide.run(block)
                        continue
                    with TestClient(guide.namespace["app"]) as client:  # its lifespan loads the model
                        wait_until_ready(client)
                        monkeypatch.setitem(sys.modules, "requests", loopback_requests(client))
                        guide.run(block)
                recorded[name] = guide.record(RECORD[name] + (["found"] if name == "long-text" else []))
    return outputs


def wait_until_ready(client, seconds: float = 60) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while client.get("/health").status_code != 200:
        assert time.monotonic() < deadline, "the served model did not load"
        time.sleep(0.05)
    return True


@pytest.fixture(scope="module")
def erniem_side(taskflow_guide, paddle_models, model_homes, tmp_path_factory) -> dict:
    """The guide's erniem code as printed."""
    directory = tmp_path_factory.mktemp("erniem-side")
    return run_erniem_side(taskflow_guide, paddle_models, model_homes, directory, taskflow_mode=False)


@pytest.fixture(scope="module")
def erniem_side_in_taskflow_mode(taskflow_guide, paddle_models, model_homes, tmp_path_factory) -> dict:
    """The guide's erniem code with every pipeline in `compat="taskflow"`."""
    directory = tmp_path_factory.mktemp("erniem-side-taskflow-mode")
    return run_erniem_side(taskflow_guide, paddle_models, model_homes, directory, taskflow_mode=True)


# --- the Taskflow guide's claims ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["erniem_side", "erniem_side_in_taskflow_mode"])
def test_texts_of_one_window_get_taskflows_spans_and_probabilities(mode, taskflow_side, request):
    ours = request.getfixturevalue(mode)
    for model, checks in taskflow_side.items():
        for name in checks:
            if name in ONE_WINDOW:
                assert_same_results(ours[model][name]["results"], checks[name]["results"])
    # The served route answers as Taskflow's server does, for a request that brings its schema.
    assert_same_results(ours["planted"]["client"]["asked"], taskflow_side["planted"]["client"]["asked"])
    # compat="taskflow" gives Taskflow's results on a text of several windows too.
    assert_same_results(ours["planted"]["long-text"]["results"], taskflow_side["planted"]["long-text"]["results"])


def test_the_comparison_is_not_between_empty_results(taskflow_side):
    planted = taskflow_side["planted"]
    assert sorted(texts_found(planted["entities"]["results"], "person")) == ["Apple", "Steve"]
    cities = planted["relations"]["results"][0]["城市"]
    assert sorted(city["text"] for city in cities) == ["上海", "北京"]
    assert all(sorted(p["text"] for p in city["relations"]["人口"]) == ["上海", "北京"] for city in cities)
    assert sorted(texts_found(planted["set-schema"]["results"], "城市")) == ["上海", "北京"]
    assert "relations" not in planted["set-schema"]["results"][0]["城市"][0]  # the new schema, not the old
    assert sorted(texts_found(planted["options"]["results"], "person")) == ["Apple", "Steve"]
    assert sorted(texts_found(planted["finetuned"]["results"], "person")) == ["Apple", "Steve"]
    assert any(span["text"] for span in taskflow_side["random"]["entities"]["results"][0]["person"])


def test_a_requests_schema_sticks_in_taskflows_server_but_not_in_erniems(taskflow_side, erniem_side):
    taskflow, ours = taskflow_side["planted"]["client"], erniem_side["planted"]["client"]
    assert list(taskflow["asked"]["result"][0]) == list(ours["asked"]["result"][0]) == ["organization"]
    # PaddleNLP: set_schema on the shared Taskflow, so the request without a schema is answered for "organization".
    assert taskflow["after"] == taskflow["asked"]
    # erniem: the schema given at start-up, ["person"], as a pipeline of that schema answers.
    assert ours["after"]["result"] == erniem_side["planted"]["finetuned"]["results"]
    assert list(ours["after"]["result"][0]) == ["person"]


def test_the_default_mode_finds_what_taskflows_slices_cut(taskflow_side, erniem_side):
    text = "据新华社记者报道，今年的秋天北京的天气很好，上海也是。"
    slice_width = 20 - len("城市") - 3  # Taskflow's: max_seq_len - len(longest prompt) - 3
    assert text.index("北京") == slice_width - 1  # 北 ends the first slice, 京 starts the second
    assert texts_found(taskflow_side["planted"]["long-text"]["results"], "城市") == ["上海"]
    assert texts_found(erniem_side["planted"]["long-text"]["results"], "城市") == ["上海"]
    found = erniem_side["planted"]["long-text"]["found"][0]["城市"]
    assert [(span["text"], span["start"], span["end"]) for span in found] == [("北京", 14, 16), ("上海", 22, 24)]


def test_taskflows_spans_on_special_tokens_are_dropped(taskflow_side, erniem_side):
    taskflow, ours = taskflow_side["random"]["entities"]["results"], erniem_side["random"]["entities"]["results"]
    assert any(span["text"] == "" and (span["start"], span["end"]) == (0, 0) for spans in spans_of(taskflow)
               for span in spans)  # fmt: skip
    assert all(span["text"] and span["start"] < span["end"] for spans in spans_of(ours) for span in spans)


def test_results_come_sorted_by_position(erniem_side):
    for model in erniem_side.values():
        for recorded in model.values():
            for spans in spans_of(recorded):
                starts = [(span["start"], span["end"]) for span in spans]
                assert starts == sorted(starts)


def test_taskflows_schema_lang_ch_is_zh_here(paddle_models, model_homes, monkeypatch):
    monkeypatch.setenv("ERNIEM_HOME", str(model_homes["planted"]))
    monkeypatch.setenv("ERNIEM_OFFLINE", "1")
    with pytest.raises(ValueError, match="schema_lang must be 'zh' or 'en'"):
        UIEPipeline.from_pretrained("uie-m-base", ["城市"], schema_lang="ch")


def test_the_guides_erniem_commands_are_erniems(taskflow_guide):
    from erniem.cli import parser

    commands = [
        command
        for blocks in taskflow_guide.values()
        for block in side(blocks, "erniem")
        if block.language == "bash"
        for command in shell_commands(block.code)
        if command.startswith("erniem ")
    ]
    assert {shlex.split(command)[1] for command in commands} >= {"uie", "serve"}
    for command in commands:
        parser().parse_args(shlex.split(command)[1:])  # exits (SystemExit) on an unknown command or option


# --- the transformers guide ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def transformers_checkpoint(vocabulary, tmp_path_factory) -> Path:
    """A small checkpoint laid out as transformers 4.x wrote them: config.json, weights, the tokenizer's files."""
    directory = tmp_path_factory.mktemp("ernie-m-4x")
    torch.manual_seed(0)
    config = erniem.ErnieMConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    erniem.ErnieMModel(config).save_pretrained(directory)
    for name in ("sentencepiece.bpe.model", "vocab.txt"):
        shutil.copy(vocabulary / name, directory / name)
    erniem.ErnieMTokenizer(directory / "sentencepiece.bpe.model", directory / "vocab.txt").save_pretrained(directory)
    return directory


def test_the_transformers_guides_erniem_code_runs(transformers_checkpoint, monkeypatch, tmp_path):
    guide = Guide(monkeypatch, tmp_path)
    guide.namespace["checkpoint"] = str(transformers_checkpoint)
    checks = checked_blocks(GUIDES / "transformers.md")
    assert list(checks) == ["auto", "classes", "dtype", "offsets", "inputs"]
    results = {}
    for name, blocks in checks.items():
        assert len(side(blocks, "transformers")) == len(side(blocks, "erniem")) == 1  # a 4.x block beside each
        guide.run(side(blocks, "erniem")[0])
        results[name] = dict(guide.namespace)
    auto = results["auto"]
    assert type(auto["tokenizer"]) is erniem.ErnieMTokenizerFast and type(auto["model"]) is erniem.ErnieMModel
    assert auto["outputs"].last_hidden_state.shape[:2] == auto["inputs"]["input_ids"].shape
    assert type(results["classes"]["model"]).__name__ == "ErnieMForSequenceClassification"
    assert results["classes"]["model"].config.num_labels == 3
    assert results["dtype"]["model"].dtype == torch.bfloat16
    assert results["offsets"]["offsets"] == [(0, 5), (5, 6), (7, 9), (10, 13), (14, 16), (17, 21)]
