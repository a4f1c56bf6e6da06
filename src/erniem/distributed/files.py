"""Ray Data datasets from and to files: JSON Lines or Parquet, files or folders.

JSON Lines are read line by line and parsed here, not by Arrow's JSON reader: a line that is not JSON, not an
object, or whose input fields have the wrong type becomes a row with an `error`, instead of failing the read
(Arrow infers one type per column, and a text given as a number would stop the whole job). Other fields are
kept as they are, so they need one type per column, as in any table.
"""

from __future__ import annotations

import json
from pathlib import Path

PARQUET = ".parquet"


def is_parquet(source: str | Path) -> bool:
    path = Path(source)
    return path.suffix == PARQUET or (path.is_dir() and any(path.glob(f"*{PARQUET}")))


def read_rows(source: str | Path, fields: tuple[str, ...]):
    """The rows of `source`; for JSON Lines, `fields` (the input columns) are checked for strings or lists."""
    import ray.data

    if is_parquet(source):
        return ray.data.read_parquet(str(source))
    lines = ray.data.read_text(str(source), drop_empty_lines=True)
    return lines.map_batches(_parse, fn_kwargs={"fields": fields}, batch_format="pyarrow")


def write_rows(dataset, destination: Path, output_format: str) -> None:
    if output_format == "parquet":
        dataset.write_parquet(str(destination))
    else:
        dataset.write_json(str(destination), force_ascii=False)


def _parse(batch, fields: tuple[str, ...]):
    import pyarrow as pa

    rows = []
    for line in batch.column("text").to_pylist():
        try:
            value = json.loads(line)
        except ValueError as error:
            rows.append({"error": f"not JSON ({error})"})
            continue
        if not isinstance(value, dict):
            rows.append({"error": f"expected an object, got {type(value).__name__}"})
            continue
        row = {**value, "error": None}
        for field in fields:
            if field in row and not isinstance(row[field], str | list):
                row["error"] = f"{field!r} is {type(row[field]).__name__}, not a string"
                row[field] = None
        rows.append(row)
    names = list(dict.fromkeys([*fields, *(name for row in rows for name in row)]))
    return pa.Table.from_pylist([{name: row.get(name) for name in names} for row in rows])
