"""ErnieMConfig: documented defaults, aliases, validation and serialisation."""

from __future__ import annotations

import pytest

from erniem import ErnieMConfig, ErnieMModel

DOCUMENTED_DEFAULTS = dict(
    vocab_size=250002,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    max_position_embeddings=514,
    initializer_range=0.02,
    pad_token_id=1,
    layer_norm_eps=1e-5,
    classifier_dropout=None,
    is_decoder=False,
    act_dropout=0.0,
)


def test_defaults_are_those_of_the_transformers_4_documentation():
    config = ErnieMConfig()
    for name, value in DOCUMENTED_DEFAULTS.items():
        assert getattr(config, name) == value, name
    assert config.model_type == "ernie_m" and config.mask_convention == "transformers"


def test_positional_arguments_follow_the_documented_order():
    config = ErnieMConfig(1000, 64, 3, 4, 128, "relu")
    assert (config.vocab_size, config.hidden_size, config.num_hidden_layers) == (1000, 64, 3)
    assert (config.num_attention_heads, config.intermediate_size, config.hidden_act) == (4, 128, "relu")


def test_aliases():
    config = ErnieMConfig(dropout=0.3, num_classes=5)
    assert config.classifier_dropout == 0.3 and config.dropout == 0.3
    assert config.num_labels == 5 and config.num_classes == 5


def test_round_trip_keeps_every_field_and_unknown_keys(tmp_path):
    config = ErnieMConfig(hidden_size=64, num_attention_heads=4, mask_convention="paddlenlp", type_vocab_size=16)
    config.save_pretrained(tmp_path)
    loaded = ErnieMConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()
    assert loaded.type_vocab_size == 16 and loaded.mask_convention == "paddlenlp"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(num_hidden_layers=0), "num_hidden_layers"),
        (dict(max_position_embeddings=2), "max_position_embeddings"),
        (dict(pad_token_id=250002), "pad_token_id"),
        (dict(hidden_act="swishy"), "hidden_act"),
        (dict(hidden_dropout_prob=1.5), "hidden_dropout_prob"),
        (dict(layer_norm_eps=0.0), "layer_norm_eps"),
        (dict(is_decoder=True), "encoder"),
        (dict(mask_convention="paddle"), "mask_convention"),
    ],
)
def test_invalid_values_are_refused_by_name(arguments, message):
    with pytest.raises(ValueError, match=message):
        ErnieMConfig(**arguments)


def test_heads_that_do_not_divide_the_width_are_refused_when_the_model_is_built():
    # As transformers' configs: a config may pass through such a state (ConfigTester builds hidden_size=37 with
    # 12 heads); a model cannot be built from it.
    config = ErnieMConfig(vocab_size=99, hidden_size=100, num_hidden_layers=1, num_attention_heads=12)
    with pytest.raises(ValueError, match="not a multiple"):
        ErnieMModel(config)
    config.num_attention_heads = 10
    assert ErnieMModel(config).encoder.layers[0].self_attn.self_attn.attention_head_size == 10
