"""JSON Lines in, one JSON result per line out: chunked, flushed, bad lines numbered, a progress bar on a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

CHUNK = 64  # lines per call of `process`: results are written (and flushed) after each chunk


def stream(
    command: str,
    source: str,
    check: Callable[[object, int], None],
    process: Callable[[list], list],
    on_error: str = "stop",
    warn: Callable[[object], str | None] | None = None,
) -> int:
    """Answer every good line of `source` (a path, or "-" for standard input) with `process` (values -> results,
    in order), writing `null` for lines skipped under `on_error="skip"`. `warn(value)` may return a message to
    report for a good line. A bad line under `on_error="stop"` raises JSONLError after the lines before it are
    answered."""
    from tqdm import tqdm

    from ..uie.jsonl import JSONLError, read_jsonl

    name = "stdin" if source == "-" else source
    skipped = 0

    def report(error: JSONLError) -> None:
        nonlocal skipped
        skipped += 1
        print(f"erniem {command}: {error}", file=sys.stderr)

    def flush(chunk: list) -> None:
        good = [value for value in chunk if not isinstance(value, JSONLError)]
        results = iter(process(good)) if good else iter(())
        for value in chunk:
            result = None if isinstance(value, JSONLError) else next(results)
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        progress.update(len(chunk))

    progress = tqdm(unit=" lines", file=sys.stderr, disable=not sys.stderr.isatty())
    handle = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
    chunk: list = []
    try:
        for number, value in read_jsonl(handle, check, on_error, report, name):
            message = warn(value) if warn and not isinstance(value, JSONLError) else None
            if message:
                print(f"erniem {command}: {name}: line {number}: {message}", file=sys.stderr)
            chunk.append(value)
            if len(chunk) == CHUNK:
                flush(chunk)
                chunk = []
    except JSONLError:
        flush(chunk)  # the lines before a stop are still answered
        raise
    else:
        flush(chunk)
    finally:
        progress.close()
        if handle is not sys.stdin.buffer:
            handle.close()
    if skipped:
        print(f"erniem {command}: {skipped} line(s) skipped, written as null", file=sys.stderr)
    return 0
