"""Sentence pairs from Django's .po catalogues: what is kept and dropped, the TSV, wheels and the real Django."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

import pytest

pytest.importorskip("polib")

from erniem.pretraining import parallel_corpus  # noqa: E402
from erniem.pretraining.parallel_corpus import (  # noqa: E402
    TSV_HEADER,
    Counts,
    Pair,
    build_pairs,
    django_catalogues,
    django_version,
    normalise_language,
    po_pairs,
    read_pairs,
    write_tsv,
)

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_parallel_corpus.py"

HEADER = r"""msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Language: pt_BR\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\n"
"""

# One entry of each kind; what each gives is written out in PT_BR_PAIRS and PT_BR_DROPPED below.
PT_BR_DJANGO_PO = (
    HEADER
    + r"""
msgid "Save"
msgstr "Salvar"

#, fuzzy
msgid "Delete"
msgstr "Apagar"

msgid "Cancel"
msgstr ""

#, python-format
msgid "%(count)s"
msgstr "%(count)s"

#, python-brace-format
msgid "{0}"
msgstr "{0}"

#, python-format
msgid "<strong>%s</strong>"
msgstr "<strong>%s</strong>"

#, python-format
msgid "Page %(number)s"
msgstr "%(number)s"

msgid "OK"
msgstr "OK"

msgid ""
"Your password can’t be too similar to your other personal information.\n"
"It must contain\tat least 8 characters."
msgstr ""
"Sua senha não pode ser muito parecida com suas outras informações pessoais.\n"
"Ela deve conter\tpelo menos 8 caracteres."

msgctxt "month name"
msgid "May"
msgstr "maio"

msgctxt "abbrev. month"
msgid "May"
msgstr "maio"

#, python-format
msgid "%(count)d file"
msgid_plural "%(count)d files"
msgstr[0] "%(count)d arquivo"
msgstr[1] "%(count)d arquivos"

#, python-format
msgid "%(count)d item"
msgid_plural "%(count)d items"
msgstr[0] "%(count)d item"
msgstr[1] "%(count)d itens"

#~ msgid "Old text"
#~ msgstr "Texto antigo"
"""
)

PT_BR_DJANGOJS_PO = (
    HEADER
    + r"""
msgid "Save"
msgstr "Salvar"

msgid "Today"
msgstr "Hoje"
"""
)

DE_DJANGO_PO = r"""msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"
"Language: de\n"

