"""`--engine ray` for `erniem extract` and `erniem predict`: INPUT (JSON Lines or Parquet, a file or a folder) to
OUTPUT_DIR, one row per input row, on Ray Data (the `ray` extra)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output", metavar="OUTPUT_DIR", nargs="?", help="with --engine ray: the folder to write")
    ray = parser.add_argument_group("Ray Data (--engine ray; pip install erniem[ray])")
    ray.add_argument("--engine", choices=["process", "ray"], default="process",
                     help="ray: run on Ray Data, reading IN (JSON Lines or Parquet, file or folder)")  # fmt: skip
    ray.add_argument("--address", default="local", help="local: start Ray here; auto: join the running cluster")
    ray.add_argument("--output-format", choices=["jsonl", "parquet"], default="jsonl")
    ray.add_argument("--actors", type=int, default=1, help="model actors (each loads the model once)")
    ray.add_argument("--cpus-per-actor", type=float, default=1)
    ray.add_argument("--gpus-per-actor", type=float, default=0)
    ray.add_argument("--rows-per-call", type=int, default=64, help="rows an actor answers per call")


def run_on_ray(arguments: argparse.Namespace, command: str, task: str, fields: tuple[str, ...], **settings) -> int:
    """Run `task` over IN into OUTPUT_DIR (written whole or not at all) and print a summary line."""
    if arguments.output is None:
        raise ValueError("--engine ray needs OUTPUT_DIR after IN")
    if arguments.input == "-" or not Path(arguments.input).exists():
        raise FileNotFoundError(f"--engine ray reads files or folders; no such input: {arguments.input}")
    try:
        import ray
    except ImportError as error:
        raise ImportError(f"--engine ray needs the ray extra (pip install erniem[ray]): {error}") from None
    from ..distributed import extract_dataset, predict_dataset
    from ..distributed.files import read_rows, write_rows
    from ..files import staged_directory

    if not ray.is_initialized():
        address = None if arguments.address == "local" else arguments.address
        ray.init(address=address, include_dashboard=False, log_to_driver=arguments.verbose)  # actors' own logs
    rows = read_rows(arguments.input, fields)
    settings["model_batch_size"] = settings.pop("batch_size", 16)
    pool = dict(actors=arguments.actors, cpus_per_actor=arguments.cpus_per_actor,
                gpus_per_actor=arguments.gpus_per_actor, batch_size=arguments.rows_per_call,
                on_error=arguments.on_error, **settings)  # fmt: skip
    if task == "extract":
        answered = extract_dataset(rows, **pool)
    else:
        answered = predict_dataset(rows, task, **pool)
    output = Path(arguments.output)
    try:
        with staged_directory(output, overwrite=False) as staging:
            write_rows(answered, staging, arguments.output_format)
    except Exception as error:
        bad = _bad_row(error)
        if bad is None:
            raise
        raise ValueError(f"{arguments.input}: {bad}") from None
    print(f"erniem {command}: {_summary(output, arguments.output_format)} -> {output}", file=sys.stderr)
    return 0


def _summary(output: Path, output_format: str) -> str:
    import ray.data

    written = (
        ray.data.read_parquet(str(output))
        if output_format == "parquet"
        else ray.data.read_json(str(output), lines=True)
    )
    rows = errors = 0
    for batch in written.select_columns(["error"]).iter_batches(batch_format="pandas"):
        rows += len(batch)
        errors += int(batch["error"].notna().sum())
    return f"{rows} rows, {errors} with an error"


def _bad_row(error: BaseException) -> str | None:
    """The message of the BadRowError behind `error` (Ray re-raises an actor's exception as its own, with the
    actor's traceback in the message)."""
    from ..distributed import BadRowError

    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, BadRowError):
            return str(error)
        found = re.search(rf"{BadRowError.__name__}: (.+)", str(error))
        if found:
            return found.group(1).strip()
        error = getattr(error, "cause", None) or error.__cause__
    return None
