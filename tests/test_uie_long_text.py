"""Long text in fast mode: a 20,000-character multilingual text with entities planted across window borders.

The model is built by hand (tests/reference/planted.py): it marks the first and last pieces of the planted
names and nothing else, so the expected result is known independently of erniem: every planted name, once,
at the offsets where it was put.
"""

from __future__ import annotations

import random

import pytest
from tests.conftest import corpus, planted_model

from erniem.uie import UIEPipeline
from erniem.uie.encoding import token_windows

CANDIDATES = ["Zorbulax", "Quendrimo", "Vexillar", "Praxitune", "Oblumbrik", "Kwazimoth", "Ulvendrath", "Jexoplum"]
MAX_SEQ_LEN, STRIDE = 64, 8


def filler(length: int) -> str:
    """Corpus lines of every language, shuffled, joined up to `length` characters."""
    lines = [text for _, text in corpus()]
    random.Random(3).shuffle(lines)
    text = ""
    for line in lines:
        if len(text) >= length:
            break
        text += line + " "
    return text[:length]


def test_every_planted_entity_comes_back_once_with_its_offsets(tokenizer):
    background = filler(20_000)
    background_ids = set(tokenizer(background, add_special_tokens=False)["input_ids"])
    names = []
    for name in CANDIDATES:  # names whose first and last pieces never occur in the background
        pieces = tokenizer(" " + name, add_special_tokens=False)["input_ids"]
        if len(pieces) > 1 and not {pieces[0], pieces[-1]} & background_ids:
            names.append((name, pieces))
    assert len(names) >= 3, "the background holds the candidates' pieces; pick other made-up names"
    middles = {piece for _, pieces in names for piece in pieces[1:-1]}
    starts, ends = {p[0] for _, p in names}, {p[-1] for _, p in names}
    assert not middles & (starts | ends)

    generator = random.Random(5)
    text, expected, cursor = "", [], 0
    for cut in sorted(generator.sample(range(1, len(background)), 150)):
        name = names[len(expected) % len(names)][0]
        text += background[cursor:cut] + " "
        expected.append((name, len(text), len(text) + len(name)))
        text += name + " "
        cursor = cut
    text += background[cursor:]
    assert len(text) > 20_000

    model = planted_model(tokenizer, starts, ends)
    pipeline = UIEPipeline(model, tokenizer, ["实体"], max_seq_len=MAX_SEQ_LEN, stride=STRIDE, batch_size=64)
    found = pipeline.extract(text)[0]["实体"]
    assert [(e.text, e.start, e.end) for e in found] == expected
    assert all(text[e.start : e.end] == e.text for e in found)
    assert all(e.probability > 0.5 for e in found)

    # The windows really do cut planted names: some straddle a border, and each is found whole elsewhere.
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    room = MAX_SEQ_LEN - len(tokenizer("实体", add_special_tokens=False)["input_ids"]) - 4
    borders = [offsets[last - 1][1] for _, last in token_windows(len(offsets), room, STRIDE)[:-1]]
    straddling = [e for e in expected if any(e[1] < border < e[2] for border in borders)]
    assert len(straddling) >= 5


def test_character_slices_lose_what_token_windows_keep(tokenizer):
    """Taskflow's fixed character slices cut names in two; the same model in taskflow mode misses them."""
    name = "Zorbulax"
    pieces = tokenizer(" " + name, add_special_tokens=False)["input_ids"]
    model = planted_model(tokenizer, {pieces[0]}, {pieces[-1]})
    width = 40 - len("实体") - 3  # Taskflow's character slice at max_seq_len 40
    text = "a" * (width - 4) + " " + name + " tail"  # the name crosses the first slice's end
    fast = UIEPipeline(model, tokenizer, ["实体"], max_seq_len=40).extract(text)[0]
    taskflow = UIEPipeline(model, tokenizer, ["实体"], max_seq_len=40, compat="taskflow").extract(text)[0]
    assert [(e.text, e.start) for e in fast["实体"]] == [(name, width - 3)]
    assert "实体" not in taskflow


def test_a_prompt_without_room_for_text_is_refused(tokenizer):
    model = planted_model(tokenizer, set(), set())
    for compat in ("fast", "taskflow"):
        pipeline = UIEPipeline(model, tokenizer, ["很长的实体类型名称" * 8], max_seq_len=40, compat=compat)
        with pytest.raises(ValueError, match="no room for text"):
            pipeline("一些文字")
