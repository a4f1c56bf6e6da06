"""Schema-driven information extraction with a UIE-M model: Taskflow's results, offsets into the original text.

The schema tree is walked level by level; each level asks one batched prediction over every (prompt, window)
pair. Two modes:

- `"fast"` (default): windows of text tokens with overlap, batched by length and padded only to the batch's
  longest, padding hidden; window results merged and de-duplicated by offsets.
- `"taskflow"`: PaddleNLP Taskflow's computation for converted UIE-M checkpoints: fixed character slices of
  `max_seq_len - len(max(prompts)) - 3`, every input padded to `max_seq_len` with `[PAD]` (attended, position
  id 0) and predicted node by node, so its probabilities are Taskflow's. Taskflow's own defects are not
  reproduced: spans that start or end on a special token (empty text, at (0, 0) or ending before they start)
  are never returned, nor voted on; a classification window votes with its most probable answer (Taskflow
  with whichever its span set yields first, which depends on the probabilities' last bits); whether a node
  classifies is read from the schema (`name[a,b]`), not from the first result; results are sorted by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch

from .decoding import character_spans, join_windows, pair_positions, positions_above, window_results
from .schema import SchemaLanguage, SchemaNode, parse_schema, prompt

Compatibility = Literal["fast", "taskflow"]
TASKFLOW_SUMMARY_TOKENS = 3  # what Taskflow subtracts for UIE-M, although its inputs carry four special tokens


@dataclass
class Extraction:
    """One extracted span (or, without offsets, a classification answer) and what its children found in it.

    `start` is inclusive and `end` exclusive, character offsets into the original text.
    """

    text: str
    probability: float
    start: int | None = None
    end: int | None = None
    relations: dict[str, list[Extraction]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Taskflow's JSON for this result."""
        result: dict = {"text": self.text}
        if self.start is not None:
            result.update(start=self.start, end=self.end)
        result["probability"] = self.probability
        if self.relations:
            result["relations"] = {name: [e.to_dict() for e in found] for name, found in self.relations.items()}
        return result


