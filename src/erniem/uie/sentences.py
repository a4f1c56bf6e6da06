"""Sentence boundaries as character ranges of the original text (nothing dropped, so offsets stay exact)."""

from __future__ import annotations

import re

# PaddleNLP Taskflow's `cut_chinese_sent`: a break after 。！？? (not before a closing quote), after six dots or
# two ellipses, and after a sentence end with its closing quote (not before more punctuation).
_TASKFLOW_BREAKS = [
    re.compile(r"[。！？?](?=[^”’])"),
    re.compile(r"\.{6}(?=[^”’])"),
    re.compile(r"…{2}(?=[^”’])"),
    re.compile(r"[。！？?][”’](?=[^，。！？?])"),
]
# Beyond those, the multilingual rule breaks after ! ؟ ۔ । ॥ ။ ። before whitespace, and after a full stop
# between a lower-case letter and an upper-case one ("left. Bob", not "9. Juni" nor "v. a.").
_MULTILINGUAL_BREAKS = [
    *_TASKFLOW_BREAKS,
    re.compile(r"[!؟۔।॥။።](?=\s)"),
    re.compile(r"(?<=[a-zß-ÿа-яё])\.(?=\s+[A-ZÀ-ÞА-ЯЁ])"),
]


def sentence_spans(text: str, rule: str = "multilingual") -> list[tuple[int, int]]:
    """`[start, end)` ranges of the sentences of `text`, in order, without line breaks or empty ranges.

    `rule` is `"taskflow"` (PaddleNLP's Chinese rule, breaking at line breaks too, but keeping every other
    character where Taskflow's own splitter drops the line breaks and shifts later offsets) or
    `"multilingual"` (also ! and other scripts' sentence ends before whitespace, and a full stop between a
    lower-case and an upper-case letter).
    """
    if rule not in ("taskflow", "multilingual"):
        raise ValueError(f"rule must be 'taskflow' or 'multilingual', got {rule!r}")
    breaks = {len(text)}
    for pattern in _TASKFLOW_BREAKS if rule == "taskflow" else _MULTILINGUAL_BREAKS:
        breaks.update(match.end() for match in pattern.finditer(text))
    spans, start = [], 0
    for end in sorted(breaks):
        for line_start, line in _lines(text, start, end):
            if line.strip():
                spans.append((line_start, line_start + len(line)))
        start = end
    return spans


def _lines(text: str, start: int, end: int):
    """(start, line) for the pieces of text[start:end] between line breaks."""
    for match in re.finditer(r"[^\n\r]+", text[start:end]):
        yield start + match.start(), match.group()
