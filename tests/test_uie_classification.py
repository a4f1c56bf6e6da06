"""Classification nodes (`name[a,b]`) answer with a declared option, never with a span of the text or a piece of an
option, however probable.

The model is built by hand (tests/reference/planted.py). 北 and 很 start a span strongly, 京 and 积 end one strongly,
"OK" does both; 消 starts and 极 ends one (ordinary markers); positions below 3 are quiet, which silences ordinary
markers at the head of a prompt. In the window `[CLS] 情感倾向[很积极,消极] [SEP] [SEP] 北京今天下雨了。 [SEP]` the
starts are 很, 消 and 北, the ends 积, 极, 极 and 京; pairing each end with the latest free start before it (the first
极 has none) gives the prompt's "很积" (a piece of the option 很积极, two strong markers), the prompt's "消极" (the
option, two ordinary markers) and the text's "北京" (two strong markers): the option is the least probable of the
three, yet it is the answer. A strong marker alone scores about 0.99 and an ordinary one about 0.94; on a token
that both starts and ends ("OK") each strong marker scores about 0.93.
"""

from __future__ import annotations

import pytest
import torch
from tests.conftest import planted_model

from erniem.uie import UIEPipeline
from erniem.uie.decoding import window_results, window_spans

SCHEMA = "情感倾向[很积极，消极]"
PROMPT = "情感倾向[很积极,消极]"  # the schema name folded to half-width, as the pipeline asks it
TEXT = "北京今天下雨了。"


@pytest.fixture(scope="module")
def model(tokenizer):
    def ids(tokens):
        return set(tokenizer.convert_tokens_to_ids(tokens))

    return planted_model(
        tokenizer,
        ids(["消"]),
        ids(["极"]),
        strong_starts=ids(["北", "很", "OK"]),
        strong_ends=ids(["京", "积", "OK"]),
        quiet_below=3,
    )


def window_answers(model, tokenizer, prompt: str, text: str) -> dict[str, dict]:
    """Text -> result of one window's raw results (Taskflow's decoding), before any classification vote."""
    encoding = tokenizer(prompt, text, return_offsets_mapping=True)
    with torch.no_grad():
        output = model(input_ids=torch.tensor([encoding["input_ids"]]))
    starts, ends = torch.sigmoid(output.start_logits[0]).tolist(), torch.sigmoid(output.end_logits[0]).tolist()
    spans, probabilities = window_spans(starts, ends, encoding["offset_mapping"])
    results = window_results(text, prompt, spans, probabilities)
    found = {result["text"]: result for result in results}
    assert len(found) == len(results)
    return found


def in_prompt(answers: dict[str, dict]) -> set[str]:
    return {text for text, result in answers.items() if "start" not in result}


@pytest.mark.parametrize("compat", ["fast", "taskflow"])
def test_the_answer_is_the_declared_option_not_a_more_probable_span(model, tokenizer, compat):
    raw = window_answers(model, tokenizer, PROMPT, TEXT)
    assert set(raw) == {"北京", "很积", "消极"}
    assert in_prompt(raw) == {"很积", "消极"}  # 北京 is a text span: (0, 2)
    assert (raw["北京"]["start"], raw["北京"]["end"]) == (0, 2)
    option = raw["消极"]["probability"]
    assert raw["北京"]["probability"] > option + 0.05 and raw["很积"]["probability"] > option + 0.05

    result = UIEPipeline(model, tokenizer, [SCHEMA], compat=compat)(TEXT)
    assert result == [{SCHEMA: [{"text": "消极", "probability": pytest.approx(option, rel=1e-5)}]}]


@pytest.mark.parametrize("compat", ["fast", "taskflow"])
def test_options_that_nothing_marks_give_no_answer(model, tokenizer, compat):
    assert set(window_answers(model, tokenizer, "情感倾向[好,坏]", TEXT)) == {"北京"}  # a text span, not an option
    city = window_answers(model, tokenizer, "城市", TEXT)["北京"]

    result = UIEPipeline(model, tokenizer, ["情感倾向[好，坏]", "城市"], compat=compat)([TEXT, "今天下雨了。"])
    found = {"text": "北京", "start": 0, "end": 2, "probability": pytest.approx(city["probability"], rel=1e-5)}
    assert result == [{"城市": [found]}, {}]


@pytest.mark.parametrize("compat", ["fast", "taskflow"])
def test_a_full_width_option_comes_back_as_declared(model, tokenizer, compat):
    raw = window_answers(model, tokenizer, "情感倾向[OK,坏]", TEXT)  # the prompt holds the option folded: "OK"
    assert set(raw) == {"北京", "OK"} and in_prompt(raw) == {"OK"}
    assert raw["北京"]["probability"] > raw["OK"]["probability"]

    result = UIEPipeline(model, tokenizer, ["情感倾向[ＯＫ，坏]"], compat=compat)(TEXT)
    assert result == [
        {"情感倾向[ＯＫ，坏]": [{"text": "ＯＫ", "probability": pytest.approx(raw["OK"]["probability"])}]}
    ]


@pytest.mark.parametrize(("compat", "windows"), [("fast", 5), ("taskflow", 4)])
def test_the_windows_of_a_long_text_vote_for_an_option(model, tokenizer, compat, windows):
    text = TEXT + "我们都在家里看书。" * 6  # 62 characters, one token each; 北京 only in the first window
    assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) == len(text) == 62
    # max_seq_len 32 beside the 12 tokens of the prompt: fast windows of 32 - 12 - 4 = 16 tokens sharing 2 start at
    # tokens 0, 14, 28, 42 and 56; Taskflow's slices of 32 - 12 - 3 = 17 characters at 0, 17, 34 and 51 (the
    # full ones are cut to 16 tokens to fit).
    first = window_answers(model, tokenizer, PROMPT, text[:16])
    later = window_answers(model, tokenizer, PROMPT, text[17:33])
    assert set(first) == {"北京", "很积", "消极"} and set(later) == {"很积", "消极"}
    assert later["很积"]["probability"] > later["消极"]["probability"] + 0.05

    rows = []
    hook = model.register_forward_pre_hook(
        lambda module, args, kwargs: rows.append(len(kwargs["input_ids"])), with_kwargs=True
    )
    try:
        [result] = UIEPipeline(model, tokenizer, [SCHEMA], compat=compat, max_seq_len=32, stride=2).extract(text)
    finally:
        hook.remove()
    assert sum(rows) == windows
    assert [(e.text, e.start) for e in result[SCHEMA]] == [("消极", None)]
    assert result[SCHEMA][0].probability == pytest.approx(later["消极"]["probability"], rel=1e-5)


@pytest.mark.parametrize("compat", ["fast", "taskflow"])
def test_a_relation_under_a_classification_asks_about_the_chosen_option(model, tokenizer, compat):
    # The child's prompt is built from the answer: "消极的城市". Its 消 and 极 sit at the quiet positions 1 and 2.
    option = window_answers(model, tokenizer, PROMPT, TEXT)["消极"]
    child = window_answers(model, tokenizer, "消极的城市", TEXT)
    assert set(child) == {"北京"}

    result = UIEPipeline(model, tokenizer, {SCHEMA: ["城市"]}, compat=compat)(TEXT)
    city = {"text": "北京", "start": 0, "end": 2, "probability": pytest.approx(child["北京"]["probability"], rel=1e-5)}
    answer = {
        "text": "消极",
        "probability": pytest.approx(option["probability"], rel=1e-5),
        "relations": {"城市": [city]},
    }
    assert result == [{SCHEMA: [answer]}]