msgid "Save"
msgstr "Sichern"
"""

DJANGO_PO = "conf/locale/pt_BR/LC_MESSAGES/django.po"
DJANGOJS_PO = "contrib/admin/locale/pt_BR/LC_MESSAGES/djangojs.po"
DE_PO = "conf/locale/de/LC_MESSAGES/django.po"


def pt_br(source: str, target: str, origin: str = DJANGO_PO) -> Pair:
    return Pair(source, target, "en", "pt-BR", origin)


PT_BR_PAIRS = [
    pt_br("Save", "Salvar"),
    pt_br(
        "Your password can’t be too similar to your other personal information. It must contain at least 8 characters.",
        "Sua senha não pode ser muito parecida com suas outras informações pessoais. Ela deve conter pelo menos 8 "
        "caracteres.",
    ),
    pt_br("May", "maio"),  # month name
    pt_br("May", "maio"),  # abbrev. month: the same pair, a duplicate for build_pairs
    pt_br("%(count)d file", "%(count)d arquivo"),
    pt_br("%(count)d files", "%(count)d arquivos"),
    pt_br("%(count)d items", "%(count)d itens"),  # the singular's translation is a copy of the msgid
]
PT_BR_DROPPED = {"obsolete": 1, "fuzzy": 1, "empty": 1, "placeholder_only": 4, "untranslated": 2}


def write_package(root: Path, files: dict[str, str]) -> Path:
    """A django package folder holding `files` (origin -> text); returns the package folder."""
    package = root / "django"
    for origin, text in files.items():
        path = package / origin
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


def test_po_pairs_keeps_exactly_the_translated_entries(tmp_path):
    package = write_package(tmp_path, {DJANGO_PO: PT_BR_DJANGO_PO})

    assert list(po_pairs(package / DJANGO_PO)) == PT_BR_PAIRS


def test_po_pairs_takes_the_language_from_the_header_outside_a_locale_folder(tmp_path):
    path = tmp_path / "loose.po"
    path.write_text(DE_DJANGO_PO, encoding="utf-8")

    assert list(po_pairs(path)) == [Pair("Save", "Sichern", "en", "de", path.as_posix())]


def test_build_pairs_deduplicates_and_counts_every_drop(tmp_path):
    package = write_package(tmp_path, {DJANGO_PO: PT_BR_DJANGO_PO, DJANGOJS_PO: PT_BR_DJANGOJS_PO, DE_PO: DE_DJANGO_PO})
    (tmp_path / "Django-1.2.3.dist-info").mkdir()
    (tmp_path / "Django-1.2.3.dist-info" / "METADATA").write_text("Name: Django\nVersion: 1.2.3\n", encoding="utf-8")

    pairs, counts = build_pairs(package)

    # Sorted by origin: conf/locale/de, conf/locale/pt_BR, then contrib/admin/locale/pt_BR.
    expected = [
        Pair("Save", "Sichern", "en", "de", DE_PO),
        *(pair for index, pair in enumerate(PT_BR_PAIRS) if index != 3),
        pt_br("Today", "Hoje", DJANGOJS_PO),
    ]
    assert pairs == expected
    assert counts.languages == {"de": 1, "pt-BR": 7}
    assert counts.pairs == 8
    assert counts.dropped == {**PT_BR_DROPPED, "duplicate": 2}  # the second "May", and "Save" again in djangojs
    assert counts.django_version == "1.2.3"


def test_build_pairs_keeps_only_the_languages_asked_for(tmp_path):
    package = write_package(tmp_path, {DJANGO_PO: PT_BR_DJANGO_PO, DE_PO: DE_DJANGO_PO})

    assert build_pairs(package, languages={"de"})[0] == [Pair("Save", "Sichern", "en", "de", DE_PO)]
    assert {pair.target_language for pair in build_pairs(package, languages={"pt_BR"})[0]} == {"pt-BR"}
    with pytest.raises(ValueError, match="no catalogue for fr"):
        build_pairs(package, languages={"de", "fr"})


@pytest.mark.parametrize(
    ("code", "tag"),
    [("de", "de"), ("pt_BR", "pt-BR"), ("zh_Hans", "zh-Hans"), ("sr_Latn", "sr-Latn"), ("zh_hant", "zh-Hant")],
)
def test_normalise_language(code, tag):
    assert normalise_language(code) == tag


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("%(count)s", False),
        ("{0}", False),
        ("{name!r}: {0:.2f}", False),
        ("%s%%, %d", False),
        ("<a href='%(url)s'>%(name)s</a>&nbsp;", False),
        ("%(count)s objects", True),
        ("{}th", True),
        ("<b>Note</b>", True),
        ("Тема", True),
    ],
)
def test_has_text(text, kept):
    assert parallel_corpus.has_text(text) is kept


def test_django_catalogues_lists_every_po_file_sorted(tmp_path):
    package = write_package(tmp_path, {DJANGOJS_PO: PT_BR_DJANGOJS_PO, DJANGO_PO: PT_BR_DJANGO_PO, "README": ""})

    assert django_catalogues(package) == [package / DJANGO_PO, package / DJANGOJS_PO]
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        django_catalogues(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .po catalogues"):
        django_catalogues(tmp_path / "empty")


def test_a_missing_django_names_the_install_command(monkeypatch):
    monkeypatch.setattr(parallel_corpus, "find_spec", lambda name: None)

    with pytest.raises(ImportError, match="pip install django"):
        django_catalogues()


def test_tsv_round_trip_and_metadata(tmp_path):
    pairs = [*PT_BR_PAIRS[:3], Pair("Save", "Sichern", "en", "de", DE_PO)]
    counts = Counts({"pt-BR": 3, "de": 1}, {**PT_BR_DROPPED, "duplicate": 0}, "1.2.3")
    path = tmp_path / "out" / "pairs.tsv"

    write_tsv(pairs, path, counts)

    assert path.read_text(encoding="utf-8").splitlines()[:2] == [
        "source_language\ttarget_language\tsource\ttarget\torigin",
        f"en\tpt-BR\tSave\tSalvar\t{DJANGO_PO}",
    ]
    assert list(read_pairs(path)) == pairs
    metadata = json.loads((tmp_path / "out" / "pairs.json").read_text(encoding="utf-8"))
    assert metadata == {
        "licence": "BSD-3-Clause",
        "source": "Django 1.2.3 (django/conf/locale and django/contrib/*/locale .po catalogues)",
        "copyright": "Copyright (c) Django Software Foundation and individual contributors.",
        "pairs": 4,
        "languages": {"de": 1, "pt-BR": 3},
        "dropped": {**PT_BR_DROPPED, "duplicate": 0},
    }


def test_write_tsv_refuses_a_field_that_would_break_the_tsv(tmp_path):
    counts = Counts({}, {}, None)

    with pytest.raises(ValueError, match="target"):
        write_tsv([pt_br("Save", "Sal\tvar")], tmp_path / "pairs.tsv", counts)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source\ttarget\n", "line 1: header"),
        (f"{TSV_HEADER}\nen\tde\tSave\tSichern\t{DE_PO}\nen\tde\tSave\tSichern\n", "line 3: expected 5"),
        (f"{TSV_HEADER}\nen\tde\t\tSichern\t{DE_PO}\n", "line 2: expected 5 non-empty"),
    ],
)
def test_read_pairs_names_the_file_and_line_of_a_malformed_line(tmp_path, text, message):
    path = tmp_path / "pairs.tsv"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ValueError, match=f"pairs.tsv, {message}"):
        list(read_pairs(path))


def test_a_write_that_fails_midway_leaves_the_previous_files(tmp_path, monkeypatch):
    path = tmp_path / "pairs.tsv"
    counts = Counts({"pt-BR": 1}, {}, "1.2.3")
    write_tsv(PT_BR_PAIRS[:1], path, counts)
    before = {file.name: file.read_bytes() for file in tmp_path.iterdir()}
    real_fdopen = os.fdopen

    class HalfWritten:  # writes half of what it is given, then fails as a full disk would
        def __init__(self, file):
            self.file = file

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.file.close()

        def write(self, text):
            self.file.write(text[: len(text) // 2])
            self.file.flush()
            raise OSError("No space left on device")

    # erniem.files.write_text writes through os.fdopen on the temporary file it made.
    monkeypatch.setattr(os, "fdopen", lambda *args, **kwargs: HalfWritten(real_fdopen(*args, **kwargs)))

    with pytest.raises(OSError, match="No space left"):
        write_tsv(PT_BR_PAIRS, path, counts)
    assert {file.name: file.read_bytes() for file in tmp_path.iterdir()} == before  # no temporary file left


def test_a_failed_rename_leaves_the_previous_files(tmp_path, monkeypatch):
    path = tmp_path / "pairs.tsv"
    counts = Counts({"pt-BR": 1}, {}, "1.2.3")
    write_tsv(PT_BR_PAIRS[:1], path, counts)
    before = {file.name: file.read_bytes() for file in tmp_path.iterdir()}

    def refuse(source, destination):
        raise PermissionError(f"cannot rename {source} to {destination}")

    monkeypatch.setattr(os, "replace", refuse)

    with pytest.raises(PermissionError):
        write_tsv(PT_BR_PAIRS, path, counts)
    assert {file.name: file.read_bytes() for file in tmp_path.iterdir()} == before


def write_wheel(path: Path, metadata: str | None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("django/__init__.py", "")
        archive.writestr("django/conf/locale/xx/LC_MESSAGES/django.po", DE_DJANGO_PO.replace("Sichern", "Xave"))
        archive.writestr("django/contrib/admin/locale/xx/LC_MESSAGES/djangojs.po", PT_BR_DJANGOJS_PO)
        if metadata is not None:
            archive.writestr("django-9.9.9.dist-info/METADATA", metadata)
    return path


def test_pairs_and_version_come_out_of_a_wheel(tmp_path):
    wheel = write_wheel(
        tmp_path / "django-9.9.9-py3-none-any.whl", "Metadata-Version: 2.4\nName: Django\nVersion: 9.9.9\n"
    )

    pairs, counts = build_pairs(wheel)

    assert pairs == [
        Pair("Save", "Xave", "en", "xx", "conf/locale/xx/LC_MESSAGES/django.po"),
        Pair("Save", "Salvar", "en", "xx", "contrib/admin/locale/xx/LC_MESSAGES/djangojs.po"),
        Pair("Today", "Hoje", "en", "xx", "contrib/admin/locale/xx/LC_MESSAGES/djangojs.po"),
    ]
    assert counts.django_version == "9.9.9"
    assert counts.languages == {"xx": 3}


def test_a_wheel_without_metadata_takes_its_version_from_its_name(tmp_path):
    assert django_version(write_wheel(tmp_path / "Django-8.8.8-py3-none-any.whl", metadata=None)) == "8.8.8"


def test_the_script_writes_the_pairs_and_reports_errors_in_one_line(tmp_path):
    wheel = write_wheel(tmp_path / "Django-9.9.9-py3-none-any.whl", "Name: Django\nVersion: 9.9.9\n")
    output = tmp_path / "data" / "pairs.tsv"

    done = subprocess.run(
        [sys.executable, SCRIPT, "--output", output, "--wheel", wheel], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("3 pairs, 1 languages, dropped: obsolete 0,")
    assert done.stdout.rstrip().endswith(f"-> {output}")
    assert len(list(read_pairs(output))) == 3

    failed = subprocess.run(
        [sys.executable, SCRIPT, "--output", output, "--wheel", tmp_path / "missing.whl"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode == 2
    assert len(failed.stderr.splitlines()) == 1 and "missing.whl" in failed.stderr


needs_django = pytest.mark.skipif(find_spec("django") is None, reason="Django is not installed")


@pytest.fixture(scope="module")
def django_build():
    return build_pairs()


@needs_django
def test_the_installed_django_gives_many_languages(django_build):
    pairs, counts = django_build

    assert len(counts.languages) > 50
    assert counts.pairs == len(pairs) == len(set(pairs))
    assert counts.django_version == version("django")
    for pair in pairs:
        for value in (pair.source, pair.target, pair.origin):
            assert value and not re.search(r"[\t\n\r]", value), pair


@needs_django
def test_the_installed_django_has_the_german_required_field_message(django_build):
    catalogue = Path(find_spec("django").origin).parent / DE_PO
    msgstr = re.search(r'\nmsgid "This field is required\."\nmsgstr "(.+)"\n', catalogue.read_text(encoding="utf-8"))

    assert Pair("This field is required.", msgstr[1], "en", "de", DE_PO) in django_build[0]


@needs_django
def test_the_installed_django_corpus_names_its_licence(django_build, tmp_path):
    pairs, counts = django_build

    write_tsv(pairs, tmp_path / "django-pairs.tsv", counts)

    metadata = json.loads((tmp_path / "django-pairs.json").read_text(encoding="utf-8"))
    assert metadata["licence"] == "BSD-3-Clause"
    assert metadata["source"].startswith(f"Django {version('django')} (")
    assert metadata["pairs"] == len(pairs)
