"""A small multilingual extraction dataset, generated from templates: doccano JSONL with entities and relations.

Six languages (English, German, Spanish, Chinese, Russian, Arabic); entity labels person, organization, location
and date; relation `employer` from a person to an organization.
"""

from __future__ import annotations

import random
import re

MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(),
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря".split(),
    "ar": "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر".split(),
}


def date(language: str, generator: random.Random) -> str:
    day, month, year = generator.randint(1, 28), generator.randint(1, 12), generator.randint(1950, 2024)
    if language == "zh":
        return f"{year}年{month}月{day}日"
    name = MONTHS[language][month - 1]
    return {
        "en": f"{name} {day}, {year}",
        "de": f"{day}. {name} {year}",
        "es": f"{day} de {name} de {year}",
        "ru": f"{day} {name} {year} года",
        "ar": f"{day} {name} {year}",
    }[language]


# {P} a person, {Q} a second person, {O} an organization, {L} a place, {D} a date; `employer` says whose
# employer {O} is in the sentence.
TEMPLATES = {
    "en": [
        ("{P} has worked for {O} in {L} since {D}.", "P"),
        ("On {D}, {P} visited the offices of {O} in {L}.", None),
        ("{O} opened a new branch in {L} on {D}.", None),
        ("{P} met {Q}, an engineer at {O}, in {L} on {D}.", "Q"),
    ],
    "de": [
        ("{P} arbeitet seit dem {D} bei {O} in {L}.", "P"),
        ("Am {D} besuchte {P} die Büros von {O} in {L}.", None),
        ("{O} eröffnete am {D} eine neue Filiale in {L}.", None),
        ("{P} traf {Q}, eine Ingenieurin von {O}, am {D} in {L}.", "Q"),
    ],
    "es": [
        ("{P} trabaja para {O} en {L} desde el {D}.", "P"),
        ("El {D}, {P} visitó las oficinas de {O} en {L}.", None),
        ("{O} abrió una nueva sucursal en {L} el {D}.", None),
        ("{P} conoció a {Q}, ingeniera de {O}, en {L} el {D}.", "Q"),
    ],
    "zh": [
        ("{P}自{D}起在{L}的{O}工作。", "P"),
        ("{D}，{P}参观了{O}位于{L}的办公室。", None),
        ("{O}于{D}在{L}开设了新的分公司。", None),
        ("{D}，{P}在{L}见到了{O}的工程师{Q}。", "Q"),
    ],
    "ru": [
        ("{P} работает в компании {O} в городе {L} с {D}.", "P"),
        ("{D} {P} посетил офис компании {O} в городе {L}.", None),
        ("Компания {O} открыла новый филиал в городе {L} {D}.", None),
        ("{P} встретил инженера компании {O} {Q} в городе {L} {D}.", "Q"),
    ],
    "ar": [
        ("يعمل {P} في {O} في {L} منذ {D}.", "P"),
        ("في {D} زار {P} مكاتب {O} في {L}.", None),
        ("افتتحت {O} فرعا جديدا في {L} في {D}.", None),
        ("التقى {P} بالمهندس {Q} من {O} في {L} في {D}.", "Q"),
    ],
}

# Names are made up from syllables, so that no name repeats often enough to be learnt by heart: the model has
# to find entities from their context, and the held-out texts hold names it never saw.
SYLLABLES = {
    "latin": "ka lo mi ran tes vel dor an be sil mar ten ri gos hal nu per ol vin da".split(),
    "zh": list("伟芳娜洋静磊敏勇杰霞强丽超琳斌晶明华军平建国玉兰英志"),
    "zh_surnames": list("张王李刘陈杨赵黄周吴徐孙马朱胡郭何林高罗"),
    "ru": "ка ло ми ран тес вел дор ан бе сил мар тен ри гос нур пер ол вин да".split(),
    "ar": "كا لو مي ران تس فل دور أن بي سل مار تن ري غوس نور بر ول فين دا".split(),
}
SCRIPT = {"en": "latin", "de": "latin", "es": "latin", "ru": "ru", "ar": "ar", "zh": "zh"}
ORGANIZATION_WORDS = {
    "en": ("{} Labs", "{} Bank", "{} Motors", "{} Energy"),
    "de": ("{} AG", "{} GmbH", "{}bank", "{} Logistik"),
    "es": ("Banco {}", "Grupo {}", "Energías {}", "Telecom {}"),
    "zh": ("{}科技", "{}银行", "{}集团", "{}电力"),
    "ru": ("{}банк", "{}сталь", "{}нефть", "{}маш"),
    "ar": ("شركة {}", "بنك {}", "مجموعة {}", "مصرف {}"),
}
PLACE_WORDS = {
    "en": ("{}ton", "{}ville", "Port {}", "{}field"),
    "de": ("{}burg", "{}dorf", "{}hausen", "Bad {}"),
    "es": ("San {}", "{}nueva", "Villa{}", "{}dos"),
    "zh": ("{}市", "{}州", "{}城", "{}镇"),
    "ru": ("{}ске", "{}граде", "{}ове", "{}ино"),
    "ar": ("{}ية", "مدينة {}", "{}ان", "{}ستان"),
}


