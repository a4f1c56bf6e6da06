"""The command line starts without the model stack and runs quietly; `import erniem` is light and still registers
the ERNIE-M classes with the transformers Auto classes, in either import order (each in a fresh interpreter)."""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from tests.conftest import small

import erniem
from erniem.cli.quiet import quiet

# What parsing arguments must not import: the model stack, and erniem's modules built on it.
HEAVY = ("torch", "transformers", "torchao", "onnx", "onnxruntime", "onnxscript", "sentencepiece", "tokenizers")
HEAVY_ERNIEM = ("erniem.modeling", "erniem.configuration", "erniem.tokenization", "erniem.auto", "erniem.uie")
CONSOLE_SCRIPT = Path(sys.executable).with_name("erniem")  # what `pip install` made of `erniem = "erniem.cli:main"`
IMPORT = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| ( *)(\S+)$")
THIRD_PARTY_NOISE = ("Failed to load", "is an Enum subclass", "Warning", "WARNING")


def erniem_command(*arguments: str, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the `erniem` console script (or, where it is not installed, what it runs) in a fresh interpreter."""
    if CONSOLE_SCRIPT.is_file():
        command = [str(CONSOLE_SCRIPT), *arguments]
    else:
        command = [sys.executable, "-c", "import sys; from erniem.cli import main; sys.exit(main())", *arguments]
    return subprocess.run(command, capture_output=True, text=True, env=environment, check=False)


def python(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)


def imported(stderr: str) -> set[str]:
    """The modules `python -X importtime` (PYTHONPROFILEIMPORTTIME) reported importing."""
    return {match[2] for match in map(IMPORT.match, stderr.splitlines()) if match}


def heavy(modules: set[str]) -> list[str]:
    prefixes = HEAVY + HEAVY_ERNIEM
    return sorted(name for name in modules if any(name == p or name.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize(
    "arguments, status",
    [
        (["--help"], 0),
        (["extract", "--help"], 0),
        (["convert", "--help"], 0),
        (["uie", "convert-doccano", "--help"], 0),
        (["uie", "train", "--help"], 0),
        (["uie", "evaluate", "--help"], 0),
        (["predict", "classify", "--help"], 0),
        (["predict", "ner", "--help"], 0),
        (["predict", "qa", "--help"], 0),
        (["predict", "choice", "--help"], 0),
        (["export", "onnx", "--help"], 0),
        (["extract", "in.jsonl"], 2),  # --model and --schema missing
        (["--no-such-option", "extract"], 2),
        (["predict", "qa", "--model", "m", "--top-k", "many", "-"], 2),
        (["export", "onnx", "--model", "m", "--output", "o", "--task", "nonsense"], 2),
    ],
)
def test_help_and_argument_errors_import_no_model_stack(arguments, status):
    done = erniem_command(*arguments, environment={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode == status, done.stderr[-2000:]
    assert ("usage: erniem" in done.stdout) if status == 0 else ("error:" in done.stderr)
    modules = imported(done.stderr)
    assert "erniem.cli" in modules  # the report is there to read
    assert heavy(modules) == []


def test_import_erniem_is_light_and_transformers_imported_after_it_sees_ernie_m():
    done = python(
        "import sys, erniem\n"
        "print(sorted(name for name in ('torch', 'transformers', 'torchao') if name in sys.modules))\n"
        "from transformers import AutoConfig, AutoModel, AutoTokenizer\n"
        "config = AutoConfig.for_model('ernie_m', vocab_size=50, hidden_size=16, num_hidden_layers=1,\n"
        "                              num_attention_heads=2, intermediate_size=20)\n"
        "print(type(config).__module__, type(AutoModel.from_config(config)).__module__)\n"
        "print(any(type(finder).__module__ == 'erniem.after_import' for finder in sys.meta_path))\n"
        "print(*{type(sys.modules[name].__spec__.loader).__name__ for name in ('transformers', 'erniem.modeling')})\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # registered, the finder gone, and the modules it saw load keep their own loaders
    assert done.stdout.splitlines() == ["[]", "erniem.configuration erniem.modeling", "False", "SourceFileLoader"]


@pytest.mark.parametrize(
    "first",
    [
        "from transformers import AutoConfig, AutoModel; import erniem",  # registered at once
        "from erniem.modeling import ErnieMModel; from transformers import AutoConfig, AutoModel",  # after modeling
        "import erniem.uie; from transformers import AutoConfig, AutoModel",  # erniem.uie imports transformers
    ],
)
def test_registration_in_every_import_order(first):
    done = python(
        f"{first}\n"
        "config = AutoConfig.for_model('ernie_m', vocab_size=50, hidden_size=16, num_hidden_layers=1,\n"
        "                              num_attention_heads=2, intermediate_size=20)\n"
        "print(type(config).__module__, type(AutoModel.from_config(config)).__module__)\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["erniem.configuration", "erniem.modeling"]


def test_public_names_version_dir_and_star_import():
    done = python(
        "import json, erniem\n"
        "listed = dir(erniem)  # before anything loads\n"
        "namespace = {}\n"
        "exec('from erniem import *', namespace)\n"
        "print(json.dumps([erniem.__version__, sorted(set(namespace) - {'__builtins__'}), listed]))\n"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    version, starred, listed = json.loads(done.stdout)
    assert version == erniem.__version__
    assert starred == sorted(erniem.__all__)
    assert set(erniem.__all__) <= set(listed) and {"modeling", "configuration", "__version__"} <= set(listed)
    for name in erniem.__all__:
        assert getattr(erniem, name).__name__ == name


def test_lazy_names_are_the_names_type_checkers_see():
    """`__all__`, the lazy table and the TYPE_CHECKING imports of erniem/__init__.py name the same things."""
    tree = ast.parse(Path(erniem.__file__).read_text(encoding="utf-8"))
    checked = {
        alias.name: node.module
        for block in tree.body
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for node in block.body
        for alias in node.names
    }
    lazy = {name: module for module, names in erniem._EXPORTS.items() for name in names}
    assert checked == lazy and sorted(lazy) == sorted(erniem.__all__)


def test_the_task_names_the_command_line_offers_are_the_exportable_tasks():
    from erniem.onnx.names import TASK_NAMES
    from erniem.onnx.tasks import TASKS

    assert tuple(TASKS) == TASK_NAMES


@pytest.fixture(scope="module")
def classifier_dir(fast_tokenizer, tmp_path_factory):
    directory = tmp_path_factory.mktemp("startup") / "model"
    small(erniem.ErnieMForSequenceClassification, fast_tokenizer).save_pretrained(directory)
    fast_tokenizer.save_pretrained(directory)
    source = directory.parent / "in.jsonl"
    source.write_text(json.dumps({"text": "Maria lives in Oslo."}) + "\n", encoding="utf-8")
    return directory


def torchao_complains() -> bool:
    """Whether importing torchao here logs "Failed to load" (its kernels built for another torch)."""
    done = python("import torchao")
    return done.returncode == 0 and "Failed to load" in done.stderr


def test_a_run_prints_no_third_party_warnings_unless_verbose(classifier_dir):
    arguments = ["predict", "classify", "--model", str(classifier_dir), str(classifier_dir.parent / "in.jsonl")]
    done = erniem_command(*arguments)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["label"].startswith("LABEL_")
    assert [line for line in done.stderr.splitlines() if any(noise in line for noise in THIRD_PARTY_NOISE)] == []
    loud = erniem_command("--verbose", *arguments)
    assert loud.returncode == 0 and loud.stdout == done.stdout, loud.stderr[-2000:]
    if not torchao_complains():
        pytest.skip("torchao is absent or loads cleanly here: no third-party warning to show")
    assert "Failed to load" in loud.stderr and "torchao" in loud.stderr


@pytest.mark.parametrize(
    "verbose, warned, logged",
    [
        (False, ["mind this", "after"], ["library error", "after"]),
        (True, ["deprecated", "mind this", "after"], ["library warning", "library error", "after"]),
    ],
)
def test_quiet_hides_third_party_warnings_keeps_errors_and_erniem_warnings_and_restores(
    verbose, warned, logged, monkeypatch, capsys
):
    monkeypatch.setattr(sys, "warnoptions", [])
    monkeypatch.delenv("TORCH_CPP_LOG_LEVEL", raising=False)
    library = logging.getLogger("some_library")
    monkeypatch.setattr(library, "propagate", False)
    monkeypatch.setattr(library, "handlers", [logging.StreamHandler(sys.stderr)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with quiet(verbose):
            assert (os.environ.get("TORCH_CPP_LOG_LEVEL") == "ERROR") is not verbose
            warnings.warn_explicit("deprecated", DeprecationWarning, "lib.py", 1, module="some_library")
            warnings.warn_explicit("mind this", UserWarning, "uie.py", 1, module="erniem.uie.pipeline")
            library.warning("library warning")
            library.error("library error")
        warnings.warn_explicit("after", UserWarning, "lib.py", 2, module="some_library")
        library.warning("after")
    assert [str(warning.message) for warning in caught] == warned
    assert capsys.readouterr().err.splitlines() == logged
    assert "TORCH_CPP_LOG_LEVEL" not in os.environ and logging.root.manager.disable == logging.NOTSET
