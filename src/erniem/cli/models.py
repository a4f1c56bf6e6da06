"""Models by directory or by published name: the --model and --cache-dir options, and `erniem download`."""

from __future__ import annotations

import argparse
from pathlib import Path

MODEL_HELP = "a model directory, a published name (erniem download --list) or a Hugging Face Hub repository"


def add_model_options(parser: argparse.ArgumentParser, required: bool = True, help: str = MODEL_HELP) -> None:
    parser.add_argument("--model", required=required, metavar="DIR|NAME", help=help)
    add_cache_option(parser)


def add_cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir", type=Path, metavar="DIR", help="where published models are kept (default $ERNIEM_HOME/models)"
    )


def model_location(arguments: argparse.Namespace) -> str | Path:
    """--model as a directory (a published name downloaded and converted first) or a Hub repository."""
    from ..catalog import resolve_model

    return resolve_model(arguments.model, arguments.cache_dir)


def add_parser(commands) -> None:
    download = commands.add_parser(
        "download",
        help="download, check and convert a published model into the cache",
        description="Fetch PaddleNLP's files of NAME (checked against their published md5), convert them, and keep "
        "both in the cache, so that later commands and machines without internet (ERNIEM_OFFLINE=1, with the "
        "cache copied over) use the name with no network request. ERNIEM_MODEL_ENDPOINT replaces the host of "
        "every URL.",
    )
    download.add_argument("name", metavar="NAME", nargs="?", help="a published model name")
    download.add_argument("--list", action="store_true", help="list the published names and exit")
    download.add_argument("--force", action="store_true", help="download and convert again")
    add_cache_option(download)
    download.set_defaults(run=_download)


def _download(arguments: argparse.Namespace) -> int:
    from ..catalog import prepare_model, published_model, published_models
    from ..catalog.cache import cached_model

    if arguments.list or arguments.name is None:
        for name, model in sorted(published_models().items()):
            print(f"{name}\t{model.task}\t{model.licence}")
        return 0
    model = published_model(arguments.name)
    if arguments.force:
        folder = prepare_model(model, arguments.cache_dir, force=True)
    else:
        folder = cached_model(model.name, arguments.cache_dir)
    print(f"{model.name} ({model.licence}) -> {folder}")
    return 0
