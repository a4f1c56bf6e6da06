"""UIE schemas and prompts: Taskflow's tree and prompt rules, and clear errors for malformed schemas."""

from __future__ import annotations

import pytest

from erniem.uie.schema import SchemaNode, parse_schema, prompt, to_half_width


def test_schema_forms_become_trees():
    assert parse_schema("人物") == (SchemaNode("人物"),)
    assert parse_schema(["时间", "地点"]) == (SchemaNode("时间"), SchemaNode("地点"))
    schema = {"竞赛名称": ["主办方", "承办方", {"举办时间": ["年份"]}]}
    assert parse_schema(schema) == (
        SchemaNode(
            "竞赛名称", (SchemaNode("主办方"), SchemaNode("承办方"), SchemaNode("举办时间", (SchemaNode("年份"),)))
        ),
    )
    assert parse_schema({"person": "employer"}) == (SchemaNode("person", (SchemaNode("employer"),)),)


def test_classification_options():
    assert SchemaNode("情感倾向[正向，负向]").options == ("正向", "负向")
    assert SchemaNode("sentiment [positive, negative]").options == ("positive", "negative")
    assert SchemaNode("person").options == ()


def test_prompts_follow_taskflow():
    assert prompt(SchemaNode("人物")) == "人物"
    assert prompt(SchemaNode("（ＣＥＯ）")) == "(CEO)"  # full-width folded
    assert prompt(SchemaNode("出生地"), "张三") == "张三的出生地"
    assert prompt(SchemaNode("birthplace"), "Alice", "en") == "birthplace of Alice"
    assert prompt(SchemaNode("sentiment [positive,negative]"), "the screen", "en") == (
        "sentiment of the screen [positive,negative]"
    )
    with pytest.raises(ValueError, match="schema_lang"):
        prompt(SchemaNode("x"), "y", "de")


def test_half_width_folding_matches_dbc2sbc():
    assert to_half_width("（Ａ）～，！abc中") == "(A)~,!abc中"
    assert to_half_width("\u3000") == "\u3000"  # Taskflow's dbc2sbc keeps the ideographic space


@pytest.mark.parametrize(
    "schema, error, message",
    [
        (42, TypeError, "schema is a int"),
        (["人物", 3.5], TypeError, r"schema\[1\] is a float"),
        ({"人物": 7}, TypeError, r"schema\['人物'\] is a int"),
        ({1: ["x"]}, TypeError, "key of type int"),
        ("", ValueError, "cannot be empty"),
        (["  "], ValueError, "cannot be empty"),
        ([], ValueError, "is empty"),
        ({"人物": []}, ValueError, "is empty"),
    ],
)
def test_malformed_schemas_are_refused_by_path(schema, error, message):
    with pytest.raises(error, match=message):
        parse_schema(schema)


def test_a_schema_that_contains_itself_is_refused():
    cyclic: dict = {"人物": []}
    cyclic["人物"].append(cyclic)
    with pytest.raises(ValueError, match="contains itself"):
        parse_schema(cyclic)