class UIEPipeline:
    """Extract what a schema asks for from texts with an `ErnieMForInformationExtraction` model.

    Args:
        model: the UIE-M model (e.g. converted by `erniem convert`).
        tokenizer: its tokenizer (the PaddleNLP rule for converted UIE-M checkpoints).
        schema: entity names, nested dicts for relations and events, `name[a,b]` for classification.
        schema_lang: `"zh"` or `"en"` prompt building for children.
        position_prob: a token starts or ends a span when its probability is above this.
        max_seq_len: the longest input, special tokens included.
        batch_size: inputs per forward pass.
        compat: `"fast"` (default) or `"taskflow"` (Taskflow's numbers; see the module docstring).
        stride: tokens shared by consecutive windows in fast mode.
    """

    def __init__(
        self,
        model,
        tokenizer,
        schema,
        schema_lang: SchemaLanguage = "zh",
        position_prob: float = 0.5,
        max_seq_len: int = 512,
        batch_size: int = 16,
        compat: Compatibility = "fast",
        stride: int = 32,
    ):
        if compat not in ("fast", "taskflow"):
            raise ValueError(f"compat must be 'fast' or 'taskflow', got {compat!r}")
        if not 0 < position_prob < 1:
            raise ValueError(f"position_prob must lie in (0, 1), got {position_prob}")
        if not 8 < max_seq_len <= 512:
            raise ValueError(f"max_seq_len must lie in (8, 512], got {max_seq_len}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.roots = parse_schema(schema)
        self.schema_lang = schema_lang
        self.position_prob = position_prob
        self.max_seq_len = max_seq_len
        self.batch_size = batch_size
        self.compat = compat
        self.stride = stride

    def __call__(self, texts: str | Sequence[str]) -> list[dict]:
        """Taskflow's result structure for each text: `{name: [{text, start, end, probability, relations}]}`."""
        return [
            {name: [e.to_dict() for e in found] for name, found in result.items()} for result in self.extract(texts)
        ]

    def extract(self, texts: str | Sequence[str]) -> list[dict[str, list[Extraction]]]:
        """Typed results: for each text, schema root name -> extractions."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {index} is a {type(text).__name__}, not a str")
        results: list[dict[str, list[Extraction]]] = [{} for _ in texts]
        # A level: (node, for each text the parents whose children it asks about; None at the root level).
        level: list[tuple[SchemaNode, list[list[Extraction]] | None]] = [(node, None) for node in self.roots]
        while level:
            queries = []  # (node, text index, parent or None, prompt)
            for node, parents in level:
                for index in range(len(texts)):
                    for parent in [None] if parents is None else parents[index]:
                        parent_text = None if parent is None else parent.text
                        queries.append((node, index, parent, prompt(node, parent_text, self.schema_lang)))
            # Node by node, as Taskflow: its windows depend on the node's prompts, and a classification node's
            # windows are put to a vote.
            answers: list = [None] * len(queries)
            for node, _ in level:
                mine = [i for i, query in enumerate(queries) if query[0] is node]
                asked = [(texts[queries[i][1]], queries[i][3]) for i in mine]
                for i, found in zip(mine, self._predict(asked, bool(node.options)), strict=True):
                    answers[i] = found
            next_level: dict[int, tuple[SchemaNode, list[list[Extraction]]]] = {}
            for (node, index, parent, _), found in zip(queries, answers, strict=True):
                if found:
                    target = results[index] if parent is None else parent.relations
                    target.setdefault(node.name, []).extend(found)
                for child in node.children:
                    entry = next_level.setdefault(id(child), (child, [[] for _ in texts]))
                    entry[1][index].extend(found)
            level = [entry for entry in next_level.values() if any(entry[1])]
        return results

    # --- one level ------------------------------------------------------------------------------------------

    def _predict(self, pairs: list[tuple[str, str]], classification: bool) -> list[list[Extraction]]:
        """The extractions for each (text, prompt), sorted by position."""
        if not pairs:
            return []
        if self.compat == "taskflow":
            found = self._predict_taskflow(pairs, classification)
        else:
            found = self._predict_fast(pairs, classification)
        return [sorted(extractions, key=_position) for extractions in found]

    def _predict_taskflow(self, pairs: list[tuple[str, str]], classification: bool) -> list[list[Extraction]]:
        width = self.max_seq_len - len(max(question for _, question in pairs)) - TASKFLOW_SUMMARY_TOKENS
        windows, mapping = [], {}
        for index, (text, question) in enumerate(pairs):
            pieces = [text[i : i + width] for i in range(0, len(text), width)] or [text]
            mapping[index] = list(range(len(windows), len(windows) + len(pieces)))
            windows += [(piece, question) for piece in pieces]
        results = self._run_windows(windows, pad_to=self.max_seq_len)
        if classification:  # each window votes with its most probable answer (Taskflow: its set's first)
            results = [sorted(found, key=lambda r: -r["probability"]) for found in results]
        joined = join_windows(results, [piece for piece, _ in windows], mapping, classification)
        return [[_as_extraction(found) for found in result] for result in joined]

    def _predict_fast(self, pairs: list[tuple[str, str]], classification: bool) -> list[list[Extraction]]:
        encoded_texts = self.tokenizer(
            [text for text, _ in pairs], add_special_tokens=False, return_offsets_mapping=True
        )
        windows, owners, shifts = [], [], []
        for index, (text, question) in enumerate(pairs):
            question_length = len(self.tokenizer(question, add_special_tokens=False)["input_ids"])
            room = max(self.max_seq_len - question_length - 4, 8)
            offsets = encoded_texts["offset_mapping"][index]
            step = max(room - self.stride, 1)
            for first in range(0, max(len(offsets), 1), step):
                last = min(first + room, len(offsets))
                start = offsets[first][0] if first < len(offsets) else 0
                end = offsets[last - 1][1] if last > first else len(text)
                windows.append((text[start:end], question))
                owners.append(index)
                shifts.append(start)
                if last >= len(offsets):
                    break
        results = self._run_windows(windows, pad_to=None)
        if classification:  # one answer per text: the majority of the windows' most probable answers
            results = [sorted(found, key=lambda r: -r["probability"]) for found in results]
            mapping: dict[int, list[int]] = {}
            for window, owner in enumerate(owners):
                mapping.setdefault(owner, []).append(window)
            joined = join_windows(results, [text for text, _ in windows], mapping, classification=True)
            return [[_as_extraction(item) for item in answer] for answer in joined]
        found: list[dict[tuple, Extraction]] = [{} for _ in pairs]
        for owner, shift, result in zip(owners, shifts, results, strict=True):
            for item in result:
                extraction = _as_extraction(item, shift)
                key = (extraction.text, extraction.start, extraction.end)
                kept = found[owner].get(key)
                if kept is None or kept.probability < extraction.probability:
                    found[owner][key] = extraction
        return [list(spans.values()) for spans in found]

    def _run_windows(self, windows: list[tuple[str, str]], pad_to: int | None) -> list[list[dict]]:
        """Window results (Taskflow's dicts, offsets relative to the window), batched by length."""
        # Taskflow truncates longest-first; fast windows already fit, and must never lose prompt tokens.
        truncation = "longest_first" if pad_to else "only_second"
        encodings = [
            self.tokenizer(
                question, text, truncation=truncation, max_length=self.max_seq_len, return_offsets_mapping=True
            )
            for text, question in windows
        ]
        order = (
            list(range(len(windows)))
            if pad_to
            else sorted(range(len(windows)), key=lambda i: len(encodings[i]["input_ids"]))
        )
        results: list[list[dict]] = [[] for _ in windows]
        device = next(self.model.parameters()).device
        for batch_start in range(0, len(order), self.batch_size):
            batch = order[batch_start : batch_start + self.batch_size]
            width = pad_to or max(len(encodings[i]["input_ids"]) for i in batch)
            ids = torch.full((len(batch), width), self.tokenizer.pad_token_id, dtype=torch.long)
            positions = torch.zeros_like(ids)
            for row, index in enumerate(batch):
                length = len(encodings[index]["input_ids"])
                ids[row, :length] = torch.tensor(encodings[index]["input_ids"])
                positions[row, :length] = torch.arange(length)
            inputs = {"input_ids": ids.to(device), "position_ids": positions.to(device)}
            if pad_to is None:  # fast mode: hide padding (and [CLS], as UIE-M's own default mask does)
                lengths = torch.tensor([len(encodings[i]["input_ids"]) for i in batch])
                keep = (torch.arange(width)[None, :] < lengths[:, None]) & (ids != self.tokenizer.cls_token_id)
                inputs["attention_mask"] = keep.long().to(device)
            with torch.no_grad():
                output = self.model(**inputs)
            start_probs = torch.sigmoid(output.start_logits.float()).tolist()
            end_probs = torch.sigmoid(output.end_logits.float()).tolist()
            for row, index in enumerate(batch):
                text, question = windows[index]
                offsets = list(encodings[index]["offset_mapping"]) + [(0, 0)] * (
                    width - len(encodings[index]["input_ids"])
                )
                pairs = pair_positions(
                    positions_above(start_probs[row], self.position_prob),
                    positions_above(end_probs[row], self.position_prob),
                )
                spans, probabilities = character_spans(pairs, offsets)
                # Taskflow also returns spans that start or end on a special token: empty text at (0, 0) or
                # with end before start. They are not extractions.
                results[index] = [r for r in window_results(text, question, spans, probabilities) if r["text"]]
        return results


def _as_extraction(item: dict, shift: int = 0) -> Extraction:
    if "start" not in item:
        return Extraction(item["text"], float(item["probability"]))
    return Extraction(item["text"], float(item["probability"]), item["start"] + shift, item["end"] + shift)


def _position(extraction: Extraction) -> tuple:
    return (extraction.start is None, extraction.start or 0, extraction.end or 0, -extraction.probability)