def word(language: str, generator: random.Random, syllables: int) -> str:
    """A made-up word (capitalized in Latin script; Chinese: characters)."""
    pieces = SYLLABLES[SCRIPT[language]]
    made = "".join(generator.choice(pieces) for _ in range(syllables))
    return made if language == "zh" else made.capitalize()


def person(language: str, generator: random.Random) -> str:
    if language == "zh":
        return generator.choice(SYLLABLES["zh_surnames"]) + word(language, generator, generator.randint(1, 2))
    return f"{word(language, generator, generator.randint(2, 3))} {word(language, generator, generator.randint(2, 3))}"


def organization(language: str, generator: random.Random) -> str:
    return generator.choice(ORGANIZATION_WORDS[language]).format(word(language, generator, generator.randint(2, 3)))


def place(language: str, generator: random.Random) -> str:
    return generator.choice(PLACE_WORDS[language]).format(word(language, generator, 2))


LABELS = {"P": "person", "Q": "person", "O": "organization", "L": "location", "D": "date"}
SCHEMA = ["location", "date", "organization", {"person": ["employer"]}]


def record(language: str, template: str, employee: str | None, generator: random.Random) -> dict:
    """One doccano record: the text, its entities and its employer relation."""
    values = {
        "P": person(language, generator),
        "Q": person(language, generator),
        "O": organization(language, generator),
        "L": place(language, generator),
        "D": date(language, generator),
    }
    text, entities, ids = "", [], {}
    for piece in re.split(r"(\{[PQOLD]\})", template):
        if re.fullmatch(r"\{[PQOLD]\}", piece):
            slot = piece[1]
            ids[slot] = len(entities)
            start = len(text)
            text += values[slot]
            entities.append(
                {"id": len(entities), "start_offset": start, "end_offset": len(text), "label": LABELS[slot]}
            )
        else:
            text += piece
    relations = []
    if employee is not None:
        relations.append({"id": 0, "from_id": ids[employee], "to_id": ids["O"], "type": "employer"})
    return {"text": text, "entities": entities, "relations": relations, "language": language}


def joined(records: list[dict], separator: str) -> dict:
    """One record of several records' texts, offsets and ids shifted."""
    text, entities, relations = "", [], []
    for part in records:
        shift, first_id = len(text) + (len(separator) if text else 0), len(entities)
        text += (separator if text else "") + part["text"]
        for entity in part["entities"]:
            entities.append(
                {
                    **entity,
                    "id": entity["id"] + first_id,
                    "start_offset": entity["start_offset"] + shift,
                    "end_offset": entity["end_offset"] + shift,
                }
            )
        for relation in part["relations"]:
            shifted = {"from_id": relation["from_id"] + first_id, "to_id": relation["to_id"] + first_id}
            relations.append({**relation, "id": len(relations), **shifted})
    return {"text": text, "entities": entities, "relations": relations, "language": records[0]["language"]}


def dataset(count: int, seed: int, sentences: tuple[int, int] = (1, 1)) -> list[dict]:
    """`count` records of a few sentences each (between `sentences[0]` and `sentences[1]`), languages taking
    turns."""
    generator = random.Random(seed)
    records = []
    languages = sorted(TEMPLATES)
    for index in range(count):
        language = languages[index % len(languages)]
        parts = []
        for _ in range(generator.randint(*sentences)):
            template, employee = generator.choice(TEMPLATES[language])
            parts.append(record(language, template, employee, generator))
        records.append(joined(parts, "" if language == "zh" else " "))
    return records
