"""Build English-to-many sentence pairs from Django's .po catalogues (BSD-3-Clause) for translation language modelling.

    python scripts/build_parallel_corpus.py --output data/django-pairs.tsv [--wheel PATH] [--languages de,fr,pt_BR]

Writes the TSV and, beside it, `<stem>.json` with the licence, the Django version and the counts; prints one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from erniem.pretraining.parallel_corpus import build_pairs, write_tsv


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, build and write the pairs, and print the summary; 2 on an error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="the TSV to write (its .json goes beside it)")
    parser.add_argument("--wheel", type=Path, help="a Django wheel to read; default: the installed django package")
    parser.add_argument("--languages", help="comma-separated target locales (de,fr,pt_BR); default: all")
    args = parser.parse_args(argv)
    languages = None if args.languages is None else {code for code in args.languages.split(",") if code.strip()}
    if languages == set():
        parser.error("--languages names no language")
    try:
        pairs, counts = build_pairs(args.wheel, languages)
        write_tsv(pairs, args.output, counts)
    except (ImportError, OSError, ValueError) as error:
        message = " ".join(str(error).split())
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2
    dropped = ", ".join(f"{reason} {count}" for reason, count in counts.dropped.items())
    print(f"{len(pairs)} pairs, {len(counts.languages)} languages, dropped: {dropped} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
