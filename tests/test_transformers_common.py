"""transformers' own common tests (ModelTesterMixin, ConfigTester, TokenizerTesterMixin) on erniem's classes.

The mixins come from the installed transformers' source distribution (tests/transformers_common.py); the model
tester has the sizes and checks of the transformers 4.39.3 ErnieM tester; the tokenizers run on the real
vocabulary. Where erniem deliberately differs from what a mixin expects, the test is overridden below with the
reason (see also README, "transformers' common tests").
"""

from __future__ import annotations

import functools
import json
import tempfile
import unittest
from pathlib import Path

import pytest
import torch
from tests.conftest import ROOT, run_reference
from tests.transformers_common import common_tests
from transformers.models.auto import modeling_auto

import erniem
from erniem import (
    ErnieMConfig,
    ErnieMForInformationExtraction,
    ErnieMForMaskedLM,
    ErnieMForMultipleChoice,
    ErnieMForQuestionAnswering,
    ErnieMForSequenceClassification,
    ErnieMForTokenClassification,
    ErnieMModel,
    ErnieMTokenizer,
    ErnieMTokenizerFast,
)
from erniem.vocabulary import real_vocabulary

pytestmark = pytest.mark.common
REFERENCE_SCRIPT = ROOT / "tests" / "reference" / "integration_reference.py"

common = common_tests()
from transformers_common_tests.test_configuration_common import ConfigTester  # noqa: E402
from transformers_common_tests.test_modeling_common import (  # noqa: E402
    ModelTesterMixin,
    ids_tensor,
    random_attention_mask,
)
from transformers_common_tests.test_tokenization_common import TokenizerTesterMixin  # noqa: E402

# The rows of transformers' Auto-mapping tables that the mixins read to build each head's inputs and labels
# (registration with the Auto classes does not touch those tables); added for this module only.
MAPPING_ROWS = {
    "MODEL_MAPPING_NAMES": ErnieMModel,
    "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES": ErnieMForSequenceClassification,
    "MODEL_FOR_MULTIPLE_CHOICE_MAPPING_NAMES": ErnieMForMultipleChoice,
    "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES": ErnieMForTokenClassification,
    "MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES": ErnieMForQuestionAnswering,
    "MODEL_FOR_MASKED_LM_MAPPING_NAMES": ErnieMForMaskedLM,
}


@pytest.fixture(scope="module", autouse=True)
def mapping_rows():
    tables = [getattr(modeling_auto, name) for name in MAPPING_ROWS]
    for table, model_class in zip(tables, MAPPING_ROWS.values(), strict=True):
        table[ErnieMConfig.model_type] = model_class.__name__
    yield
    for table in tables:
        del table[ErnieMConfig.model_type]


class ErnieMModelTester:
    """Tiny configs and inputs for the mixin, with the sizes of the transformers 4.39.3 ErnieM tester."""

    def __init__(self, parent, batch_size=13, seq_length=7, is_training=True, use_input_mask=True, use_labels=True):
        self.parent = parent
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.is_training = is_training
        self.use_input_mask = use_input_mask
        self.use_labels = use_labels
        self.vocab_size = 99
        self.hidden_size = 32
        self.num_hidden_layers = 2
        self.num_attention_heads = 4
        self.intermediate_size = 37
        self.type_sequence_label_size = 2
        self.num_labels = 3
        self.num_choices = 4

    def get_config(self) -> ErnieMConfig:
        return ErnieMConfig(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            hidden_act="gelu",
            hidden_dropout_prob=0.1,
            attention_probs_dropout_prob=0.1,
            max_position_embeddings=512,
            initializer_range=0.02,
        )

    def prepare_config_and_inputs(self):
        input_ids = ids_tensor([self.batch_size, self.seq_length], self.vocab_size)
        input_mask = random_attention_mask([self.batch_size, self.seq_length]) if self.use_input_mask else None
        labels = (None, None, None)
        if self.use_labels:
            labels = (
                ids_tensor([self.batch_size], self.type_sequence_label_size),
                ids_tensor([self.batch_size, self.seq_length], self.num_labels),
                ids_tensor([self.batch_size], self.num_choices),
            )
        return (self.get_config(), input_ids, input_mask, *labels)

    def prepare_config_and_inputs_for_common(self):
        config, input_ids, input_mask, *_ = self.prepare_config_and_inputs()
        return config, {"input_ids": input_ids, "attention_mask": input_mask}


