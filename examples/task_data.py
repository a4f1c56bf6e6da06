"""Template data for the task examples where no multilingual dataset ships in a PyPI package: the sentences of
uie_data.py (six languages; people, organizations, places and dates with made-up names) turned into NER
sentences, extractive questions and multiple-choice questions."""

from __future__ import annotations

import random
import re

import uie_data

# The question that asks for an entity type, in each language.
QUESTIONS = {
    "en": {"organization": "Which company?", "location": "Where?", "date": "When?"},
    "de": {"organization": "Welche Firma?", "location": "Wo?", "date": "Wann?"},
    "es": {"organization": "¿Qué empresa?", "location": "¿Dónde?", "date": "¿Cuándo?"},
    "zh": {"organization": "哪家公司？", "location": "在哪里？", "date": "什么时候？"},
    "ru": {"organization": "Какая компания?", "location": "Где?", "date": "Когда?"},
    "ar": {"organization": "أي شركة؟", "location": "أين؟", "date": "متى؟"},
}
MAKERS = {"organization": uie_data.organization, "location": uie_data.place, "date": uie_data.date}
TAGS = {"person": "PER", "organization": "ORG", "location": "LOC", "date": "DAT"}


def ner_sentences(count: int, seed: int) -> list[tuple[str, list[str], list[str]]]:
    """(text, words, IOB2 tags): words are runs of letters and digits or single other characters (Chinese: single
    characters), tags PER, ORG, LOC, DAT."""
    sentences = []
    for record in uie_data.dataset(count, seed):
        pattern = r"\S" if record["language"] == "zh" else r"\w+|[^\w\s]"
        words = [(m.start(), m.end()) for m in re.finditer(pattern, record["text"])]
        tags = ["O"] * len(words)
        for entity in record["entities"]:
            inside = [i for i, (s, e) in enumerate(words) if s < entity["end_offset"] and e > entity["start_offset"]]
            kind = TAGS[entity["label"]]
            for position, index in enumerate(inside):
                tags[index] = ("B-" if position == 0 else "I-") + kind
        sentences.append((record["text"], [record["text"][s:e] for s, e in words], tags))
    return sentences


def questions(count: int, seed: int) -> list[dict]:
    """`{"question", "context", "answer", "start", "type", "others", "language"}`: the context a template
    sentence, the question one of its organization, place or date (types that occur once in each sentence);
    `others` are the sentence's entities of other types."""
    generator = random.Random(seed + 1)
    rows = []
    for record in uie_data.dataset(count, seed):
        entity = generator.choice([e for e in record["entities"] if e["label"] in MAKERS])
        answer = record["text"][entity["start_offset"] : entity["end_offset"]]
        rows.append({
            "question": QUESTIONS[record["language"]][entity["label"]],
            "context": record["text"],
            "answer": answer,
            "start": entity["start_offset"],
            "type": entity["label"],
            "others": [
                record["text"][e["start_offset"] : e["end_offset"]] for e in record["entities"] if e is not entity
            ],
            "language": record["language"],
        })  # fmt: skip
    return rows


def choices(count: int, seed: int, options: int = 4) -> list[dict]:
    """`{"context", "question", "choices", "label", "language"}`: the context a template sentence, the question for
    one of its entities, the
    choices the sentence's entities: the one asked for, and up to `options - 1` others of other types (sentences
    with three entities give three choices)."""
    generator = random.Random(seed + 2)
    rows = []
    for row in questions(count, seed):
        wrong = generator.sample(row["others"], min(options - 1, len(row["others"])))
        answers = [row["answer"], *wrong]
        generator.shuffle(answers)
        rows.append({
            "context": row["context"],
            "question": row["question"],
            "choices": answers,
            "label": answers.index(row["answer"]),
            "language": row["language"],
        })  # fmt: skip
    return rows
