"""Schema-driven information extraction with a UIE-M model: Taskflow's results, offsets into the original text.

The schema tree is walked level by level. Two modes, both computing each input as Taskflow does (padded to
`max_seq_len` with `[PAD]` at position id 0, under the model's own default mask: a converted UIE-M hides
`[CLS]` and attends to the padding):

- `"fast"` (default): each text is tokenized once; windows of its tokens, overlapping by `stride`, are put
  beside each prompt, and every (prompt, window) pair of a level goes into one prediction, sorted by length.
  The padding is computed once per row rather than up to 512 times (see `encoding.batch_inputs`), so a text
  that fits one window gets Taskflow's probabilities at a fraction of the cost. Window results are merged and
  de-duplicated by offsets: a long text's spans are never cut by a character slice, as Taskflow's can be.
- `"taskflow"`: PaddleNLP Taskflow's computation, literally: fixed character slices of
  `max_seq_len - len(max(prompts)) - 3` (truncated longest-first when their tokens do not fit), every input
  padded to `max_seq_len`, predicted node by node. Long texts give Taskflow's windows and probabilities.

Taskflow's own defects are reproduced in neither mode: spans that start or end on a special token (empty text
at (0, 0), spans ending before they start, or spans from the text's first character) are never returned, nor
voted on; a classification's answer is one of the schema's options, spelled as declared: a window votes with
its most probable span of the prompt that is exactly an option (full-width forms folded as in the prompt), a
window without one does not vote, and a text whose windows find no option gets no answer (Taskflow votes with
whichever result its span set yields first, which depends on the probabilities' last bits: a piece of the
text or of an option as well); whether a node classifies is read from the schema (`name[a,b]`), not from the
first result; `split_sentence` keeps line breaks out of sentences without shifting later offsets; results are
sorted by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch

from ..acceleration import Quantization
from ..backends import Backend, load_model
from ..modeling import default_key_mask
from ..tasks.batching import length_batches
from ..threads import thread_policy
from .decoding import join_windows, window_results, window_spans
from .encoding import batch_inputs, text_room, token_windows, window_input
from .schema import SchemaLanguage, SchemaNode, parse_schema, prompt, to_half_width
from .sentences import sentence_spans

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
        stride: tokens shared by consecutive windows in fast mode (windows always advance by one token at least).
        split_sentence: cut texts into sentences first, so that no window spans two (Taskflow's option).
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
        split_sentence: bool = False,
    ):
        if compat not in ("fast", "taskflow"):
            raise ValueError(f"compat must be 'fast' or 'taskflow', got {compat!r}")
        if schema_lang not in ("zh", "en"):
            raise ValueError(f"schema_lang must be 'zh' or 'en', got {schema_lang!r}")
        if not 0 < position_prob < 1:
            raise ValueError(f"position_prob must lie in (0, 1), got {position_prob}")
        if not 8 < max_seq_len <= 512:
            raise ValueError(f"max_seq_len must lie in (8, 512], got {max_seq_len}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if stride < 0:
            raise ValueError(f"stride must not be negative, got {stride}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.roots = parse_schema(schema)
        self.schema_lang = schema_lang
        self.position_prob = position_prob
        self.max_seq_len = max_seq_len
        self.batch_size = batch_size
        self.compat = compat
        self.stride = stride
        self.split_sentence = split_sentence
        self.threads = thread_policy()  # torch's threads follow the CPUs other processes leave free

    @classmethod
    def from_pretrained(
        cls,
        directory,
        schema,
        device=None,
        dtype=None,
        backend: Backend = "torch",
        quantize: Quantization | None = None,
        compile: bool = False,
        cache_dir=None,
        **options,
    ) -> UIEPipeline:
        """A pipeline over the model and tokenizer saved in `directory`, on `device` in `dtype`; with
        `backend="onnxruntime"`, over the `model.onnx` that `erniem export onnx` wrote there. `quantize` and
        `compile`: see `erniem.acceleration.optimize`.

        `directory` may also be a published name, "uie-m-base" or "uie-m-large": PaddleNLP's files are downloaded,
        checked and converted into the cache (`cache_dir`, default `$ERNIEM_HOME/models`) on first use, and read
        from there after (`erniem.catalog`)."""
        from ..catalog import resolve_model
        from ..modeling import ErnieMForInformationExtraction
        from ..tokenization import ErnieMTokenizer

        parse_schema(schema)  # a malformed schema is refused before the model loads
        directory = resolve_model(directory, cache_dir)
        model = load_model(ErnieMForInformationExtraction, directory, backend, device, dtype, quantize, compile)
        return cls(model, ErnieMTokenizer.from_pretrained(directory), schema, **options)

    def __call__(self, texts: str | Sequence[str]) -> list[dict]:
        """Taskflow's result structure for each text: `{name: [{text, start, end, probability, relations}]}`."""
        return [
            {name: [e.to_dict() for e in found] for name, found in result.items()} for result in self.extract(texts)
        ]

    def extract(self, texts: str | Sequence[str]) -> list[dict[str, list[Extraction]]]:
        """Typed results: for each text, schema root name -> extractions (an empty text finds nothing)."""
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
                for index, text in enumerate(texts):
                    for parent in [None] if parents is None else parents[index]:
                        if text.strip():
                            parent_text = None if parent is None else parent.text
                            queries.append((node, index, parent, prompt(node, parent_text, self.schema_lang)))
            answers = self._predict([(texts[index], question, node) for node, index, _, question in queries])
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

    def _predict(self, asks: list[tuple[str, str, SchemaNode]]) -> list[list[Extraction]]:
        """The extractions for each (text, prompt, node), sorted by position."""
        if not asks:
            return []
        if self.compat == "fast":
            found = self._predict_fast(asks)
        else:  # node by node, as Taskflow: a node's windows depend on its prompts
            found = [[] for _ in asks]
            for node in dict.fromkeys(node for _, _, node in asks):
                mine = [i for i, ask in enumerate(asks) if ask[2] is node]
                predicted = self._predict_taskflow([asks[i][:2] for i in mine], node.options)
                for i, extractions in zip(mine, predicted, strict=True):
                    found[i] = extractions
        return [sorted(extractions, key=_position) for extractions in found]

    def _predict_taskflow(self, pairs: list[tuple[str, str]], options: tuple[str, ...]) -> list[list[Extraction]]:
        longest = max(question for _, question in pairs)
        width = self.max_seq_len - len(longest) - TASKFLOW_SUMMARY_TOKENS
        if width < 1:
            raise ValueError(f"the prompt {longest!r} leaves no room for text in max_seq_len={self.max_seq_len}")
        windows, mapping = [], {}
        for index, (text, question) in enumerate(pairs):
            segments = sentence_spans(text, "taskflow") if self.split_sentence else [(0, len(text))]
            starts = [i for start, end in segments for i in range(start, end, width)]
            ends = [min(i + width, end) for start, end in segments for i in range(start, end, width)]
            mapping[index] = list(range(len(windows), len(windows) + len(starts)))
            windows += [(text[start:end], question, start) for start, end in zip(starts, ends, strict=True)]
        encodings = [
            self.tokenizer(
                question, piece, truncation="longest_first", max_length=self.max_seq_len, return_offsets_mapping=True
            )
            for piece, question, _ in windows
        ]
        results = self._run_windows(encodings, [piece for piece, _, _ in windows], [q for _, q, _ in windows], True)
        return self._join(results, windows, mapping, options)

    def _predict_fast(self, asks: list[tuple[str, str, SchemaNode]]) -> list[list[Extraction]]:
        texts = list(dict.fromkeys(text for text, _, _ in asks))
        encoded = self.tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
        tokens = dict(zip(texts, zip(encoded["input_ids"], encoded["offset_mapping"], strict=True), strict=True))
        prompts = list(dict.fromkeys(question for _, question, _ in asks))
        encoded = self.tokenizer(prompts, add_special_tokens=False, return_offsets_mapping=True)
        questions = dict(zip(prompts, zip(encoded["input_ids"], encoded["offset_mapping"], strict=True), strict=True))
        cls, sep = self.tokenizer.cls_token_id, self.tokenizer.sep_token_id
        windows, encodings, mapping = [], [], {}
        for index, (text, question, _) in enumerate(asks):
            room = text_room(question, len(questions[question][0]), self.max_seq_len)
            mapping[index] = []
            for first, last in self._token_ranges(text, tokens[text][1], room):
                row, row_offsets, shift = window_input(questions[question], tokens[text], (first, last), cls, sep)
                mapping[index].append(len(windows))
                windows.append((text[shift : tokens[text][1][last - 1][1]], question, shift))
                encodings.append({"input_ids": row, "offset_mapping": row_offsets})
        results = self._run_windows(encodings, [piece for piece, _, _ in windows], [q for _, q, _ in windows], False)
        found: list[list[Extraction]] = [[] for _ in asks]
        for index, (_, _, node) in enumerate(asks):
            mine = {index: mapping[index]}
            found[index] = self._join(results, windows, mine, node.options, dedup=True)[0]
        return found

    def _token_ranges(self, text: str, offsets, room: int) -> list[tuple[int, int]]:
        """Non-empty `[first, last)` token windows of a text, inside sentences when `split_sentence`."""
        if not self.split_sentence:
            return [window for window in token_windows(len(offsets), room, self.stride) if window[1] > window[0]]
        ranges, first = [], 0
        for start, end in sentence_spans(text):
            while first < len(offsets) and offsets[first][1] <= start:  # between sentences: a line break's "▁"
                first += 1
            last = first
            while last < len(offsets) and offsets[last][0] < end:
                last += 1
            ranges += [(first + a, first + b) for a, b in token_windows(last - first, room, self.stride) if b > a]
            first = last
        return ranges

    def _join(
        self, results, windows, mapping, options: tuple[str, ...] = (), dedup: bool = False
    ) -> list[list[Extraction]]:
        """Each text's extractions from its windows' results (offsets relative to each window); with `options`, a
        classification's answer."""
        if options:  # each window votes with its most probable option (Taskflow: its set's first result)
            ranked = {i: _option_answers(results[i], options) for w in mapping.values() for i in w}
            joined = join_windows(ranked, [w[0] for w in windows], mapping, classification=True)
            return [[_as_extraction(item) for item in answer] for answer in joined]
        found = []
        for indices in mapping.values():
            spans: dict[tuple, Extraction] = {}
            for index in indices:
                for item in results[index]:
                    extraction = _as_extraction(item, windows[index][2])
                    key = (extraction.text, extraction.start, extraction.end) if dedup else len(spans)
                    kept = spans.get(key)
                    if kept is None or kept.probability < extraction.probability:
                        spans[key] = extraction
            found.append(list(spans.values()))
        return found

    def _run_windows(
        self, encodings: list[dict], texts: list[str], questions: list[str], taskflow: bool
    ) -> list[list[dict]]:
        """Window results (Taskflow's dicts, offsets relative to the window), batched (by length unless taskflow)."""
        # Taskflow parity: taskflow mode batches in input order, as Taskflow does
        lengths = [0 if taskflow else len(encoding["input_ids"]) for encoding in encodings]
        results: list[list[dict]] = [[] for _ in encodings]
        device = next(self.model.parameters()).device
        masked_token_id, fill_value = default_key_mask(self.model.config, self.model.dtype)
        for batch in length_batches(lengths, self.batch_size):
            inputs = batch_inputs(
                [encodings[i]["input_ids"] for i in batch],
                self.tokenizer.pad_token_id,
                self.max_seq_len,
                masked_token_id,
                fill_value,
                compress=not taskflow,
            )
            self.threads.apply(device)
            with torch.no_grad():
                output = self.model(**{name: value.to(device) for name, value in inputs.items()})
            start_probs = torch.sigmoid(output.start_logits.float()).tolist()
            end_probs = torch.sigmoid(output.end_logits.float()).tolist()
            for row, index in enumerate(batch):
                offsets = encodings[index]["offset_mapping"]
                spans, probabilities = window_spans(start_probs[row], end_probs[row], offsets, self.position_prob)
                results[index] = window_results(texts[index], questions[index], spans, probabilities)
        return results


def _option_answers(results: list[dict], options: tuple[str, ...]) -> list[dict]:
    """A window's answers to a classification, most probable first: its prompt spans that are exactly an option
    (the prompt holds the options folded to half-width), spelled as declared. Text spans and pieces of an option
    answer nothing."""
    declared = {to_half_width(option): option for option in options}
    answers = [
        {"text": declared[item["text"]], "probability": item["probability"]}
        for item in results
        if "start" not in item and item["text"] in declared
    ]
    return sorted(answers, key=lambda answer: -answer["probability"])


def _as_extraction(item: dict, shift: int = 0) -> Extraction:
    if "start" not in item:
        return Extraction(item["text"], float(item["probability"]))
    return Extraction(item["text"], float(item["probability"]), item["start"] + shift, item["end"] + shift)


def _position(extraction: Extraction) -> tuple:
    return (extraction.start is None, extraction.start or 0, extraction.end or 0, -extraction.probability)
