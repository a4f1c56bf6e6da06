"""JSON Lines in and out: bad lines reported with their numbers, files written whole or not at all."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Literal

OnError = Literal["stop", "skip"]


class JSONLError(ValueError):
    """A line of a JSON Lines input that cannot be used; `line` is its 1-based number."""

    def __init__(self, line: int, problem: str, source: str = ""):
        super().__init__(f"{source + ': ' if source else ''}line {line}: {problem}")
        self.line = line
        self.problem = problem


def read_jsonl(
    stream: BinaryIO,
    check: Callable[[object, int], None] | None = None,
    on_error: OnError = "stop",
    report: Callable[[JSONLError], None] | None = None,
    source: str = "",
) -> Iterator[tuple[int, object]]:
    """(line number, value) for each non-blank line of a binary stream.

    A line that is not UTF-8, not JSON, or that `check(value, line)` rejects (by raising ValueError) raises
    JSONLError with `on_error="stop"`; with `"skip"` it is passed to `report` and yielded as (number, error).
    `source` names the input in messages.
    """
    if on_error not in ("stop", "skip"):
        raise ValueError(f"on_error must be 'stop' or 'skip', got {on_error!r}")
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise JSONLError(number, f"not UTF-8 (byte {error.start})", source) from None
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise JSONLError(number, f"not JSON ({error.msg} at column {error.colno})", source) from None
            if check is not None:
                try:
                    check(value, number)
                except ValueError as error:
                    raise JSONLError(number, str(error), source) from None
        except JSONLError as error:
            if on_error == "stop":
                raise
            if report is not None:
                report(error)
            yield number, error
            continue
        yield number, value


def load_jsonl(path: str | Path, check: Callable[[object, int], None] | None = None) -> list:
    """Every value of a JSON Lines file; the first bad line raises JSONLError naming the file."""
    with open(path, "rb") as stream:
        return [value for _, value in read_jsonl(stream, check, source=str(path))]


def write_jsonl(path: str | Path, values: Iterable) -> None:
    """Write `values` as JSON Lines to `path` atomically: a complete file replaces it, or nothing changes."""
    path = Path(path)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            for value in values:
                stream.write(json.dumps(value, ensure_ascii=False) + "\n")
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
