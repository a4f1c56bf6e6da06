"""Files and directories written whole or not at all: build beside the target, then rename."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The process's umask, read once: mkstemp and mkdtemp create private (0600, 0700) entries, and what they become
# should have the permissions a plain open() or mkdir() would give.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def staged_directory(destination: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty staging folder; when the block ends without error it becomes `destination`.

    Raises:
        FileExistsError: `destination` exists and `overwrite` is false (checked before any work).
    """
    destination = Path(destination)
    if destination.exists() and not overwrite:
        raise FileExistsError(f"{destination} exists; pass overwrite=True (--overwrite) to replace it")
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}-", dir=destination.parent))
    os.chmod(staging, 0o777 & ~_UMASK)
    try:
        yield staging
        _move_into_place(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staging: Path, destination: Path) -> None:
    """Rename the finished folder to `destination`; an old one is moved aside first and removed after."""
    if not destination.exists():
        os.replace(staging, destination)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{destination.name}-old-", dir=destination.parent))
    os.replace(destination, aside / "old")
    try:
        os.replace(staging, destination)
    except OSError:
        os.replace(aside / "old", destination)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def write_text(path: str | Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` through a temporary file beside it, so `path` is never left half-written."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
