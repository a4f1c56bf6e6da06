"""Examples that cannot rot: every python and shell block of README.md and docs/**/*.md runs here on tiny local
models, or is marked skip with its reason (the markers are described in tests/doc_examples.py). Each block is a
test named FILE:LINE; at the end the module prints what ran and what was skipped, and why.

Each example runs in a fresh working directory holding the input files the commands read (`DATA_FILES`) and the
stand-ins for the models the documentation names; a stand-in is copied in when the block mentions its path:

| name in the documentation | stand-in |
|---|---|
| `path/to/uie-m-base` | a UIE-M saved by PaddleNLP 2.8.1 (the `paddle_checkpoints` fixture: 2 layers, 32 wide) |
| `uie-m-base-erniem` | that UIE-M, converted |
| `path/to/classifier` | an `ErnieMForSequenceClassification` (labels negative, positive) with its tokenizer |
| `path/to/ernie-m-base_pytorch` | an `ErnieMModel` laid out as transformers 4.x wrote it (`pytorch_model.bin`) |
| `task-model` | an `ErnieMModel` whose two labels are IOB tags: every task head loads on it (the head new) |
| `uie-m-base`, a published name | that UIE-M in the model cache (`ERNIEM_HOME`) |

The models are tiny (1 layer unless said, 32 wide) over the real 250,002-id vocabulary. The cache is filled once
per session as a first use fills it: `erniem.catalog.prepare_model` downloads PaddleNLP's files from a loopback
mirror that serves them under the published URL paths, checks and converts them; the examples then run with
`ERNIEM_OFFLINE=1`, so nothing reaches a network. Other placeholders (`DIR`, a variable `checkpoint`, ...) are
replaced by the substitutions of the block's marker.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import torch
from tests.conftest import ROOT, small
from tests.doc_examples import NEVER_RUN, Example, chain, examples_in, examples_of, orphan_markers
from tests.mirror import Mirror

import erniem
from erniem.catalog import published_model
from erniem.catalog.cache import prepare_model
from erniem.catalog.registry import REGISTRY_FILE

EXAMPLES = examples_of(ROOT)
BY_ID = {example.id: example for example in EXAMPLES}
RUNNER = Path(__file__).with_name("doc_examples.py")
TIMEOUT = 300  # seconds for one example (or one python chain)
TEXTS = ["In 1997, Steve was excited to become the CEO of Apple.", "张三出生在北京。"]
EMPLOYEES = (
    "Alice/Acme Bob/Globex Chen/Initech Dana/Umbrella Emil/Hooli Fatima/Soylent Gustav/Vandelay Hana/Stark Ivan/Wonka"
)


def _doccano_record(person: str, company: str) -> dict:
    """A line of a doccano >= 1.7 extraction export: two entities and an employer relation."""
    text = f"{person} works for {company}."
    start = text.index(company)
    return {
        "text": text,
        "entities": [
            {"id": 1, "start_offset": 0, "end_offset": len(person), "label": "person"},
            {"id": 2, "start_offset": start, "end_offset": start + len(company), "label": "organization"},
        ],
        "relations": [{"id": 3, "from_id": 1, "to_id": 2, "type": "employer"}],
    }


DOCCANO = "".join(json.dumps(_doccano_record(*pair.split("/"))) + "\n" for pair in EMPLOYEES.split())
DATA_FILES = {
    "schema.json": json.dumps(["person", "organization"]),
    "texts.jsonl": "".join(json.dumps({"text": text}, ensure_ascii=False) + "\n" for text in TEXTS),
    "qa.jsonl": json.dumps({"question": "Who became CEO?", "context": TEXTS[0]}) + "\n",
    "items.jsonl": json.dumps({"context": "Steve became", "choices": ["the CEO.", "a fish."]}) + "\n",
    "export.jsonl": DOCCANO,
    "data/doccano_ext.json": DOCCANO,
    "corpus/en.txt": "The cat sleeps on the mat.\nWe drink coffee every morning.\nThe train leaves at nine.\n",
    "corpus/de.txt": "Die Katze schläft auf der Matte.\nWir trinken jeden Morgen Kaffee.\n",
    "pairs.tsv": "source_language\ttarget_language\tsource\ttarget\n"
    "en\tde\tThe cat sleeps.\tDie Katze schläft.\nen\tfr\tThe train leaves.\tLe train part.\n",
}


def _params():
    for example in EXAMPLES:
        marks = []
        if example.action == "skip" and not example.problem:
            marks = [pytest.mark.skip(reason=f"{example.id}: {example.reason}")]
        yield pytest.param(example, id=example.id, marks=marks)


@dataclass
class Workspace:
    """What every example's working directory is made from."""

    stand_ins: dict[str, Path]  # name in the documentation -> the directory copied there
    home: Path  # ERNIEM_HOME, whose model cache holds the published names
    root: Path  # where the working directories go

    def directory(self, example: Example, program: str) -> Path:
        """A fresh working directory with the data files and the stand-ins `program` names."""
        directory = self.root / re.sub(r"[^\w.-]", "_", example.id)
        shutil.rmtree(directory, ignore_errors=True)
        for name, text in DATA_FILES.items():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            (directory / name).write_text(text, encoding="utf-8")
        for name, source in self.stand_ins.items():
            if re.search(rf"(?<![\w./-]){re.escape(name)}(?![\w-])", program):
                shutil.copytree(source, directory / name)
        return directory

    def environment(self) -> dict[str, str]:
        """The environment of an example: this venv's commands first, the cache, and no network."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("ERNIEM_MODEL_", "PYTHONPATH"))}
        environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment.get("PATH", "")])
        environment.update(ERNIEM_HOME=str(self.home), ERNIEM_OFFLINE="1", HF_HUB_OFFLINE="1")
        return environment


@pytest.fixture(scope="session")
def workspace(tmp_path_factory, paddle_checkpoints, tokenizer) -> Workspace:
    base = tmp_path_factory.mktemp("doc-examples")
    home = base / "home"
    _cache_published_model("uie-m-base", paddle_checkpoints / "uie_m", home, base)

    torch.manual_seed(0)
    classifier = base / "classifier"
    labels = {"id2label": {0: "negative", 1: "positive"}, "label2id": {"negative": 0, "positive": 1}}
    small(erniem.ErnieMForSequenceClassification, tokenizer, **labels).save_pretrained(classifier)
    tokenizer.save_pretrained(classifier)

    encoder = base / "ernie-m-base_pytorch"  # as transformers 4.x saved it: a pickled state dict
    model = small(erniem.ErnieMModel, tokenizer)
    model.config.save_pretrained(encoder)
    torch.save(model.state_dict(), encoder / "pytorch_model.bin")
    tokenizer.save_pretrained(encoder)

    task_model = base / "task-model"
    tags = ["O", "B-PER"]  # two labels, as the question-answering head's start and end need
    labels = {"id2label": dict(enumerate(tags)), "label2id": {tag: i for i, tag in enumerate(tags)}}
    small(erniem.ErnieMModel, tokenizer, **labels).save_pretrained(task_model)
    tokenizer.save_pretrained(task_model)

    stand_ins = {
        "path/to/uie-m-base": paddle_checkpoints / "uie_m",
        "uie-m-base-erniem": home / "models" / "uie-m-base" / "erniem",
        "path/to/classifier": classifier,
        "path/to/ernie-m-base_pytorch": encoder,
        "task-model": task_model,
    }
    return Workspace(stand_ins, home, base / "runs")


def _cache_published_model(name: str, paddle_folder: Path, home: Path, base: Path) -> None:
    """Put `name` in the model cache under `home` the way a first use does, from a loopback mirror serving
    `paddle_folder`'s files under the published URL paths (the registry's md5s replaced by theirs)."""
    entries = json.loads(REGISTRY_FILE.read_text(encoding="utf-8"))["models"]
    entry, files = entries[name], {}
    for file_name, spec in entry["files"].items():
        data = (paddle_folder / file_name).read_bytes()
        files[urlsplit(spec["url"]).path] = data
        spec["md5"] = hashlib.md5(data).hexdigest()
    registry = base / "registry.json"
    registry.write_text(json.dumps({"models": {name: entry}}), encoding="utf-8")
    with Mirror(files) as mirror, pytest.MonkeyPatch.context() as patch:
        patch.setenv("ERNIEM_MODEL_ENDPOINT", mirror.url)
        patch.setenv("ERNIEM_MODEL_REGISTRY", str(registry))
        prepare_model(published_model(name), home / "models", progress=False)


@pytest.fixture(scope="session")
def outcomes() -> dict[str, dict]:
    """Python chains already run: chain start id -> {example id: {"ok", "error"}}."""
    return {}


class _Summary:
    """A plugin that ends pytest's report with what ran and what was skipped, and why."""

    def __init__(self):
        self.ran: list[str] = []

    def pytest_terminal_summary(self, terminalreporter) -> None:
        skipped = defaultdict(list)
        for example in EXAMPLES:
            if example.action == "skip":
                skipped[example.reason].append(example.id)
        others = len(EXAMPLES) - len(self.ran) - sum(map(len, skipped.values()))
        write = terminalreporter.write_line
        terminalreporter.write_sep("-", "documentation examples")
        write(f"{len(EXAMPLES)} blocks: {len(self.ran)} ran, {sum(map(len, skipped.values()))} skipped, "
              f"{others} failed or not selected")  # fmt: skip
        write(f"ran: {', '.join(self.ran)}")
        for reason, ids in skipped.items():
            write(f"skipped ({reason}): {', '.join(ids)}")


