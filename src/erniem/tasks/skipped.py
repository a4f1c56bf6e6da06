"""Examples left out of a task dataset, counted by reason, so that a run can say what it dropped."""

from __future__ import annotations

from collections import Counter
from typing import Literal

OnError = Literal["skip", "raise"]


class Skipped:
    """Counts the examples a preparation step leaves out; with `on_error="raise"` the first one raises instead.

    `summary(kept)` is the line to print after preparing, e.g.
    "kept 97 of 100 examples; skipped 3: 2 answer not in context, 1 empty context".
    """

    def __init__(self, on_error: OnError = "skip"):
        if on_error not in ("skip", "raise"):
            raise ValueError(f"on_error must be 'skip' or 'raise', got {on_error!r}")
        self.on_error = on_error
        self.reasons: Counter[str] = Counter()

    def __call__(self, index: int, reason: str, detail: str = "") -> None:
        """Leave out example `index` for `reason` (a short fixed phrase); `detail` says what was wrong with it.

        Raises:
            ValueError: under `on_error="raise"`, naming the example, the reason and the detail.
        """
        if self.on_error == "raise":
            raise ValueError(f"example {index}: {reason}" + (f": {detail}" if detail else ""))
        self.reasons[reason] += 1

    @property
    def total(self) -> int:
        return sum(self.reasons.values())

    def summary(self, kept: int) -> str:
        line = f"kept {kept} of {kept + self.total} examples"
        if not self.total:
            return line
        reasons = ", ".join(f"{count} {reason}" for reason, count in self.reasons.most_common())
        return f"{line}; skipped {self.total}: {reasons}"


def filled(text) -> bool:
    """Whether `text` is a string with something besides whitespace."""
    return isinstance(text, str) and bool(text.strip())
