"""One extraction result in the span formats of two viewers: displaCy (spaCy) and Gradio's HighlightedText.

`result` is one PaddleNLP Taskflow result: `{name: [{"text", "start", "end", "probability", "relations":
{name: [...]}}]}`, with character offsets into the text (start inclusive, end exclusive); classification items
have no offsets. Both viewers draw flat, non-overlapping spans: neither shows overlaps, so overlapping spans
(a relation's object inside an entity, the same text found as two types) come out garbled or partly hidden.
Use the service's demo page to see them.
"""

from __future__ import annotations

from collections.abc import Iterator


def to_displacy(text: str, result: dict) -> dict:
    """displaCy's manual format, for `spacy.displacy.render(..., style="ent", manual=True)`:
    `{"text": text, "ents": [{"start", "end", "label"}]}`, character offsets, end exclusive."""
    return {
        "text": text,
        "ents": [{"start": start, "end": end, "label": label} for start, end, label in _spans(result)],
    }


def to_gradio(text: str, result: dict) -> dict:
    """Gradio HighlightedText's dict value: `{"text": text, "entities": [{"entity", "start", "end"}]}`,
    character offsets, end exclusive."""
    return {
        "text": text,
        "entities": [{"entity": label, "start": start, "end": end} for start, end, label in _spans(result)],
    }


def _spans(result: dict) -> list[tuple[int, int, str]]:
    """(start, end, label) of every item with offsets, relations included (label: the predicate's name),
    sorted by (start, -end, label); a span found more than once (say, under two subjects) is listed once."""
    return sorted(set(_walk(result)), key=lambda span: (span[0], -span[1], span[2]))


def _walk(result: dict) -> Iterator[tuple[int, int, str]]:
    for name, items in result.items():
        for item in items:
            if "start" in item and "end" in item:  # classification items have no offsets
                yield item["start"], item["end"], name
            yield from _walk(item.get("relations", {}))
