"""erniem against the live transformers 4.39.3 reference: every output of every case, eager and sdpa."""

from __future__ import annotations

import json

import pytest
import torch

import erniem

pytestmark = pytest.mark.reference

ATOL = 1e-5
IMPLEMENTATIONS = ("eager", "sdpa")
CASES = [
    "padded_mask",
    "no_mask",
    "position_ids",
    "inputs_embeds",
    "batch_of_one",
    "long_512",
    "head_mask",
    "head_mask_1d",
    "prefix_mask",
    "seq_single",
    "seq_single_prefix",
    "seq_regression",
    "seq_multi",
    "token",
    "token_no_mask",
    "qa",
    "choice",
    "choice_no_mask",
    "extraction",
    "extraction_no_mask",
]


def load(reference, name: str, implementation: str):
    directory = reference.model_dir(name)
    architecture = json.loads((directory / "config.json").read_text())["architectures"][0]
    model_class = getattr(erniem, architecture)
    return model_class.from_pretrained(directory, attn_implementation=implementation).eval()


def assert_nested_close(actual, expected, where: str) -> None:
    if isinstance(expected, torch.Tensor):
        assert actual is not None, f"{where}: missing"
        torch.testing.assert_close(actual, expected, atol=ATOL, rtol=0, msg=lambda m: f"{where}: {m}")
        return
    assert len(actual) == len(expected), f"{where}: {len(actual)} entries, reference {len(expected)}"
    for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
        assert_nested_close(a, e, f"{where}[{index}]")


def test_all_cases_are_covered(reference):
    assert sorted(CASES) == sorted(reference.manifest["cases"])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", CASES)
def test_outputs_match_reference(reference, case, implementation):
    spec = reference.manifest["cases"][case]
    model = load(reference, spec["model"], implementation)
    inputs, expected = reference.inputs(case), reference.outputs(case)
    with torch.no_grad():
        # Without output_attentions the configured implementation runs (sdpa stays sdpa unless head_mask is given).
        fast = model(**inputs, output_hidden_states=True)
        with_attentions = model(**inputs, output_hidden_states=True, output_attentions=True)
    for name, value in expected.items():
        actual = (with_attentions if name == "attentions" else fast)[name]
        assert_nested_close(actual, value, f"{case}.{name}")


@pytest.mark.parametrize("case", [c for c in CASES if not c.startswith("extraction")])
def test_tuple_output_matches_reference_layout(reference, case):
    spec = reference.manifest["cases"][case]
    model = load(reference, spec["model"], "sdpa")
    expected = reference.outputs(case)
    with torch.no_grad():
        output = model(**reference.inputs(case), output_hidden_states=True, output_attentions=True, return_dict=False)
    assert len(output) == spec["tuple_length"]
    first = (
        "loss" if "loss" in expected else ("last_hidden_state" if "last_hidden_state" in expected else "start_logits")
    )
    assert_nested_close(output[0], expected[first], f"{case}[0]")


def test_prefix_without_mask_attends_the_prefix(reference):
    """The reference crashes on a prefix without a mask; erniem attends the prefix and hides padding."""
    model = load(reference, "base", "sdpa")
    inputs = reference.inputs("prefix_mask")
    del inputs["attention_mask"]  # the reference's mask was [ones(prefix), ids != pad]
    with torch.no_grad():
        output = model(**inputs)
    expected = reference.outputs("prefix_mask")
    assert_nested_close(output.last_hidden_state, expected["last_hidden_state"], "last_hidden_state")


def test_prefix_with_sequence_length_mask(reference):
    """A mask covering only the sequence is extended over the prefix."""
    model = load(reference, "base", "eager")
    inputs = reference.inputs("prefix_mask")
    inputs["attention_mask"] = inputs["attention_mask"][:, 4:]
    with torch.no_grad():
        output = model(**inputs)
    assert_nested_close(output.last_hidden_state, reference.outputs("prefix_mask")["last_hidden_state"], "hidden")


def test_extraction_tuple_has_fixed_length(reference):
    model = load(reference, "extraction", "sdpa")
    expected = reference.outputs("extraction")
    with torch.no_grad():
        loss, start, end, hidden, attentions = model(**reference.inputs("extraction"), return_dict=False)
        plain = model(**reference.inputs("extraction_no_mask"), return_dict=False)
    assert_nested_close((loss, start, end), (expected["loss"], expected["start_logits"], expected["end_logits"]), "ie")
    assert hidden is None and attentions is None
    assert len(plain) == 5 and plain[0] is None
