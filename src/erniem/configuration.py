"""ErnieMConfig: the hyper-parameters of an ERNIE-M encoder, compatible with transformers 4.x checkpoints."""

from __future__ import annotations

from typing import Literal, get_args

from transformers import PreTrainedConfig
from transformers.activations import ACT2FN

MaskConvention = Literal["transformers", "paddlenlp"]


class ErnieMConfig(PreTrainedConfig):
    r"""Configuration of an [`ErnieMModel`][erniem.ErnieMModel].

    The defaults reproduce `susnato/ernie-m-base_pytorch`. The constructor takes the arguments of the
    transformers 4.x `ErnieMConfig`, in the same order, plus `mask_convention`.

    Args:
        vocab_size: Number of token ids the embedding table holds.
        hidden_size: Width of the embeddings, encoder layers and pooler.
        num_hidden_layers: Number of encoder layers.
        num_attention_heads: Attention heads per layer; must divide `hidden_size` (checked when a model is built,
            as transformers' configs do, so a config can be made and edited in steps).
        intermediate_size: Width of the feed-forward layer.
        hidden_act: Activation of the feed-forward layer, a key of `transformers.activations.ACT2FN`.
        hidden_dropout_prob: Dropout after the embeddings and after each residual branch.
        attention_probs_dropout_prob: Dropout on the attention probabilities.
        max_position_embeddings: Rows of the position table. Position ids are shifted by 2, so at most
            `max_position_embeddings - 2` tokens fit.
        initializer_range: Standard deviation of the normal initialiser of weights.
        pad_token_id: Id of `[PAD]`.
        layer_norm_eps: Epsilon of every LayerNorm.
        classifier_dropout: Dropout before classification heads; `None` uses `hidden_dropout_prob`.
            Alias: `dropout`.
        is_decoder: Kept for compatibility; ERNIE-M is an encoder and only `False` is accepted.
        act_dropout: Dropout after the feed-forward activation; `None` uses `hidden_dropout_prob`.
        mask_convention: What the model attends to when the caller passes no `attention_mask`, and how a
            2-D mask becomes additive:
            - `"transformers"` (default): keys equal to `pad_token_id` are masked with the dtype's minimum,
              as transformers 4.x did; what the hub checkpoints expect.
            - `"paddlenlp"`: keys equal to id 0 (`[CLS]`) are masked with -1e4 and `[PAD]` is attended, as
              PaddleNLP's ErnieM and UIE-M do; what converted UIE-M checkpoints were trained with.
        unpad_inputs: Run the layers on the positions a 2-D attention mask keeps only (see `erniem.unpadding`):
            faster on padded batches; the positions left out get zero states. `None` (default): in inference
            where nothing returned depends on them, that is in the heads that read the pooled first token alone
            (sequence classification, multiple choice) unless hidden states are returned, when the mask hides
            enough positions to pay (`modeling.AUTO_UNPAD_MASKED_PER_SEQUENCE` per sequence); `True`: in every
            call, training included; `False`: never.
        num_languages: Rows of an optional language embedding table added to the word and position embeddings,
            as ERNIE-M's pretraining figures draw; 0 (default) builds none, as in the released checkpoints. The
            table starts at zero, so adding it changes no output until it is trained. Taken from `languages`
            when that is given and this is 0.
        languages: Optional language codes naming the rows of that table, in order (`languages[i]` has id i);
            the pretraining collators map the corpora's codes through it.
        tie_word_embeddings: Whether the LM head's decoder shares the word embedding matrix (the heads of
            [`ErnieMForMaskedLM`][erniem.ErnieMForMaskedLM] and [`ErnieMForPreTraining`][erniem.ErnieMForPreTraining]).
    """

    model_type = "ernie_m"
    attribute_map = {"dropout": "classifier_dropout", "num_classes": "num_labels"}

    def __init__(
        self,
        vocab_size: int = 250002,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        max_position_embeddings: int = 514,
        initializer_range: float = 0.02,
        pad_token_id: int = 1,
        layer_norm_eps: float = 1e-05,
        classifier_dropout: float | None = None,
        is_decoder: bool = False,
        act_dropout: float | None = 0.0,
        mask_convention: MaskConvention = "transformers",
        unpad_inputs: bool | None = None,
        num_languages: int = 0,
        languages: list[str] | None = None,
        tie_word_embeddings: bool = True,
        **kwargs,
    ):
        classifier_dropout = kwargs.pop("dropout", classifier_dropout)  # the documented alias
        # pad_token_id and is_decoder are base-class fields in some transformers 5 releases: pass them up.
        super().__init__(pad_token_id=pad_token_id, is_decoder=is_decoder, **kwargs)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.classifier_dropout = classifier_dropout
        self.act_dropout = act_dropout
        self.mask_convention = mask_convention
        self.unpad_inputs = unpad_inputs
        self.languages = list(languages) if languages is not None else None
        self.num_languages = num_languages or len(self.languages or ())
        self.tie_word_embeddings = tie_word_embeddings
        self._validate()

    def _validate(self) -> None:
        """Raise `ValueError` naming the first inconsistent field."""
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
        if not isinstance(self.max_position_embeddings, int) or self.max_position_embeddings <= 2:
            raise ValueError(
                "`max_position_embeddings` must be an integer above 2 (position ids start at 2), "
                f"got {self.max_position_embeddings!r}."
            )
        if self.pad_token_id is not None and not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(
                f"`pad_token_id` ({self.pad_token_id}) is outside the vocabulary (size {self.vocab_size})."
            )
        if isinstance(self.hidden_act, str) and self.hidden_act not in ACT2FN:
            raise ValueError(f"`hidden_act` {self.hidden_act!r} is unknown; choose one of {sorted(ACT2FN)}.")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout", "act_dropout"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must lie in [0, 1], got {value!r}.")
        if self.layer_norm_eps <= 0:
            raise ValueError(f"`layer_norm_eps` must be positive, got {self.layer_norm_eps!r}.")
        if self.is_decoder:
            raise ValueError("ERNIE-M is an encoder: `is_decoder=True` is not supported.")
        if self.unpad_inputs is not None and not isinstance(self.unpad_inputs, bool):
            raise ValueError(f"`unpad_inputs` must be None, True or False, got {self.unpad_inputs!r}.")
        if not isinstance(self.num_languages, int) or isinstance(self.num_languages, bool) or self.num_languages < 0:
            raise ValueError(f"`num_languages` must be a non-negative integer, got {self.num_languages!r}.")
        if self.languages is not None:
            if len(set(self.languages)) != len(self.languages) or not all(isinstance(c, str) for c in self.languages):
                raise ValueError(f"`languages` must be distinct strings, got {self.languages!r}.")
            if len(self.languages) > self.num_languages:
                raise ValueError(
                    f"`languages` names {len(self.languages)} languages, more than `num_languages` "
                    f"({self.num_languages})."
                )
        if self.mask_convention not in get_args(MaskConvention):
            raise ValueError(
                f"`mask_convention` must be one of {get_args(MaskConvention)}, got {self.mask_convention!r}."
            )


__all__ = ["ErnieMConfig", "MaskConvention"]
