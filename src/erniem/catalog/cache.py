"""Published models downloaded, converted and kept on disk: `MODELS/NAME/paddle` (PaddleNLP's files, as
downloaded), `MODELS/NAME/erniem` (the converted model) and `MODELS/NAME/sha256.json`, written last.

MODELS is `--cache-dir`, else `$ERNIEM_HOME/models`, else `~/.cache/erniem/models`. A model whose
sha256.json exists is complete: it is used with no network request, after its converted files are checked
against the sha256 recorded when it was made (about 0.6 s per GB). One process at a time prepares a name (a
file lock, `MODELS/NAME.lock`); another that asks for it meanwhile waits, then finds it ready. With
`ERNIEM_OFFLINE=1` or `HF_HUB_OFFLINE=1`, a model that is not in the cache is an error naming `erniem
download`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from filelock import FileLock

from ..files import write_text
from .download import CHUNK, RETRIES, Retries, download_file
from .registry import (
    PublishedModel,
    UnknownModelError,
    mirrored,
    published_model,
    published_models,
    unknown_name_message,
)

HOME_VARIABLE = "ERNIEM_HOME"
OFFLINE_VARIABLES = ("ERNIEM_OFFLINE", "HF_HUB_OFFLINE")
CHECKSUMS = "sha256.json"
HUB_REPOSITORY = re.compile(r"[\w.-]+/[\w.-]+")  # org/name, as the Hugging Face Hub spells repositories


class OfflineError(OSError):
    """A published model that is not in the cache, asked for offline."""


class DamagedCacheError(OSError):
    """A cached file that no longer matches the sha256 recorded when it was made."""


def models_home(cache_dir: str | Path | None = None) -> Path:
    """The folder that holds the cached models."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    home = os.environ.get(HOME_VARIABLE)
    return Path(home).expanduser() / "models" if home else Path.home() / ".cache" / "erniem" / "models"


def offline() -> bool:
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on") for name in OFFLINE_VARIABLES)


def resolve_model(model: str | Path, cache_dir: str | Path | None = None) -> str | Path:
    """Where to load `model` from: a directory as it is; a published name (`uie-m-base`) as its cached converted
    folder, downloaded and converted on first use; a Hub repository (`org/name`) as it is, for transformers.

    Raises:
        FileNotFoundError: a path (absolute, or starting with `.` or `~`) that is not a directory.
        UnknownModelError: anything else that is no directory, name or repository.
    """
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    models = published_models()
    if text in models:
        return cached_model(text, cache_dir)
    if path.is_absolute() or text.startswith((".", "~")) or path.exists():
        raise FileNotFoundError(f"no such model directory: {text}")
    if HUB_REPOSITORY.fullmatch(text):
        return text
    raise UnknownModelError(unknown_name_message(text, models))


def cached_model(name: str, cache_dir: str | Path | None = None, part: str = "erniem", progress: bool = True) -> Path:
    """The converted folder (`part="erniem"`) or the downloaded PaddleNLP one (`"paddle"`) of the published model
    `name`, prepared first if the cache lacks it, checked against its recorded sha256 otherwise."""
    folder = models_home(cache_dir) / name
    if (folder / CHECKSUMS).is_file():
        _verify(folder, name, part)
        return folder / part
    if offline():
        raise OfflineError(
            f"{name} is not in the model cache ({folder}) and {'/'.join(OFFLINE_VARIABLES)} forbids downloading: "
            f"run `erniem download {name}` where there is internet, and copy {folder} here"
        )
    return prepare_model(published_model(name), cache_dir, progress=progress).parent / part


def prepare_model(
    model: PublishedModel,
    cache_dir: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
    retries: Retries = RETRIES,
) -> Path:
    """Download, check and convert `model` into the cache (anew with `force`); returns the converted folder."""
    from ..convert import convert_checkpoint

    home = models_home(cache_dir)
    folder = home / model.name
    try:
        home.mkdir(parents=True, exist_ok=True)
        lock = FileLock(home / f"{model.name}.lock")
        lock.acquire()
    except OSError as error:
        raise OSError(f"cannot write the model cache {home}: {error.strerror or error}; "
                      f"set {HOME_VARIABLE} or pass --cache-dir") from None  # fmt: skip
    try:
        if force:
            (folder / CHECKSUMS).unlink(missing_ok=True)
            shutil.rmtree(folder, ignore_errors=True)
        if (folder / CHECKSUMS).is_file():  # another process finished it while this one waited
            return folder / "erniem"
        paddle = folder / "paddle"
        paddle.mkdir(parents=True, exist_ok=True)
        downloaded = {}  # relative path -> the sha256 download_file computed while checking the md5
        for file in model.files:
            if not (paddle / file.name).is_file():
                sha256 = download_file(mirrored(file.url), paddle / file.name, file.md5, retries, progress)
                downloaded[f"paddle/{file.name}"] = sha256
        _write_configs(model, paddle)
        convert_checkpoint(paddle, folder / "erniem", overwrite=True, progress=progress)
        relatives = [str(path.relative_to(folder)) for path in _files(folder)]
        checksums = {relative: downloaded.get(relative) or _sha256(folder / relative) for relative in relatives}
        write_text(folder / CHECKSUMS, json.dumps(checksums, indent=1, sort_keys=True) + "\n")
        return folder / "erniem"
    finally:
        lock.release()


def _write_configs(model: PublishedModel, paddle: Path) -> None:
    """config.json and tokenizer_config.json from the registry, for names published without them."""
    if model.config is not None and not (paddle / "config.json").is_file():
        config = {**model.config, "architectures": ["ErnieMModel"], "model_type": "ernie_m"}
        write_text(paddle / "config.json", json.dumps(config, indent=2) + "\n")
    if model.tokenizer_config is not None and not (paddle / "tokenizer_config.json").is_file():
        write_text(paddle / "tokenizer_config.json", json.dumps(model.tokenizer_config, indent=2) + "\n")


def _verify(folder: Path, name: str, part: str) -> None:
    """Check the files of `folder / part` against the sha256 recorded when they were written."""
    recorded = json.loads((folder / CHECKSUMS).read_text(encoding="utf-8"))
    for relative, sha256 in recorded.items():
        path = folder / relative
        if relative.startswith(f"{part}/") and (not path.is_file() or _sha256(path) != sha256):
            raise DamagedCacheError(
                f"the cached {name} is damaged: {path} differs from the file written on download; "
                f"run `erniem download {name} --force`"
            )


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file() and not path.name.endswith(".part"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