class ErnieMModelTest(ModelTesterMixin, unittest.TestCase):
    all_model_classes = (
        ErnieMModel,
        ErnieMForMultipleChoice,
        ErnieMForQuestionAnswering,
        ErnieMForSequenceClassification,
        ErnieMForTokenClassification,
        ErnieMForMaskedLM,
    )
    test_torchscript = False
    test_can_init_all_missing_weights_before_2023 = True  # erniem is not one of the models that test leaves out

    def setUp(self):
        self.model_tester = ErnieMModelTester(self)
        self.config_tester = ConfigTester(self, config_class=ErnieMConfig, hidden_size=37)

    def test_config(self):
        self.config_tester.run_common_tests()

    def _model(self, model_class, config):
        return model_class(config).eval()

    def test_model(self):
        config, input_ids, *_ = self.model_tester.prepare_config_and_inputs()
        result = self._model(ErnieMModel, config)(input_ids, return_dict=True)
        tester = self.model_tester
        self.assertEqual(result.last_hidden_state.shape, (tester.batch_size, tester.seq_length, tester.hidden_size))

    def test_for_question_answering(self):
        config, input_ids, input_mask, sequence_labels, *_ = self.model_tester.prepare_config_and_inputs()
        model = self._model(ErnieMForQuestionAnswering, config)
        result = model(
            input_ids, attention_mask=input_mask, start_positions=sequence_labels, end_positions=sequence_labels
        )
        shape = (self.model_tester.batch_size, self.model_tester.seq_length)
        self.assertEqual((result.start_logits.shape, result.end_logits.shape), (shape, shape))
        self.assertEqual(result.loss.shape, ())

    def test_for_information_extraction(self):
        config, input_ids, input_mask, *_ = self.model_tester.prepare_config_and_inputs()
        model = self._model(ErnieMForInformationExtraction, config)
        labels = torch.ones_like(input_ids, dtype=torch.float32)
        result = model(input_ids, attention_mask=input_mask, start_positions=labels, end_positions=labels)
        shape = (self.model_tester.batch_size, self.model_tester.seq_length)
        self.assertEqual((result.start_logits.shape, result.end_logits.shape), (shape, shape))
        self.assertEqual(result.loss.shape, ())

    def test_for_masked_lm(self):
        config, input_ids, input_mask, _, token_labels, _ = self.model_tester.prepare_config_and_inputs()
        result = self._model(ErnieMForMaskedLM, config)(input_ids, attention_mask=input_mask, labels=token_labels)
        tester = self.model_tester
        self.assertEqual(result.logits.shape, (tester.batch_size, tester.seq_length, tester.vocab_size))
        self.assertEqual(result.loss.shape, ())

    def test_for_sequence_classification(self):
        config, input_ids, input_mask, sequence_labels, *_ = self.model_tester.prepare_config_and_inputs()
        config.num_labels = self.model_tester.num_labels
        result = self._model(ErnieMForSequenceClassification, config)(
            input_ids, attention_mask=input_mask, labels=sequence_labels
        )
        self.assertEqual(result.logits.shape, (self.model_tester.batch_size, self.model_tester.num_labels))

    def test_for_token_classification(self):
        config, input_ids, input_mask, _, token_labels, _ = self.model_tester.prepare_config_and_inputs()
        config.num_labels = self.model_tester.num_labels
        result = self._model(ErnieMForTokenClassification, config)(
            input_ids, attention_mask=input_mask, labels=token_labels
        )
        tester = self.model_tester
        self.assertEqual(result.logits.shape, (tester.batch_size, tester.seq_length, tester.num_labels))

    def test_for_multiple_choice(self):
        config, input_ids, input_mask, _, _, choice_labels = self.model_tester.prepare_config_and_inputs()
        tester = self.model_tester
        expand = lambda tensor: tensor.unsqueeze(1).expand(-1, tester.num_choices, -1).contiguous()  # noqa: E731
        result = self._model(ErnieMForMultipleChoice, config)(
            expand(input_ids), attention_mask=expand(input_mask), labels=choice_labels
        )
        self.assertEqual(result.logits.shape, (tester.batch_size, tester.num_choices))


def _real_vocabulary_tokenizer(tokenizer_class):
    vocabulary = real_vocabulary()
    return tokenizer_class(vocabulary / "sentencepiece.bpe.model", vocabulary / "vocab.txt")


@functools.cache
def _reference_tokenization(text: str) -> dict:
    """transformers 4.39.3's tokens, ids and decoded ids for `text` on the real vocabulary (run live)."""
    with tempfile.TemporaryDirectory() as directory:
        texts, out = Path(directory) / "texts.json", Path(directory) / "out.json"
        texts.write_text(json.dumps([text]), encoding="utf-8")
        run_reference("transformers", REFERENCE_SCRIPT, real_vocabulary(), texts, out)
        return json.loads(out.read_text(encoding="utf-8"))[0]


class _ErnieMTokenizationTest(TokenizerTesterMixin):
    """The mixin on the real vocabulary, saved where the mixin's `get_tokenizer` (and `from_pretrained_id`) load
    it from; the integration test's expected tokens, ids and text come from transformers 4.39.3."""

    test_seq2seq = False
    test_sentencepiece = True
    # Deliberate: transformers' extractor rebuilds a pure `tokenizers` pipeline from sentencepiece.bpe.model, and
    # no such pipeline gives ERNIE-M's ids (the references cut sentencepiece's pieces after segmentation).
    test_tokenizer_from_extractor = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _real_vocabulary_tokenizer(cls.tokenizer_class).save_pretrained(cls.tmpdirname)
        cls.from_pretrained_id = [cls.tmpdirname]

    @pytest.mark.reference
    def test_integration(self):
        expected = _reference_tokenization(self.integration_test_input_string)
        self.integration_expected_tokens = expected["tokens"]
        self.integration_expected_token_ids = expected["ids"]
        self.integration_expected_decoded_text = expected["decoded"]
        super().test_integration()


class ErnieMTokenizationTest(_ErnieMTokenizationTest, unittest.TestCase):
    tokenizer_class = ErnieMTokenizer


class ErnieMTokenizationFastTest(_ErnieMTokenizationTest, unittest.TestCase):
    tokenizer_class = ErnieMTokenizerFast


def test_erniem_registers_the_classes_the_suite_reads():
    """The suite above runs erniem's own classes (not transformers' or a leftover registration)."""
    assert ErnieMModelTest.all_model_classes[0] is erniem.ErnieMModel
    assert common.__name__ == "transformers_common_tests"
