"""Sentence ranges: Taskflow's Chinese breaks, the multilingual ones, and offsets that stay exact."""

from __future__ import annotations

import pytest

from erniem.uie.sentences import sentence_spans


def pieces(text: str, rule: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text, rule)]


def test_taskflow_rule_breaks_after_chinese_sentence_ends():
    text = "北京很大。上海也很大！“真的吗？”他问……好吧"
    assert pieces(text, "taskflow") == ["北京很大。", "上海也很大！", "“真的吗？”", "他问……", "好吧"]


def test_multilingual_rule_also_breaks_other_scripts_and_keeps_offsets():
    text = "Alice left. Bob stayed!  Вы где? هل أنت هنا؟ ठीक है। Fin"
    expected = ["Alice left.", " Bob stayed!", "  Вы где?", " هل أنت هنا؟", " ठीक है।", " Fin"]
    assert pieces(text, "multilingual") == expected
    assert pieces(text, "taskflow") == ["Alice left. Bob stayed!  Вы где?", " هل أنت هنا؟ ठीक है। Fin"]


def test_full_stops_of_dates_and_abbreviations_do_not_break():
    text = "Am 9. Juni 1966 kam er an. Dann ging er."
    assert pieces(text, "multilingual") == ["Am 9. Juni 1966 kam er an.", " Dann ging er."]


def test_line_breaks_separate_and_are_left_out():
    text = "first line\n\nsecond. Third\r\n"
    spans = sentence_spans(text, "multilingual")
    assert [text[a:b] for a, b in spans] == ["first line", "second.", " Third"]
    assert spans[1] == (text.index("second"), text.index("second") + len("second."))


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="rule"):
        sentence_spans("x", "english")
