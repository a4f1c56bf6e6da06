"""Precision, recall and F1 from counts of gold, predicted and correct items."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass
class Score:
    """Counts of gold, predicted and correct items, and the precision, recall and F1 they give."""

    gold: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def add(self, gold: set, predicted: set) -> None:
        self.gold += len(gold)
        self.predicted += len(predicted)
        self.correct += len(gold & predicted)

    def to_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


def scores_by_type(pairs: Iterable[tuple[set, set]]) -> dict[str, dict]:
    """Micro scores over (gold, predicted) item sets, overall and per type (an item's first element):
    `{"overall": Score.to_dict(), "types": {type: Score.to_dict()}}`."""
    overall, types = Score(), {}
    for gold, predicted in pairs:
        overall.add(gold, predicted)
        for kind in {item[0] for item in gold | predicted}:
            of_kind = [{item for item in items if item[0] == kind} for items in (gold, predicted)]
            types.setdefault(kind, Score()).add(*of_kind)
    return {"overall": overall.to_dict(), "types": {kind: score.to_dict() for kind, score in sorted(types.items())}}
