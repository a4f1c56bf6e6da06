"""UIE schemas and prompts, as PaddleNLP Taskflow reads and builds them.

A schema is a name (an entity type), a list of schemas, or a dict from a name to its children (relations or
event arguments of what the name finds), nested to any depth. A name ending in `[a,b,...]` asks a
classification over those options. Prompts: a root's prompt is its name; a child's is built from each text
its parent found: "parent的name" for Chinese, "name of parent" for English (an English classification keeps
its options last: "sentiment of parent [positive,negative]"). Full-width forms are folded to ASCII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SchemaLanguage = Literal["zh", "en"]
_OPTIONS = re.compile(r"\[.*?\]$")


@dataclass(frozen=True)
class SchemaNode:
    """One schema name and what it asks of the texts its parent finds."""

    name: str
    children: tuple[SchemaNode, ...] = ()

    @property
    def options(self) -> tuple[str, ...]:
        """The classification options of a name ending in `[a,b]` (commas full- or half-width), else ()."""
        found = _OPTIONS.search(self.name)
        return tuple(option.strip() for option in re.split("[,，]", found.group()[1:-1])) if found else ()


def parse_schema(schema) -> tuple[SchemaNode, ...]:
    """The root nodes of a schema (str, list, or dict of name -> children), checked.

    Raises:
        TypeError: an element is neither a string, a list nor a dict (the path names it).
        ValueError: a name is empty or blank, or the schema contains itself.
    """
    return _parse(schema, path="schema", ancestors=())


def _parse(schema, path: str, ancestors: tuple[int, ...]) -> tuple[SchemaNode, ...]:
    if isinstance(schema, str):
        return (SchemaNode(_checked_name(schema, path)),)
    if id(schema) in ancestors:
        raise ValueError(f"{path} contains itself: a schema must be a tree")
    if isinstance(schema, dict):
        nodes = []
        for name, children in schema.items():
            if not isinstance(name, str):
                raise TypeError(f"{path} has a key of type {type(name).__name__}; names are strings")
            child_path = f"{path}[{name!r}]"
            if not isinstance(children, (str, list, dict)):
                raise TypeError(f"{child_path} is a {type(children).__name__}; children are a string, list or dict")
            nodes.append(
                SchemaNode(_checked_name(name, child_path), _parse(children, child_path, (*ancestors, id(schema))))
            )
        return tuple(nodes)
    if isinstance(schema, list):
        if not schema:
            raise ValueError(f"{path} is empty")
        return tuple(
            node
            for index, item in enumerate(schema)
            for node in _parse(item, f"{path}[{index}]", (*ancestors, id(schema)))
        )
    raise TypeError(f"{path} is a {type(schema).__name__}; a schema is a string, a list or a dict")


def _checked_name(name: str, path: str) -> str:
    if not name.strip():
        raise ValueError(f"{path}: a schema name cannot be empty")
    return name


def to_half_width(text: str) -> str:
    """Fold full-width ASCII forms (U+FF01–U+FF5E) to ASCII, as Taskflow's `dbc2sbc` does. (Its branch for the
    ideographic space U+3000 never applies: the space is kept, and so it is here.)"""
    return "".join(chr(ord(char) - 0xFEE0) if "\uff01" <= char <= "\uff5e" else char for char in text)


def prompt(node: SchemaNode, parent_text: str | None = None, language: SchemaLanguage = "zh") -> str:
    """The prompt asking `node` about one text its parent found (None for a root)."""
    if language not in ("zh", "en"):
        raise ValueError(f"schema_lang must be 'zh' or 'en', got {language!r}")
    if parent_text is None:
        return to_half_width(node.name)
    if language == "zh":
        return to_half_width(parent_text + "的" + node.name)
    options = _OPTIONS.search(node.name)
    if options:
        return to_half_width(node.name[: node.name.find("[", 1)].strip() + " of " + parent_text + " " + options.group())
    return to_half_width(node.name + " of " + parent_text)