@pytest.fixture(scope="module", autouse=True)
def summary(request) -> list[str]:
    """The ids of the examples that ran, reported at the end of the session."""
    report = _Summary()
    request.config.pluginmanager.register(report, "erniem-doc-examples-summary")
    return report.ran


@pytest.mark.parametrize("example", list(_params()))
def test_example(example: Example, request, summary):
    if example.problem:
        pytest.fail(f"{example.id}: {example.problem} (markers: see tests/doc_examples.py)")
    workspace = request.getfixturevalue("workspace")
    if example.language == "python":
        _run_python(example, workspace, request.getfixturevalue("outcomes"))
    else:
        _run_shell(example, workspace)
    summary.append(example.id)


def _advice(example: Example) -> str:
    if example.marked:
        return "fix the block (or its marker)"
    return "fix it, or mark it `<!-- example: skip (why it cannot run here) -->` (see tests/doc_examples.py)"


def _run_python(example: Example, workspace: Workspace, outcomes: dict[str, dict]) -> None:
    links = chain(example, BY_ID)
    start = links[0]
    if start.id not in outcomes:  # run the start with every continuation of it, once
        members = [
            e
            for e in EXAMPLES
            if e.language == "python"
            and not e.problem
            and e.action in ("run", "continue")
            and chain(e, BY_ID)[0] is start
        ]
        blocks = [{"id": e.id, "file": str(ROOT / e.path), "line": e.line, "source": e.program()} for e in members]
        directory = workspace.directory(start, "\n".join(block["source"] for block in blocks))
        (directory / ".spec.json").write_text(json.dumps(blocks), encoding="utf-8")
        done = _run([sys.executable, str(RUNNER), ".spec.json", ".result.json"], directory, workspace, start)
        result_file = directory / ".result.json"
        results = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else []
        outcomes[start.id] = {result["id"]: result for result in results}
        outcomes[start.id]["output"] = f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        if len(results) == len(members) and all(result["ok"] for result in results):
            shutil.rmtree(directory)  # what the examples wrote (checkpoints too); a failure keeps it to be looked at
    results = outcomes[start.id]
    for link in links:
        result = results.get(link.id)
        if result is None:
            pytest.fail(f"{example.id}: not reached ({link.id} did not finish):\n{results['output']}")
        if not result["ok"]:
            where = "" if link is example else f" (in {link.id}, which it continues)"
            pytest.fail(f"{example.id} failed{where}; {_advice(link)}:\n{result['error']}\n{results['output']}")


