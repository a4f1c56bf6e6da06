"""English-to-many sentence pairs from the gettext catalogues of Django, for translation language modelling.

Django ships its translations as `.po` files (BSD-3-Clause) in `django/conf/locale/<code>/LC_MESSAGES/` and
`django/contrib/<app>/locale/<code>/LC_MESSAGES/`. Each translated entry gives a pair: the English msgid and the
msgstr of the locale (for a plural entry, msgid with form 0 and msgid_plural with form 1). An entry that is
obsolete, fuzzy, not translated, a copy of its msgid, or nothing but placeholders and markup gives none. The
catalogues are read from an installed django package or straight out of a Django wheel.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.parser import HeaderParser
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path, PurePosixPath
from typing import Literal, get_args

import polib

from ..files import write_text

SOURCE_LANGUAGE = "en"
LICENCE = "BSD-3-Clause"
COPYRIGHT = "Copyright (c) Django Software Foundation and individual contributors."
TSV_FIELDS = ("source_language", "target_language", "source", "target", "origin")
TSV_HEADER = "\t".join(TSV_FIELDS)

DropReason = Literal["obsolete", "fuzzy", "empty", "placeholder_only", "untranslated", "duplicate"]
DROP_REASONS: tuple[DropReason, ...] = get_args(DropReason)

# printf style as Python and gettext write it (`%s`, `%(name)s`, `%-5.2f`, `%%`); no space flag, so "50% off" keeps "o".
_PRINTF = re.compile(r"%(?:\([^()]*\))?[#0+-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
_BRACES = re.compile(r"\{\w*(?:[!:][^{}]*)?\}")  # str.format fields: {}, {0}, {name}, {name!r}, {0:.2f}
_MARKUP = re.compile(r"</?[A-Za-z][^<>]*>|&(?:\w+|#\d+|#x[0-9A-Fa-f]+);")  # HTML tags and character references
# Every whitespace run holding a line or field break; a TSV line must not contain one.
_BREAKS = re.compile(r"\s*[\t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]\s*")
_CHARSET = re.compile(rb"charset=([\w.:-]+)")
_UNSAFE = re.compile(r"[\t\n\r]")


@dataclass(frozen=True)
class Pair:
    """One sentence and its translation, and the catalogue they came from.

    Attributes:
        source: the English text (a msgid or msgid_plural), breaks collapsed to single spaces.
        target: its translation (the msgstr or a msgstr_plural form), breaks collapsed the same way.
        source_language: always "en": Django's msgids are English.
        target_language: the locale as a BCP-47-like tag ("pt-BR", "zh-Hans", "sr-Latn").
        origin: the catalogue's path inside the django package, e.g. "conf/locale/de/LC_MESSAGES/django.po".
    """

    source: str
    target: str
    source_language: str
    target_language: str
    origin: str


@dataclass(frozen=True)
class Counts:
    """What a build kept and dropped.

    Attributes:
        languages: pairs kept per target language (languages that kept none are left out).
        dropped: candidate pairs dropped per reason, every reason present; a plural entry is two candidates.
        django_version: the Django release the catalogues came from, None where it cannot be told.
    """

    languages: dict[str, int]
    dropped: dict[DropReason, int]
    django_version: str | None = None

    @property
    def pairs(self) -> int:
        """The number of pairs kept, all languages together."""
        return sum(self.languages.values())


@dataclass(frozen=True)
class Catalogue:
    """The text of one `.po` file and its path inside the django package (POSIX separators)."""

    origin: str
    text: str


def normalise_language(code: str) -> str:
    """A gettext locale code as a BCP-47-like tag: "pt_BR" -> "pt-BR", "zh_hans" -> "zh-Hans", "DE" -> "de"."""
    language, *rest = re.split(r"[_-]", code.strip())
    subtags = [language.lower()]
    for subtag in rest:
        if len(subtag) == 4 and subtag.isalpha():
            subtags.append(subtag.title())  # script
        elif len(subtag) == 2 and subtag.isalpha() or len(subtag) == 3 and subtag.isdigit():
            subtags.append(subtag.upper())  # region
        else:
            subtags.append(subtag)
    return "-".join(subtags)


def has_text(text: str) -> bool:
    """Whether a letter is left once placeholders (printf and brace style), HTML tags and entities are removed."""
    rest = _MARKUP.sub(" ", _BRACES.sub(" ", _PRINTF.sub(" ", text)))
    return any(character.isalpha() for character in rest)


def po_pairs(path: str | Path) -> Iterator[Pair]:
    """The pairs of one `.po` file, in file order; what is dropped is only counted by `build_pairs`.

    The target language comes from the `<code>/LC_MESSAGES/` folder the file sits in, else from the catalogue's
    `Language` header; the origin is the path below the nearest folder named `django`, else the path as given.

    Raises:
        ValueError: the file is not a valid catalogue, or its language cannot be told.
    """
    path = Path(path)
    parts = path.absolute().parts
    origin = "/".join(parts[len(parts) - parts[::-1].index("django") :]) if "django" in parts else path.as_posix()
    entries = _parse(Catalogue(origin, _decode(path.read_bytes())))
    language = _path_language(origin) or _header_language(entries, origin)
    return (item for item in _classified(entries, language, origin) if isinstance(item, Pair))


def django_catalogues(root: str | Path | None = None) -> list[Path]:
    """Every `.po` file under a django package folder, sorted.

    Args:
        root: the `django` package folder; by default the installed one, located without importing Django.

    Raises:
        ModuleNotFoundError: no root given and Django is not installed.
        FileNotFoundError: `root` is not a folder, or holds no `.po` file.
    """
    root = _installed_django() if root is None else Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder: pass the django package folder or a Django wheel")
    found = sorted(root.rglob("*.po"))
    if not found:
        raise FileNotFoundError(f"no .po catalogues under {root}")
    return found


def read_catalogues(source: str | Path | None = None) -> Iterator[Catalogue]:
    """The `.po` catalogues of a django package folder or of a Django wheel, sorted by origin.

    Args:
        source: a `.whl` file, the `django` package folder, or None for the installed Django.

    Raises:
        ModuleNotFoundError: no source given and Django is not installed.
        FileNotFoundError: `source` does not exist, or holds no catalogue.
        ValueError: `source` is a file but not a zip archive.
    """
    if source is not None and Path(source).is_file():
        yield from _wheel_catalogues(Path(source))
        return
    root = _installed_django() if source is None else Path(source)
    for path in django_catalogues(root):
        yield Catalogue(path.relative_to(root).as_posix(), _decode(path.read_bytes()))


def django_version(source: str | Path | None = None) -> str | None:
    """The Django release the catalogues of `source` belong to, None where it cannot be told.

    Args:
        source: a Django wheel, whose `*.dist-info/METADATA` is read, else its file name
            (`Django-5.2.20-py3-none-any.whl`); a `django` package folder, whose version is read from a
            `django-*.dist-info` beside it; or None (or the installed folder) for the installed Django's metadata.
    """
    if source is not None and Path(source).is_file():
        return _wheel_version(Path(source))
    spec = find_spec("django")
    installed = spec is not None and spec.submodule_search_locations
    if source is None or installed and Path(source).resolve() == _installed_django().resolve():
        try:
            return version("django")
        except PackageNotFoundError:
            return None
    for metadata in sorted(Path(source).parent.glob("*.dist-info/METADATA")):
        if metadata.parent.name.lower().startswith("django-"):
            return _metadata_version(metadata.read_text(encoding="utf-8"))
    return None


def build_pairs(source: str | Path | None = None, languages: Iterable[str] | None = None) -> tuple[list[Pair], Counts]:
    """The pairs of every catalogue of a Django, each (target language, source, target) once, and the counts.

    Args:
        source: a Django wheel, a `django` package folder, or None for the installed Django.
        languages: target languages to keep, as locale codes or tags ("pt_BR" or "pt-BR"); None keeps all.

    Returns:
        The pairs in catalogue order (the first occurrence of a duplicate is kept), and what was kept and dropped.

    Raises:
        ValueError: a requested language has no catalogue, or a catalogue cannot be parsed.
        ModuleNotFoundError, FileNotFoundError: as `read_catalogues`.
    """
    wanted = None if languages is None else {normalise_language(code) for code in languages}
    pairs: list[Pair] = []
    seen: set[tuple[str, str, str]] = set()
    found: set[str] = set()
    dropped: Counter[DropReason] = Counter()
    for catalogue in read_catalogues(source):
        language = _path_language(catalogue.origin)
        if wanted is not None and language is not None and language not in wanted:
            continue  # told apart by its folder: no need to parse it
        entries = _parse(catalogue)
        language = language or _header_language(entries, catalogue.origin)
        if wanted is not None and language not in wanted:
            continue
        found.add(language)
        for item in _classified(entries, language, catalogue.origin):
            if isinstance(item, str):
                dropped[item] += 1
                continue
            key = (item.target_language, item.source, item.target)
            if key in seen:
                dropped["duplicate"] += 1
                continue
            seen.add(key)
            pairs.append(item)
    missing = set() if wanted is None else wanted - found
    if missing:
        raise ValueError(f"no catalogue for {', '.join(sorted(missing))} (locale codes such as de, pt_BR, zh_Hans)")
    counts = Counts(
        languages=dict(sorted(Counter(pair.target_language for pair in pairs).items())),
        dropped={reason: dropped[reason] for reason in DROP_REASONS},
        django_version=django_version(source),
    )
    return pairs, counts


def write_tsv(pairs: Iterable[Pair], path: str | Path, counts: Counts) -> None:
    """Write the pairs as TSV and, beside it as `<stem>.json`, their licence, provenance and counts.

    Each file is written whole or not at all (through a temporary file in the same folder, then renamed). The
    JSON's pair and language counts describe the pairs written; `counts` gives the drops and the Django version.

    Raises:
        ValueError: a field is empty or holds a tab or line break, or the TSV path ends in `.json`.
    """
    path = Path(path)
    sidecar = path.parent / f"{path.stem}.json"
    if sidecar == path:
        raise ValueError(f"{path}: the TSV needs a name not ending in .json (its metadata goes to {sidecar.name})")
    pairs = list(pairs)
    lines = [TSV_HEADER, *(_tsv_line(pair) for pair in pairs)]
    release = f"Django {counts.django_version}" if counts.django_version else "Django"
    metadata = {
        "licence": LICENCE,
        "source": f"{release} (django/conf/locale and django/contrib/*/locale .po catalogues)",
        "copyright": COPYRIGHT,
        "pairs": len(pairs),
        "languages": dict(sorted(Counter(pair.target_language for pair in pairs).items())),
        "dropped": dict(counts.dropped),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, "\n".join(lines) + "\n")
    write_text(sidecar, json.dumps(metadata, ensure_ascii=False, indent=2) + "\n")


def read_pairs(path: str | Path) -> Iterator[Pair]:
    """The pairs of a TSV written by `write_tsv`, in file order.

    Raises:
        ValueError: the header is not `TSV_HEADER`, or a line has not five non-empty fields (file and line named).
    """
    path = Path(path)
    with path.open(encoding="utf-8", newline="\n") as file:
        header = file.readline().rstrip("\r\n")
        if header != TSV_HEADER:
            raise ValueError(f"{path}, line 1: header {header!r}, expected {TSV_HEADER!r}")
        for number, line in enumerate(file, start=2):
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) != len(TSV_FIELDS) or not all(fields):
                raise ValueError(
                    f"{path}, line {number}: expected {len(TSV_FIELDS)} non-empty tab-separated fields, "
                    f"found {sum(map(bool, fields))} non-empty of {len(fields)}"
                )
            yield Pair(**dict(zip(TSV_FIELDS, fields, strict=True)))


def _parse(catalogue: Catalogue) -> polib.POFile:
    try:
        return polib.pofile(catalogue.text)
    except (OSError, ValueError) as error:  # polib reports syntax errors as OSError
        raise ValueError(f"{catalogue.origin}: {error}") from error


def _classified(entries: polib.POFile, language: str, origin: str) -> Iterator[Pair | DropReason]:
    """Each candidate pair of a catalogue, in file order: the `Pair`, or the reason it is dropped."""
    for entry in entries:
        for source, target in _candidates(entry):
            source, target = _BREAKS.sub(" ", source).strip(), _BREAKS.sub(" ", target).strip()
            reason = _drop_reason(entry, source, target)
            yield reason or Pair(source, target, SOURCE_LANGUAGE, language, origin)


def _candidates(entry: polib.POEntry) -> Iterator[tuple[str, str]]:
    """(msgid, msgstr); for a plural entry (msgid, form 0) and, where the language has one, (msgid_plural, form 1)."""
    if not entry.msgid_plural:
        yield entry.msgid, entry.msgstr
        return
    forms = entry.msgstr_plural
    yield entry.msgid, forms.get(0, "")
    if 1 in forms:
        yield entry.msgid_plural, forms[1]


def _drop_reason(entry: polib.POEntry, source: str, target: str) -> DropReason | None:
    """Why a candidate is dropped, the first reason that applies in `DROP_REASONS` order; None if it is kept."""
    if entry.obsolete:
        return "obsolete"
    if entry.fuzzy:
        return "fuzzy"
    if not target:
        return "empty"
    if not (has_text(source) and has_text(target)):
        return "placeholder_only"
    if target == source:
        return "untranslated"
    return None


def _path_language(origin: str) -> str | None:
    """The language of a catalogue at `.../<code>/LC_MESSAGES/<domain>.po`; None for any other path."""
    parts = PurePosixPath(origin).parts
    return normalise_language(parts[-3]) if len(parts) >= 3 and parts[-2] == "LC_MESSAGES" else None


def _header_language(entries: polib.POFile, origin: str) -> str:
    code = entries.metadata.get("Language", "").strip()
    if not code:
        raise ValueError(f"{origin}: no <code>/LC_MESSAGES/ folder and no Language header to tell its language")
    return normalise_language(code)


def _decode(data: bytes) -> str:
    """A catalogue's text, decoded with the charset its header names (UTF-8 when it names none)."""
    found = _CHARSET.search(data[:4096])
    charset = found.group(1).decode("ascii") if found else "utf-8"
    try:
        return data.decode(charset)
    except LookupError as error:
        raise ValueError(f"unknown charset {charset!r} in a catalogue header") from error


