"""The code blocks of README.md and docs/**/*.md as runnable examples (used by tests/test_doc_examples.py).

Every ```python block and every ```bash / ```sh / ```shell / ```console block is an example (of a console
block, the commands after its `$ ` prompts). An HTML comment right before the opening fence says what to do
with it (other comments, such as tests/test_migration.py's `<!-- check: NAME -->`, may sit beside it):

    <!-- example: run -->                           run it: the default for every block without a marker
    <!-- example: run (DIR=uie-m-base-erniem) -->   run it with "DIR" replaced by "uie-m-base-erniem"
    <!-- example: continue -->                      python: run it after the page's previous python example
                                                    that runs, in the same process and namespace
    <!-- example: synopsis (DIR=...) -->            shell: a synopsis; run it with its [optional arguments]
                                                    left out
    <!-- example: skip (why it cannot run here) --> do not run it; the reason is required, and is reported

Substitutions, `OLD=NEW` separated by commas, replace text (`str.replace`, in the order given) in that block
only; the right-hand side is the literal text put in, so `checkpoint="path/to/ernie-m-base_pytorch"` turns a
variable into a string. A substitution that matches nothing is an error.

Blocks without a marker run, python and shell alike: an unmarked block that fails, fails its test with a request
to fix it or to mark it; nothing is skipped without a marker and a reason. A shell block that installs packages,
starts a server, runs the test suite or the demonstration, or calls curl (`NEVER_RUN`) is not run whatever its
marker says: unless it is marked skip, its test fails and asks for the marker.

A python example runs in a fresh interpreter (`sys.executable`, with this file as the runner), together with
its continuations: each block is compiled under its Markdown file's name with its own line numbers, so a
traceback points at the documentation line. A shell example runs under `bash -e -o pipefail`. Both run in a
fresh working directory that the test prepares with tiny local stand-ins for the models and files the
documentation names (see tests/test_doc_examples.py).
"""

from __future__ import annotations

import builtins
import json
import os
import re
import sys
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

Action = Literal["run", "continue", "synopsis", "skip"]
ACTIONS = get_args(Action)
LANGUAGES = {"python": "python", "py": "python", "bash": "shell", "sh": "shell", "shell": "shell", "console": "shell"}

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
MARKER = re.compile(r"<!--\s*example\s*:\s*(?P<action>[\w-]+)\s*(?:\((?P<argument>.*)\))?\s*-->\s*$", re.DOTALL)
# Shell commands never run here, whatever the marker says: they change the environment, never end, or need a network.
NEVER_RUN = re.compile(
    r"\bpip3? install\b|\bscripts/(test|demo)\.sh\b|\berniem serve\b|\bmkdocs serve\b|\bcurl\b|\buvicorn\b"
)


@dataclass(frozen=True)
class Example:
    """One code block of a Markdown file, and what its marker says to do with it."""

    path: str  # the Markdown file, relative to the repository root
    line: int  # the line of the opening fence (1-based)
    language: Literal["python", "shell"]
    source: str  # the block's text (console prompts and output lines removed)
    action: Action = "run"
    reason: str = ""  # a skip's reason
    substitutions: tuple[tuple[str, str], ...] = ()
    marked: bool = False
    problem: str = ""  # a malformed marker, or a continuation with nothing to follow
    follows: str = ""  # for a continuation: the id of the example it runs after

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"

    def program(self) -> str:
        """The source to run: substituted, and for a synopsis with its [optional arguments] left out."""
        text = self.source
        for old, new in self.substitutions:
            if old not in text:
                raise ValueError(f"{self.id}: the substitution {old}={new} matches nothing in the block")
            text = text.replace(old, new)
        if self.action == "synopsis":
            while True:  # innermost brackets first: [--verify [OUTPUTS.npz]]
                shorter = re.sub(r"[ \t]*\[[^\[\]\n]*\]", "", text)
                if shorter == text:
                    break
                text = shorter
        return text


@dataclass
class _Block:
    path: str
    line: int
    language: Literal["python", "shell"]
    lines: list[str] = field(default_factory=list)


def examples_of(root: Path) -> list[Example]:
    """Every example of README.md and docs/**/*.md, in file order."""
    files = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    found = []
    for file in files:
        found += examples_in(file.read_text(encoding="utf-8"), file.relative_to(root).as_posix())
    return found


