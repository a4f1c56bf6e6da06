"""PaddleNLP's published ERNIE-M and UIE-M checkpoints by name, as data.

`models.json` holds, for each name, every file's URL and md5 as PaddleNLP 2.8.1's own source lists them
(`paddlenlp/taskflow/information_extraction.py` for UIE-M, Taskflow's v1.1 weights;
`paddlenlp/transformers/ernie_m/` for the pretrained encoders, whose source lists no md5 and no config file:
their config is PaddleNLP's `ERNIE_M_PRETRAINED_INIT_CONFIGURATION` entry, kept here). PaddleNLP lists no file
sizes, so `size` is null; the downloader reads the length the server announces.

`ERNIEM_MODEL_REGISTRY` names a JSON file of the same form whose entries are added to (or replace) these, and
`ERNIEM_MODEL_ENDPOINT` replaces the scheme and host of every URL (a mirror behind a firewall).
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REGISTRY_FILE = Path(__file__).with_name("models.json")
REGISTRY_VARIABLE = "ERNIEM_MODEL_REGISTRY"
ENDPOINT_VARIABLE = "ERNIEM_MODEL_ENDPOINT"


class UnknownModelError(ValueError):
    """A name that is neither a directory nor a published model."""


@dataclass(frozen=True)
class RemoteFile:
    name: str  # the file's name in the downloaded PaddleNLP folder
    url: str  # as published; see `mirrored`
    md5: str | None  # None where PaddleNLP lists none
    size: int | None  # None: PaddleNLP lists no sizes


@dataclass(frozen=True)
class PublishedModel:
    name: str
    task: str
    licence: str
    files: tuple[RemoteFile, ...]
    config: dict | None = None  # PaddleNLP's config, for names published without a config.json
    tokenizer_config: dict | None = None  # likewise, for tokenizer_config.json


def published_models() -> dict[str, PublishedModel]:
    """Every known name, the built-in ones overlaid with `ERNIEM_MODEL_REGISTRY`'s."""
    entries = _read(REGISTRY_FILE)
    extra = os.environ.get(REGISTRY_VARIABLE)
    if extra:
        entries.update(_read(Path(extra)))
    return {name: _model(name, entry) for name, entry in entries.items()}


def published_model(name: str) -> PublishedModel:
    """The model published as `name`.

    Raises:
        UnknownModelError: naming the known names and the closest one.
    """
    models = published_models()
    if name not in models:
        raise UnknownModelError(unknown_name_message(name, models))
    return models[name]


def unknown_name_message(name: str, models: dict[str, PublishedModel]) -> str:
    closest = difflib.get_close_matches(name, list(models), n=1, cutoff=0.5)
    hint = f"; did you mean {closest[0]!r}?" if closest else ""
    return (
        f"{name!r} is neither a model directory nor a published model name; known names: "
        f"{', '.join(sorted(models))}{hint}"
    )


def mirrored(url: str) -> str:
    """`url` with its scheme and host replaced by `ERNIEM_MODEL_ENDPOINT`'s, when that is set."""
    endpoint = os.environ.get(ENDPOINT_VARIABLE)
    if not endpoint:
        return url
    mirror, original = urlsplit(endpoint), urlsplit(url)
    path = mirror.path.rstrip("/") + original.path
    return urlunsplit((mirror.scheme, mirror.netloc, path, original.query, ""))


def _read(path: Path) -> dict:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["models"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"cannot read the model registry {path}: {error}") from error


def _model(name: str, entry: dict) -> PublishedModel:
    files = tuple(
        RemoteFile(file_name, spec["url"], spec.get("md5"), spec.get("size"))
        for file_name, spec in entry["files"].items()
    )
    return PublishedModel(
        name, entry["task"], entry["licence"], files, entry.get("config"), entry.get("tokenizer_config")
    )