def _run(command: list[str], directory: Path, workspace: Workspace, example: Example):
    try:
        return subprocess.run(
            command, cwd=directory, env=workspace.environment(), capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired as timeout:
        output = (timeout.stderr or b"")[-3000:]
        pytest.fail(f"{example.id} ran past {TIMEOUT} s; {_advice(example)}:\n{output!r}")


def _run_shell(example: Example, workspace: Workspace) -> None:
    program = example.program()
    if NEVER_RUN.search(program):
        pytest.fail(
            f"{example.id}: {NEVER_RUN.search(program)[0]!r} is never run by this test (it installs, serves, runs "
            "the suites or needs a network): mark the block `<!-- example: skip (why; which test covers it) -->`"
        )
    directory = workspace.directory(example, program)
    done = _run(["bash", "-e", "-o", "pipefail", "-c", program], directory, workspace, example)
    if done.returncode != 0:
        pytest.fail(
            f"{example.id} exited with {done.returncode}; {_advice(example)}:\n{program}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )
    shutil.rmtree(directory)


def test_every_block_is_accounted_for():
    """Each block runs or is skipped with a reason, and every marker sits right before a block."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    orphans = [f"{page.relative_to(ROOT)}:{line}" for page in pages for line in orphan_markers(page.read_text())]
    assert not orphans, f"example markers not right before a code block: {orphans}"
    assert {example.path for example in EXAMPLES} >= {"README.md", "docs/index.md", "docs/models.md"}
    assert [example.id for example in EXAMPLES if example.problem] == []
    assert all(example.reason for example in EXAMPLES if example.action == "skip")


PAGE = """\
<!-- example: skip (needs internet) -->
```bash
pip install erniem
```

<!-- example: run (DIR=model, NAME="x") -->
```python
load("DIR", NAME)
```

<!-- example: continue -->
<!-- check: another test's marker -->
```python title="more"
use()
```

<!-- example: synopsis -->
```sh
erniem convert SRC DST [--verify [OUT.npz]] \\
    [--overwrite]
```

```console
$ erniem --help
usage: erniem ...
```

```json
{"not": "an example"}
```

<!-- example: skip -->
```python
x
```

<!-- example: run -->
Text, not a block.
"""


def test_markers_are_read():
    skip, run, more, synopsis, console, reasonless = examples_in(PAGE, "page.md")
    assert (skip.id, skip.language, skip.action, skip.reason) == ("page.md:2", "shell", "skip", "needs internet")
    assert run.program() == 'load("model", "x")\n' and run.marked
    assert (more.action, more.follows, chain(more, {run.id: run})) == ("continue", run.id, [run, more])
    assert synopsis.program() == "erniem convert SRC DST \\\n\n"
    assert (console.source, console.action, console.marked) == ("erniem --help\n", "run", False)
    assert "needs a reason" in reasonless.problem
    assert orphan_markers(PAGE) == [len(PAGE.split("\n")) - 2]
