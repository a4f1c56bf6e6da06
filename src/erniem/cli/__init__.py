"""The `erniem` command: thin wrappers that parse arguments, call one function and report.

Parsing imports neither torch nor transformers (`--help` and argument errors answer at once): each command
imports what it needs when it runs, inside `quiet`, which keeps third-party warnings off standard error
unless `--verbose` comes before the command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import export, extract, models, predict, pretrain, serve, uie
from .quiet import quiet

DOCS = "docs"  # the documentation's pages, in the source tree (built with mkdocs)
PAGES = {"convert": "paddlenlp.md", "extract": "extraction.md", "uie": "extraction.md", "predict": "tasks.md",
         "export": "onnx-and-speed.md", "download": "models-by-name.md", "serve": "serving.md",
         "pretrain": "pretraining.md"}  # fmt: skip


def _convert(arguments: argparse.Namespace) -> int:
    from ..convert import convert_checkpoint

    verify = arguments.verify if arguments.verify is not None else False
    destination = convert_checkpoint(
        _source(arguments),
        arguments.destination,
        overwrite=arguments.overwrite,
        verify=True if verify == "" else (Path(verify) if verify else False),
        vocabulary=arguments.vocabulary,
    )
    print(f"converted {arguments.source} -> {destination}")
    return 0


def _source(arguments: argparse.Namespace) -> Path:
    """SRC, or the PaddleNLP files of a published name (downloaded into the cache first)."""
    source = arguments.source
    if source.exists() or len(source.parts) > 1:
        return source  # convert_checkpoint says what is wrong with a path
    from ..catalog import UnknownModelError, cached_model, published_models
    from ..catalog.registry import unknown_name_message

    models = published_models()
    if str(source) not in models:
        raise UnknownModelError(unknown_name_message(str(source), models))
    return cached_model(str(source), arguments.cache_dir, part="paddle")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="erniem", description="ERNIE-M for PyTorch and transformers.")
    root.add_argument(
        "-v", "--verbose", action="store_true", help="show the warnings of torch, transformers and other libraries"
    )
    commands = root.add_subparsers(dest="command", required=True)
    convert = commands.add_parser(
        "convert",
        help="convert a PaddleNLP ERNIE-M/UIE-M checkpoint, or a pickled transformers one, to safetensors",
        description="Convert SRC (PaddleNLP model_state.pdparams, or transformers pytorch_model.bin; or a published "
        "name such as uie-m-base, downloaded first) into DST, a transformers-format directory that AutoModel "
        "and AutoTokenizer load after `import erniem`.",
    )
    convert.add_argument("source", type=Path, metavar="SRC")
    convert.add_argument("destination", type=Path, metavar="DST")
    convert.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    convert.add_argument(
        "--verify",
        nargs="?",
        const="",
        metavar="OUTPUTS.npz",
        help="compare the converted model's outputs with recorded ones (default SRC/reference_outputs.npz)",
    )
    convert.add_argument("--vocabulary", type=Path, help="folder with sentencepiece.bpe.model and vocab.txt")
    models.add_cache_option(convert)
    convert.set_defaults(run=_convert)
    extract.add_parser(commands)
    uie.add_parser(commands)
    predict.add_parser(commands)
    export.add_parser(commands)
    models.add_parser(commands)
    serve.add_parser(commands)
    pretrain.add_parser(commands)
    root.epilog = f"Documentation: {DOCS}/index.md (or `mkdocs serve` in the source tree)"
    for name, command in commands.choices.items():
        _point_to_docs(command, PAGES[name])
    return root


def _point_to_docs(command: argparse.ArgumentParser, page: str) -> None:
    """Each command's help ends with its documentation page, and so do its subcommands'."""
    command.epilog = f"Documentation: {DOCS}/{page}"
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subcommand in action.choices.values():
                _point_to_docs(subcommand, page)


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        with quiet(arguments.verbose):
            return arguments.run(arguments)
    except (OSError, ValueError, TypeError, ImportError) as error:
        print(f"erniem {arguments.command}: {error}", file=sys.stderr)
        return 1