def _installed_django() -> Path:
    """The folder of the installed django package, found without importing it (nor its settings)."""
    spec = find_spec("django")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("Django is not installed: pip install django (or pass the path of a Django wheel)")
    return Path(next(iter(spec.submodule_search_locations)))


def _wheel_catalogues(wheel: Path) -> Iterator[Catalogue]:
    """The `django/**/*.po` members of a wheel, with their paths below `django/` as origins."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = sorted(n for n in archive.namelist() if n.startswith("django/") and n.endswith(".po"))
            if not names:
                raise FileNotFoundError(f"no django/**/*.po catalogues in {wheel}")
            for name in names:
                yield Catalogue(name.removeprefix("django/"), _decode(archive.read(name)))
    except zipfile.BadZipFile as error:
        raise ValueError(f"{wheel} is not a wheel (zip) file: {error}") from error


def _wheel_version(wheel: Path) -> str | None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            for name in sorted(archive.namelist()):
                directory, _, file = name.partition("/")
                if file == "METADATA" and directory.lower().startswith("django-") and directory.endswith(".dist-info"):
                    found = _metadata_version(archive.read(name).decode("utf-8"))
                    if found:
                        return found
    except zipfile.BadZipFile as error:
        raise ValueError(f"{wheel} is not a wheel (zip) file: {error}") from error
    name_parts = wheel.name.split("-")  # {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl
    return name_parts[1] if wheel.suffix == ".whl" and len(name_parts) >= 5 else None


def _metadata_version(text: str) -> str | None:
    return HeaderParser().parsestr(text).get("Version") or None


def _tsv_line(pair: Pair) -> str:
    fields = {field: getattr(pair, field) for field in TSV_FIELDS}
    for field, value in fields.items():
        if not value or _UNSAFE.search(value):
            raise ValueError(f"{pair}: {field} is empty or holds a tab or line break; it cannot go in a TSV line")
    return "\t".join(fields.values())