def examples_in(text: str, path: str) -> list[Example]:
    """The python and shell blocks of one Markdown text, with their markers."""
    lines = text.split("\n")
    found: list[Example] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening or not opening["info"].strip():
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        end = index + 1
        while end < len(lines) and not re.fullmatch(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*", lines[end]):
            end += 1
        language = LANGUAGES.get(opening["info"].split()[0].lower())
        if language is not None:
            body = [
                line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[index + 1 : end]
            ]
            if opening["info"].split()[0].lower() == "console":
                body = _console_commands(body)
            found.append(_example(path, index + 1, language, "\n".join(body) + "\n", _marker_before(lines, index)))
        index = end + 1
    return _link_continuations(found)


def orphan_markers(text: str) -> list[int]:
    """Lines of `<!-- example: ... -->` comments that do not sit right before a code block."""
    lines = text.split("\n")
    attached = set()
    for index, line in enumerate(lines):
        opening = FENCE.match(line)
        if opening and opening["info"].strip():
            attached.update(start for start, _ in _comments_before(lines, index))
    return [i + 1 for i, line in enumerate(lines) if re.search(r"<!--\s*example\s*:", line) and i not in attached]


def _comments_before(lines: list[str], fence: int) -> list[tuple[int, str]]:
    """(first line, text) of each HTML comment on the lines right before `fence` (one after another, nothing
    between them and the fence)."""
    comments, end = [], fence - 1
    while end >= 0 and lines[end].rstrip().endswith("-->"):
        start = end
        while start >= 0 and "<!--" not in lines[start]:
            start -= 1
        if start < 0 or lines[start].lstrip()[:4] != "<!--":
            break
        comments.append((start, "\n".join(line.strip() for line in lines[start : end + 1])))
        end = start - 1
    return comments


def _marker_before(lines: list[str], fence: int) -> str | None:
    """The `<!-- example: ... -->` among the comments right before `fence` (other comments may sit beside it)."""
    markers = [text for _, text in _comments_before(lines, fence) if re.match(r"<!--\s*example\b", text)]
    return markers[0] if markers else None


def _console_commands(body: list[str]) -> list[str]:
    """The commands of a console transcript: lines after a `$ ` prompt, with their continuation lines."""
    commands, continuing = [], False
    for line in body:
        if line.startswith("$ "):
            commands.append(line[2:])
        elif continuing:
            commands.append(line)
        else:
            continue
        continuing = line.rstrip().endswith("\\")
    return commands


def _example(path: str, line: int, language, source: str, marker: str | None) -> Example:
    example = Example(path, line, language, source)
    if marker is None:
        return example
    parsed = MARKER.match(marker)
    if parsed is None or parsed["action"] not in ACTIONS:
        return Example(path, line, language, source, marked=True, problem=f"malformed marker {marker!r}; "
                       f"expected <!-- example: {'|'.join(ACTIONS)} (...) -->")  # fmt: skip
    action, argument = parsed["action"], " ".join((parsed["argument"] or "").split())
    if action == "skip":
        problem = "" if argument else "a skip needs a reason: <!-- example: skip (why) -->"
        return Example(path, line, language, source, "skip", argument, marked=True, problem=problem)
    substitutions, problem = [], ""
    for item in filter(None, (part.strip() for part in argument.split(","))):
        old, equals, new = item.partition("=")
        if not equals or not old.strip():
            problem = f"substitution {item!r} is not OLD=NEW"
        substitutions.append((old.strip(), new.strip()))
    if action == "continue" and language != "python":
        problem = "continue is for python blocks"
    if action == "synopsis" and language != "shell":
        problem = "synopsis is for shell blocks"
    return Example(path, line, language, source, action, "", tuple(substitutions), True, problem)


def _link_continuations(examples: list[Example]) -> list[Example]:
    """Give each continuation the id of the python example it runs after (the page's previous one that runs)."""
    linked, previous = [], None
    for example in examples:
        if example.action == "continue":
            if previous is None:
                example = replace(example, problem="continue, but no python example runs before it")
            else:
                example = replace(example, follows=previous.id)
        if example.language == "python" and example.action in ("run", "continue"):
            previous = example
        linked.append(example)
    return linked


def chain(example: Example, by_id: dict[str, Example]) -> list[Example]:
    """The examples a python example runs with: the one its continuations start from, then each in turn."""
    links = [example]
    while links[0].follows:
        links.insert(0, by_id[links[0].follows])
    return links


def run_blocks(spec_file: Path, result_file: Path) -> None:
    """Run the blocks of a spec ([{"id", "file", "line", "source"}]) in one namespace, as a script's `__main__`;
    write [{"id", "ok", "error"}] after each (stopping at the first failure)."""
    blocks = json.loads(spec_file.read_text(encoding="utf-8"))
    sys.path[0] = os.getcwd()  # as for `python example.py` in the working directory, not this file's folder
    sys.argv = [blocks[-1]["file"]]
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    results = []
    for block in blocks:
        padded = "\n" * block["line"] + block["source"]  # the block's lines keep their numbers in the file
        try:
            exec(compile(padded, block["file"], "exec"), namespace)  # running the documentation is the point
        except BaseException as error:  # SystemExit fails the example too
            frames = error.__traceback__.tb_next  # from the block's own frame on, not this function's
            lines = traceback.format_exception(type(error), error, frames)
            results.append({"id": block["id"], "ok": False, "error": "".join(lines)})
        else:
            results.append({"id": block["id"], "ok": True, "error": ""})
        sys.stdout.flush()
        result_file.write_text(json.dumps(results), encoding="utf-8")
        if not results[-1]["ok"]:
            break


if __name__ == "__main__":
    run_blocks(Path(sys.argv[1]), Path(sys.argv[2]))
