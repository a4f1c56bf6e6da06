"""doccano JSONL exports to UIE examples, as PaddleNLP's `doccano.py` makes them.

Extraction exports (`--task-type ext`) hold entities, optionally relations between them:
`{"text", "entities": [{"id", "start_offset", "end_offset", "label"}], "relations": [{"from_id", "to_id",
"type"}]}` (doccano >= 1.7), or `{"text" | "data", "label": [[start, end, label], ...]}`. Classification
exports (`--task-type cls`) hold `{"text" | "data", "label": [option, ...]}`.

Each text gives one example per entity label it holds (prompt: the label) and one per subject and relation
type (prompt: "subject的type" or "type of subject"); negatives are the labels and relation prompts a text
lacks, sampled in training up to `negative_ratio` per positive (all kept for evaluation splits).
Classification examples ask `prefix[option,...]` and answer inside the prompt (negative offsets).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .schema import SchemaLanguage


def relation_prompt(subject: str, relation: str, schema_lang: SchemaLanguage) -> str:
    """The prompt asking for the `relation` of `subject`, as the pipeline builds it."""
    return subject + "的" + relation if schema_lang == "zh" else relation + " of " + subject


def _entities(record: dict, where: str) -> tuple[str, list[dict], list[dict]]:
    """(text, entities, relations) of an extraction record, in doccano >= 1.7's shape."""
    text = record.get("text", record.get("data"))
    if not isinstance(text, str):
        raise ValueError(f"{where}: needs a string 'text'")
    if "entities" in record:
        entities, relations = record["entities"], record.get("relations", [])
    elif isinstance(record.get("label"), list):
        entities = [
            {"id": i, "start_offset": s, "end_offset": e, "label": label}
            for i, (s, e, label) in enumerate(_triples(record["label"], where))
        ]
        relations = []
    else:
        raise ValueError(f"{where}: needs 'entities' (and 'relations') or 'label' [[start, end, label], ...]")
    by_id = {}
    for entity in entities:
        start, end, label = entity.get("start_offset"), entity.get("end_offset"), entity.get("label")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ValueError(f"{where}: entity {entity.get('id')} has offsets ({start}, {end}) outside the text")
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"{where}: entity {entity.get('id')} has no label")
        by_id[entity.get("id")] = entity
    for relation in relations:
        for end in ("from_id", "to_id"):
            if relation.get(end) not in by_id:
                raise ValueError(f"{where}: relation {relation.get('id')} names unknown entity {relation.get(end)}")
        if not isinstance(relation.get("type"), str) or not relation["type"].strip():
            raise ValueError(f"{where}: relation {relation.get('id')} has no type")
    return text, entities, [{**r, "from": by_id[r["from_id"]], "to": by_id[r["to_id"]]} for r in relations]


def _triples(labels: list, where: str):
    for item in labels:
        if not (isinstance(item, list) and len(item) == 3):
            raise ValueError(f"{where}: a label is [start, end, label], got {item!r}")
        yield item


def _span(text: str, entity: dict) -> dict:
    start, end = entity["start_offset"], entity["end_offset"]
    return {"text": text[start:end], "start": start, "end": end}


def extraction_examples(
    records: Sequence[dict],
    schema_lang: SchemaLanguage = "zh",
    negative_ratio: int | None = 5,
    seed: int = 1000,
    where: Sequence[str] | None = None,
) -> list[dict]:
    """UIE examples from extraction records; `negative_ratio=None` keeps every negative."""
    generator = random.Random(seed)
    parsed = [_entities(r, where[i] if where else f"record {i}") for i, r in enumerate(records)]
    labels = sorted({e["label"] for _, entities, _ in parsed for e in entities})
    relation_types = sorted({r["type"] for _, _, relations in parsed for r in relations})
    heads = {r["from"]["label"] for _, _, relations in parsed for r in relations}  # labels that have relations
    examples = []
    for text, entities, relations in parsed:
        positives: dict[str, list[dict]] = {}
        for entity in entities:
            positives.setdefault(entity["label"], []).append(_span(text, entity))
        for relation in relations:
            prompt = relation_prompt(text_of(text, relation["from"]), relation["type"], schema_lang)
            positives.setdefault(prompt, []).append(_span(text, relation["to"]))
        negatives = [label for label in labels if label not in positives]
        subjects = dict.fromkeys(text_of(text, e) for e in entities if e["label"] in heads)
        negatives += [
            prompt
            for subject in subjects
            for kind in relation_types
            if (prompt := relation_prompt(subject, kind, schema_lang)) not in positives
        ]
        if negative_ratio is not None and len(negatives) > negative_ratio * max(len(positives), 1):
            negatives = generator.sample(negatives, negative_ratio * max(len(positives), 1))
        for prompt, spans in positives.items():
            unique = list({(s["start"], s["end"]): s for s in spans}.values())
            examples.append({"content": text, "result_list": unique, "prompt": prompt})
        examples += [{"content": text, "result_list": [], "prompt": prompt} for prompt in negatives]
    return examples


def text_of(text: str, entity: dict) -> str:
    return text[entity["start_offset"] : entity["end_offset"]]


def classification_examples(
    records: Sequence[dict],
    prompt_prefix: str = "情感倾向",
    options: Sequence[str] = ("正向", "负向"),
    shuffle_options: bool = True,
    seed: int = 1000,
    where: Sequence[str] | None = None,
) -> list[dict]:
    """UIE examples from classification records: prompt `prefix[options]`, answers inside the prompt (PaddleNLP
    shuffles the options of each training prompt; `shuffle_options=False` keeps their order)."""
    generator = random.Random(seed)
    examples = []
    for index, record in enumerate(records):
        place = where[index] if where else f"record {index}"
        text, answers = record.get("text", record.get("data")), record.get("label")
        if not isinstance(text, str) or not isinstance(answers, list):
            raise ValueError(f"{place}: a classification record is {{'text': str, 'label': [option, ...]}}")
        unknown = [answer for answer in answers if answer not in options]
        if unknown:
            raise ValueError(f"{place}: labels {unknown} are not among the options {list(options)}")
        order = list(options)
        if shuffle_options:
            generator.shuffle(order)
        prompt = f"{prompt_prefix}[{','.join(order)}]"
        result_list = []
        for answer in answers:
            start = len(prompt_prefix) + 1 + sum(len(o) + 1 for o in order[: order.index(answer)])
            start -= len(prompt) + 1
            result_list.append({"text": answer, "start": start, "end": start + len(answer)})
        examples.append({"content": text, "result_list": result_list, "prompt": prompt})
    return examples


def split(records: Sequence, fractions: Sequence[float], seed: int = 1000) -> list[list]:
    """Shuffle `records` and cut them into parts of the given fractions (summing to 1)."""
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {list(fractions)}")
    order = list(records)
    random.Random(seed).shuffle(order)
    parts, start = [], 0
    for index, fraction in enumerate(fractions):
        end = len(order) if index == len(fractions) - 1 else start + round(fraction * len(order))
        parts.append(order[start:end])
        start = end
    return parts
