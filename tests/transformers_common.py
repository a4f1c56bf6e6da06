"""transformers' own common test mixins, taken from the installed version's source distribution.

The mixins (`ModelTesterMixin`, `ConfigTester`, `TokenizerTesterMixin`, ...) live in the `tests/` folder of
transformers' repository; its PyPI source distribution ships their top-level files but not the folders they import
from. `common_tests()` downloads that distribution once (pip, from the package index), unpacks the top-level test
files into a cache as the package `transformers_common_tests`, and fills the three missing imports with what an
encoder needs of them (see `_STAND_INS`). Nothing of it is committed.
"""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import transformers
from transformers import PreTrainedConfig

PACKAGE = "transformers_common_tests"  # its name ends in "tests": transformers' get_tests_dir() looks for that

# Modules the mixins import from sub-folders that the source distribution leaves out.
_STAND_INS = {
    # Export tests (torch.export of every model class) are left out: erniem's export is tested on its own.
    "exporters/test_export.py": "class ExportTesterMixin:\n    pass\n",
    # ERNIE-M generates nothing: the generation mixin only has to exist for an issubclass check.
    "generation/test_utils.py": "class GenerationTesterMixin:\n    pass\n",
    "utils/test_configuration_utils.py": "from {package}.common_kwargs import config_common_kwargs\n",
}

# A value other than the default for every argument of PreTrainedConfig.__init__ that ConfigTester sets and reads
# back (check_config_arguments_init); only those the installed version takes are used.
COMMON_KWARGS = {
    "architectures": ["BertModel"],
    "output_hidden_states": True,
    "output_attentions": True,
    "return_dict": False,
    "dtype": "float16",
    "chunk_size_feed_forward": 5,
    "id2label": {0: "label"},
    "label2id": {"label": "0"},
    "problem_type": "regression",
}

# Marks that transformers' test helpers put on the mixins' tests (its own conftest declares them).
MARKERS = (
    "accelerate_tests", "flash_attn_test", "flash_attn_3_test", "flash_attn_4_test", "torch_compile_test", "order",
    "is_training_test", "is_tensor_parallel_test", "is_staging_test", "is_pipeline_test", "is_fsdp_test",
    "is_expert_parallel_test", "is_agent_test",
)  # fmt: skip

SAMPLE_TEXT = """\
This is a sample text that the tokenizer tests read.
ERNIE-M is a multilingual encoder for 96 languages.
Der schnelle braune Fuchs springt über den faulen Hund.
北京是中国的首都。
La vida es bella, y el mar es azul.
"""


def cache_root() -> Path:
    configured = os.environ.get("ERNIEM_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "erniem"


def common_tests(version: str = transformers.__version__):
    """The package of transformers' common test modules for `version` (default: the installed one)."""
    root = cache_root() / f"transformers-tests-{version}"
    if not (root / PACKAGE / "test_modeling_common.py").exists():
        _build(root, version)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(PACKAGE)


def _build(root: Path, version: str) -> None:
    """Download transformers' source distribution and lay out its test package under `root`, atomically."""
    root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root.parent) as scratch:
        scratch = Path(scratch)
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        subprocess.run([*command, "--dest", str(scratch), f"transformers=={version}"], check=True)
        (archive,) = scratch.glob("transformers-*.tar.gz")
        package = scratch / "tree" / PACKAGE
        package.mkdir(parents=True)
        prefix = f"transformers-{version}/tests/"
        with tarfile.open(archive) as source:
            for member in source.getmembers():
                name = member.name[len(prefix) :] if member.name.startswith(prefix) else ""
                if member.isfile() and name.endswith(".py") and "/" not in name:
                    (package / name).write_bytes(source.extractfile(member).read())
        if not (package / "test_modeling_common.py").exists():
            raise RuntimeError(f"transformers {version}'s source distribution has no tests/test_modeling_common.py")
        (package / "__init__.py").write_text("")
        for path, text in _STAND_INS.items():
            target = package / path
            target.parent.mkdir(exist_ok=True)
            (target.parent / "__init__.py").touch()
            target.write_text(text.format(package=PACKAGE))
        accepted = inspect.signature(PreTrainedConfig.__init__).parameters
        kwargs = {key: value for key, value in COMMON_KWARGS.items() if key in accepted}
        (package / "common_kwargs.py").write_text(f"config_common_kwargs = {kwargs!r}\n")
        (package / "fixtures").mkdir()
        (package / "fixtures" / "sample_text.txt").write_text(SAMPLE_TEXT, encoding="utf-8")
        if root.exists():  # a partial tree from an interrupted run
            shutil.rmtree(root)
        os.replace(scratch / "tree", root)
