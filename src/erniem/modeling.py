"""The ERNIE-M encoder and its task heads: embeddings → attention → layer → encoder → pooler → model → heads.

Parameter names are those of transformers 4.39, so its checkpoints load unchanged. Numerics follow the
transformers 4.39 implementation (or PaddleNLP's, with `config.mask_convention="paddlenlp"`), without its
defects: inputs are never modified, every floating dtype runs, and over-long inputs raise `ValueError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import torch
from torch import nn
from torch.nn import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.activations import ACT2FN
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import (
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.utils import ModelOutput

from . import cpu_fusion
from .configuration import ErnieMConfig
from .unpadding import Unpadded

# PaddleNLP parity: position ids are shifted by 2, so rows 0 and 1 of the position table are never used.
POSITION_OFFSET = 2

# One (key, value) pair per layer, each (batch, heads, prefix_length, head_dim).
KeyValues = tuple[tuple[torch.Tensor, torch.Tensor], ...]


@dataclass
class ErnieMModelOutput(ModelOutput):
    """Output of [`ErnieMModel`][erniem.ErnieMModel].

    Args:
        last_hidden_state: (batch, seq, hidden) output of the last layer.
        pooler_output: (batch, hidden) `tanh(dense(h[:, 0]))`; `None` without a pooling layer.
        hidden_states: embeddings and every layer's output, each (batch, seq, hidden), if asked for.
        attentions: every layer's attention probabilities (batch, heads, seq, prefix + seq), if asked for.
        cache: with `use_cache=True`, every layer's (key, value), each (batch, heads, prefix + seq, head_dim),
            ready to be fed back as `past_key_values`; also readable as `past_key_values`. (transformers 5
            renamed that output field to `cache`.)
    """

    last_hidden_state: torch.FloatTensor | None = None
    pooler_output: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None
    cache: KeyValues | None = None

    @property
    def past_key_values(self) -> KeyValues | None:
        """The per-layer keys and values of `use_cache=True`, under the transformers 4.x and PaddleNLP name."""
        return self.cache

    def to_tuple(self) -> tuple:
        """As transformers 4.x: index 0 the sequence output, index 1 the pooled output (even when `None`)."""
        extras = (self.hidden_states, self.attentions, self.cache)
        return (self.last_hidden_state, self.pooler_output) + tuple(v for v in extras if v is not None)


@dataclass
class InformationExtractionOutput(ModelOutput):
    """Output of [`ErnieMForInformationExtraction`][erniem.ErnieMForInformationExtraction].

    Args:
        loss: mean of the start and end binary cross-entropies, when labels are given.
        start_logits: (batch, seq) logit that a span starts at each token; `sigmoid` gives UIE's `start_prob`.
        end_logits: (batch, seq) logit that a span ends at each token; `sigmoid` gives UIE's `end_prob`.
        hidden_states: as in [`ErnieMModelOutput`][erniem.ErnieMModelOutput], if asked for.
        attentions: as in [`ErnieMModelOutput`][erniem.ErnieMModelOutput], if asked for.
    """

    loss: torch.FloatTensor | None = None
    start_logits: torch.FloatTensor | None = None
    end_logits: torch.FloatTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None

    def to_tuple(self) -> tuple:
        """Always five entries, `None` where absent: (loss, start_logits, end_logits, hidden_states, attentions)."""
        return (self.loss, self.start_logits, self.end_logits, self.hidden_states, self.attentions)


@dataclass(frozen=True)
class _MaskRule:
    """What a mask convention hides when no mask is given, and the additive value of a hidden key."""

    masked_token_id: Callable[[ErnieMConfig], int]
    fill_value: Callable[[torch.dtype], float]


_MASK_RULES = {
    "transformers": _MaskRule(lambda config: config.pad_token_id, lambda dtype: torch.finfo(dtype).min),
    # PaddleNLP parity: id 0 ([CLS]) is hidden and [PAD] attended, with -1e4; UIE-M was trained so.
    "paddlenlp": _MaskRule(lambda config: 0, lambda dtype: -1e4),
}


def default_key_mask(config: ErnieMConfig, dtype: torch.dtype) -> tuple[int | None, float]:
    """What a model hides when it is given no attention mask: the token id whose keys are hidden (None: none),
    and the value added to their attention logits."""
    rule = _MASK_RULES[config.mask_convention]
    return rule.masked_token_id(config), rule.fill_value(dtype)


def additive_mask(keep: torch.Tensor, fill_value: float, dtype: torch.dtype) -> torch.Tensor:
    """0 where `keep` is true and `fill_value` elsewhere, in `dtype`, shaped like `keep`."""
    return torch.zeros(keep.shape, dtype=dtype, device=keep.device).masked_fill(~keep, fill_value)


def check_length(seq_length: int, max_length: int, prefix_length: int = 0) -> None:
    """Raise `ValueError` when `prefix_length + seq_length` tokens need more than `max_length` positions."""
    if prefix_length + seq_length > max_length:
        after = f" after a prefix of {prefix_length}" if prefix_length else ""
        raise ValueError(
            f"The input has {seq_length} tokens{after}, more than the {max_length} positions this model has "
            f"(max_position_embeddings minus {POSITION_OFFSET})."
        )


def check_positions(position_ids: torch.Tensor, max_length: int) -> None:
    """Raise `ValueError` when a position id lies outside [0, max_length)."""
    low, high = int(position_ids.min()), int(position_ids.max())
    if low < 0 or high >= max_length:
        raise ValueError(f"position_ids must lie in [0, {max_length - 1}] for this model, got [{low}, {high}].")


class ErnieMLanguageEmbeddings(nn.Embedding):
    """The optional table of language embeddings (`config.num_languages` rows), zero-initialised, so that a model
    given one computes what it computed without until the table is trained."""


class ErnieMEmbeddings(nn.Module):
    """Word plus position embeddings (plus language embeddings where `config.num_languages` asks for them), then
    LayerNorm and dropout (ERNIE-M has no token types)."""

    def __init__(self, config: ErnieMConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(
            config.max_position_embeddings, config.hidden_size, padding_idx=config.pad_token_id
        )
        # Not in the released checkpoints.
        self.language_embeddings = (
            ErnieMLanguageEmbeddings(config.num_languages, config.hidden_size) if config.num_languages else None
        )
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.max_length = config.max_position_embeddings - POSITION_OFFSET

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        past_key_values_length: int = 0,
        language_ids: torch.LongTensor | None = None,
    ) -> torch.Tensor:
        """Return (batch, seq, hidden) embeddings; `position_ids` (batch or 1, seq) count from 0; `language_ids`
        (batch, seq) or (batch, 1) index the language table."""
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        seq_length = inputs_embeds.shape[1]
        if position_ids is None:
            check_length(seq_length, self.max_length, past_key_values_length)
            position_ids = torch.arange(
                past_key_values_length, past_key_values_length + seq_length, device=inputs_embeds.device
            ).unsqueeze(0)
        elif not torch.compiler.is_compiling():
            check_positions(position_ids, self.max_length)
        position_embeddings = self.position_embeddings(position_ids + POSITION_OFFSET)  # never in place
        embeddings = inputs_embeds + position_embeddings
        if language_ids is not None:
            if self.language_embeddings is None:
                raise ValueError("language_ids were given, but this model has no language table (num_languages=0).")
            embeddings = embeddings + self.language_embeddings(language_ids)
        return self.dropout(self.layer_norm(embeddings))


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    head_mask: torch.Tensor | None = None,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention with materialised probabilities; the only path that applies `head_mask`.

    Args:
        query: (batch, heads, seq, head_dim).
        key, value: (batch, heads, keys, head_dim).
        attention_mask: additive, broadcastable to (batch, heads, seq, keys).
        head_mask: (batch or 1, heads, 1, 1) multiplier of the probabilities.

    Returns:
        The context (batch, seq, heads, head_dim) and the probabilities (batch, heads, seq, keys).
    """
    scores = torch.matmul(query, key.transpose(-1, -2)) * scaling  # (batch, heads, seq, keys)
    if attention_mask is not None:
        scores = scores + attention_mask
    probs = nn.functional.softmax(scores, dim=-1)
    probs = nn.functional.dropout(probs, p=dropout, training=module.training)
    if head_mask is not None:
        probs = probs * head_mask
    context = torch.matmul(probs, value).transpose(1, 2).contiguous()  # (batch, seq, heads, head_dim)
    return context, probs


class ErnieMSelfAttention(nn.Module):
    """Query, key and value projections and the attention itself, after optional prefix keys and values."""

    def __init__(self, config: ErnieMConfig):
        super().__init__()
        if config.hidden_size % config.num_attention_heads != 0:
            raise ValueError(
                f"`hidden_size` ({config.hidden_size}) is not a multiple of `num_attention_heads` "
                f"({config.num_attention_heads})."
            )
        self.config = config
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = config.hidden_size
        self.q_proj = nn.Linear(config.hidden_size, self.all_head_size)
        self.k_proj = nn.Linear(config.hidden_size, self.all_head_size)
        self.v_proj = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout_prob = config.attention_probs_dropout_prob
        self.scaling = self.attention_head_size**-0.5
        self.is_causal = False

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_interface: Callable,
        attention_mask: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        prefix_key_value: tuple[torch.Tensor, torch.Tensor] | None = None,
        fused: bool = False,
        unpadded: Unpadded | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, tuple[torch.Tensor, torch.Tensor] | None]:
        """Return the context (batch, seq, hidden), the probabilities if computed, and this layer's keys/values.

        `fused`: project with `cpu_fusion.grouped_linear` (the caller checked `cpu_fusion.applies`).
        `unpadded`: `hidden_states` are its (tokens, hidden) rows; so is the context returned, and attention
        runs row by row (`attention_mask` is not used); neither probabilities nor keys/values are returned.
        """
        projections = (self.q_proj, self.k_proj, self.v_proj)
        if fused:
            query, key, value = cpu_fusion.grouped_linear(projections, hidden_states)
        else:
            query, key, value = (linear(hidden_states) for linear in projections)
        attention_kwargs = dict(
            dropout=self.dropout_prob if self.training else 0.0,
            scaling=self.scaling,
            **({"head_mask": head_mask} if head_mask is not None else {}),
        )
        if unpadded is not None:
            return self._attend_by_row(query, key, value, attention_interface, unpadded, **attention_kwargs), None, None

        batch_size, seq_length = hidden_states.shape[:2]
        query, key, value = (self._heads(tensor) for tensor in (query, key, value))
        if prefix_key_value is not None:
            key = torch.cat([prefix_key_value[0], key], dim=2)  # (batch, heads, prefix + seq, head_dim)
            value = torch.cat([prefix_key_value[1], value], dim=2)
        context, probs = attention_interface(self, query, key, value, attention_mask, **attention_kwargs)
        return context.reshape(batch_size, seq_length, self.all_head_size), probs, (key, value)

    def _heads(self, tensor: torch.Tensor) -> torch.Tensor:
        """(batch, seq, hidden) -> (batch, heads, seq, head_dim), a view."""
        return tensor.view(*tensor.shape[:2], self.num_attention_heads, self.attention_head_size).transpose(1, 2)

    def _attend_by_row(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        attention_interface: Callable,
        unpadded: Unpadded,
        **kwargs,
    ) -> torch.Tensor:
        """The context (tokens, hidden) of (tokens, hidden) projections: each row's computed positions attend to
        its attended ones, so no position needs a mask and no padding is computed."""
        contexts = []
        for start, key_start, end in unpadded.spans:
            row_query, row_key, row_value = (
                self._heads(tensor[None, first:end])
                for tensor, first in ((query, start), (key, key_start), (value, key_start))
            )
            context, _ = attention_interface(self, row_query, row_key, row_value, None, **kwargs)
            contexts.append(context.reshape(end - start, self.all_head_size))
        return torch.cat(contexts)


def _identity(tensor: torch.Tensor) -> torch.Tensor:
    return tensor


class ErnieMAttention(nn.Module):
    """Self-attention followed by its output projection."""

    def __init__(self, config: ErnieMConfig):
        super().__init__()
        self.self_attn = ErnieMSelfAttention(config)
        self.out_proj = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor, attention_interface: Callable, fused: bool = False, **kwargs):
        """Return `out_proj(context)`, plus `hidden_states` when `fused` (added inside the fused call), the
        probabilities if computed, and the keys/values."""
        context, probs, key_value = self.self_attn(hidden_states, attention_interface, fused=fused, **kwargs)
        if fused:
            return cpu_fusion.linear(self.out_proj, context, residual=hidden_states), probs, key_value
        return self.out_proj(context), probs, key_value


class ErnieMEncoderLayer(GradientCheckpointingLayer):
    """Post-norm transformer layer: `norm1(x + attn(x))`, then `norm2(x + linear2(act(linear1(x))))`."""

    def __init__(self, config: ErnieMConfig):
        super().__init__()
        act_dropout = config.hidden_dropout_prob if config.act_dropout is None else config.act_dropout
        self.self_attn = ErnieMAttention(config)
        self.linear1 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.dropout = nn.Dropout(act_dropout)
        self.linear2 = nn.Linear(config.intermediate_size, config.hidden_size)
        self.norm1 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.norm2 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout1 = nn.Dropout(config.hidden_dropout_prob)
        self.dropout2 = nn.Dropout(config.hidden_dropout_prob)
        self.activation = ACT2FN[config.hidden_act] if isinstance(config.hidden_act, str) else config.hidden_act
        self.hidden_act_name = config.hidden_act if isinstance(config.hidden_act, str) else None

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_interface: Callable = eager_attention_forward,
        attention_mask: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        prefix_key_value: tuple[torch.Tensor, torch.Tensor] | None = None,
        unpadded: Unpadded | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, tuple[torch.Tensor, torch.Tensor] | None]:
        """Return the layer output (batch, seq, hidden), the attention probabilities if computed, and keys/values.

        With `unpadded`, `hidden_states` and the output are its (tokens, hidden) rows.
        """
        fused = not self.training and cpu_fusion.applies(hidden_states, self._linears())
        attention_output, probs, key_value = self.self_attn(
            hidden_states,
            attention_interface,
            fused=fused,
            attention_mask=attention_mask,
            head_mask=head_mask,
            prefix_key_value=prefix_key_value,
            unpadded=unpadded,
        )
        if fused:  # eval mode: the dropouts are identities; the residuals are added inside the linear calls
            hidden_states = self.norm1(attention_output)
            return self.norm2(self._fused_feed_forward(hidden_states)), probs, key_value
        hidden_states = self.norm1(hidden_states + self.dropout1(attention_output))
        feed_forward = self.linear2(self.dropout(self.activation(self.linear1(hidden_states))))
        hidden_states = self.norm2(hidden_states + self.dropout2(feed_forward))
        return hidden_states, probs, key_value

    def _apply(self, fn, recurse=True):
        """Also drop the weights `cpu_fusion` keeps packed for this layer: `.to()`, `.half()`, `.cuda()` and the
        like replace the weights, and the copies of the old ones would otherwise stay until the next forward on CPU."""
        cpu_fusion.release(self._linears())
        return super()._apply(fn, recurse)

    def _linears(self) -> list[nn.Module]:
        attention = self.self_attn.self_attn
        projections = [attention.q_proj, attention.k_proj, attention.v_proj, self.self_attn.out_proj]
        return projections + [self.linear1, self.linear2]

    def _fused_feed_forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """`hidden_states + linear2(act(linear1(hidden_states)))` in two `cpu_fusion.linear` calls."""
        hidden_act = self.hidden_act_name
        if hidden_act in cpu_fusion.POST_OPS:
            intermediate = cpu_fusion.linear(self.linear1, hidden_states, activation=hidden_act)
        else:
            intermediate = self.activation(cpu_fusion.linear(self.linear1, hidden_states))
        return cpu_fusion.linear(self.linear2, intermediate, residual=hidden_states)


class ErnieMEncoder(nn.Module):
    """The stack of encoder layers."""

    def __init__(self, config: ErnieMConfig):
        super().__init__()
        self.config = config
        self.layers = nn.ModuleList([ErnieMEncoderLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_interface: Callable,
        attention_mask: torch.Tensor | None,
        head_masks: list[torch.Tensor | None],
        past_key_values: KeyValues | None,
        output_attentions: bool,
        output_hidden_states: bool,
        use_cache: bool,
        unpadded: Unpadded | None = None,
    ) -> tuple[torch.Tensor, tuple | None, tuple | None, KeyValues | None]:
        """Return the last layer's output, then all hidden states, attentions and keys/values where asked.

        With `unpadded`, `hidden_states` are its (tokens, hidden) rows; what is returned is (batch, seq, hidden).
        """
        restore = unpadded.pad if unpadded is not None else _identity
        all_hidden_states = (restore(hidden_states),) if output_hidden_states else None
        all_attentions = () if output_attentions else None
        key_values = () if use_cache else None
        for index, layer in enumerate(self.layers):
            hidden_states, probs, key_value = layer(
                hidden_states,
                attention_interface=attention_interface,
                attention_mask=attention_mask,
                head_mask=head_masks[index],
                prefix_key_value=past_key_values[index] if past_key_values is not None else None,
                unpadded=unpadded,
            )
            if output_hidden_states:
                all_hidden_states += (restore(hidden_states),)
            if output_attentions:
                all_attentions += (probs,)
            if use_cache:
                key_values += (key_value,)
        return restore(hidden_states), all_hidden_states, all_attentions, key_values


class ErnieMPooler(nn.Module):
    """`tanh(dense(h[:, 0]))`: the first token's state, projected."""

    def __init__(self, config: ErnieMConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden_states[:, 0]))


class ErnieMPreTrainedModel(PreTrainedModel):
    """Weight initialisation and loading shared by the ERNIE-M model and heads.

    Weights are initialised as in transformers 4.x: normal(0, `initializer_range`) for linear and embedding
    weights (padding row zeroed), zero biases, unit LayerNorms; transformers' default `_init_weights` does it.
    """

    config_class = ErnieMConfig
    base_model_prefix = "ernie_m"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _no_split_modules = ["ErnieMEmbeddings", "ErnieMEncoderLayer"]

    def _init_weights(self, module: nn.Module) -> None:
        """transformers' default, then zeros for the language table and the LM head's bias."""
        if isinstance(module, ErnieMLanguageEmbeddings):
            init.zeros_(module.weight)
            return
        super()._init_weights(module)
        if isinstance(module, ErnieMLMHead):
            init.zeros_(module.bias)


class ErnieMModel(ErnieMPreTrainedModel):
    """The bare ERNIE-M encoder, returning hidden states and (optionally) the pooled first token."""

    def __init__(self, config: ErnieMConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.embeddings = ErnieMEmbeddings(config)
        self.encoder = ErnieMEncoder(config)
        self.pooler = ErnieMPooler(config) if add_pooling_layer else None
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embeddings.word_embeddings = value

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.FloatTensor | None = None,
        past_key_values: KeyValues | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = None,
        unpad_inputs: bool | None = None,
        language_ids: torch.LongTensor | None = None,
    ) -> ErnieMModelOutput | tuple:
        r"""Encode a batch.

        Args:
            input_ids: (batch, seq) token ids; give either these or `inputs_embeds`.
            position_ids: (batch or 1, seq) positions counted from 0; default `prefix_length + arange(seq)`.
            attention_mask: (batch, seq) or (batch, prefix + seq) with 1 for tokens to attend and 0 for
                tokens to ignore; or a per-query mask, (batch, seq, prefix + seq) or 4-D broadcastable to
                (batch, heads, seq, prefix + seq), additive float or boolean (True to attend), such as the
                pretraining collators build. Without it, `config.mask_convention` decides what is hidden.
            head_mask: (heads,) or (layers, heads), 1 to keep a head and 0 to silence it.
            inputs_embeds: (batch, seq, hidden) embeddings used instead of `input_ids`.
            past_key_values: per layer a (key, value) pair of (batch, heads, prefix, head_dim) tensors placed
                before the sequence's own keys and values (prefix tuning); the prefix is always attended.
            use_cache: return every layer's keys and values (prefix included) as `past_key_values`.
            output_hidden_states: return the embeddings and every layer's output.
            output_attentions: return every layer's attention probabilities.
            return_dict: return an [`ErnieMModelOutput`][erniem.ErnieMModelOutput] rather than a tuple.
            unpad_inputs: compute only the positions the mask keeps, the others getting zero states (see
                `erniem.unpadding`); default: whether `config.unpad_inputs` is `True`. Calls asking for
                `output_attentions` or `use_cache` compute every position.
            language_ids: (batch, seq) or (batch, 1) language ids, for a model with `config.num_languages`.

        `head_mask` and `output_attentions` need the probabilities, so those calls run the eager attention
        whatever `attn_implementation` says.
        """
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of `input_ids` and `inputs_embeds`.")
        config = self.config
        output_attentions = config.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = config.return_dict if return_dict is None else return_dict
        use_cache = bool(use_cache)

        batch_size, seq_length = (input_ids if input_ids is not None else inputs_embeds).shape[:2]
        prefix_length = self._check_prefix(past_key_values, batch_size)
        embedding_output = self.embeddings(input_ids, position_ids, inputs_embeds, prefix_length, language_ids)

        eager = output_attentions or head_mask is not None
        implementation = "eager" if eager else config._attn_implementation or "eager"
        attention_interface = self._attention_interface(implementation)
        keep = self._keep_mask(input_ids, attention_mask, batch_size, seq_length, prefix_length)
        unpad_inputs = config.unpad_inputs is True if unpad_inputs is None else unpad_inputs
        unpadded = None
        if unpad_inputs and not (output_attentions or use_cache):  # those cover every position
            unpadded = self._unpadded(attention_mask, keep, prefix_length)
        if unpadded is not None:
            extended_mask = None  # attention runs sequence by sequence over the kept keys alone
        elif implementation.startswith("flash"):
            if attention_mask is not None and attention_mask.dim() > 2:
                raise ValueError(f"{implementation} takes a 2-D attention mask, not a {attention_mask.dim()}-D one.")
            extended_mask = keep.to(torch.int32) if keep is not None else None  # (batch, prefix + seq)
        else:
            extended_mask = self._additive_mask(attention_mask, keep, embedding_output.dtype)

        sequence_output, hidden_states, attentions, key_values = self.encoder(
            unpadded.unpad(embedding_output) if unpadded is not None else embedding_output,
            attention_interface=attention_interface,
            attention_mask=extended_mask,
            head_masks=self._head_masks(head_mask, embedding_output.dtype),
            past_key_values=past_key_values,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            use_cache=use_cache,
            unpadded=unpadded,
        )
        pooled_output = self.pooler(sequence_output) if self.pooler is not None else None
        output = ErnieMModelOutput(
            last_hidden_state=sequence_output,
            pooler_output=pooled_output,
            hidden_states=hidden_states,
            attentions=attentions,
            cache=key_values,
        )
        return output if return_dict else output.to_tuple()

    def _attention_interface(self, implementation: str) -> Callable:
        """The attention function registered for `implementation` in transformers' `AttentionInterface`, looked up
        on every call, so `set_attn_implementation` and functions the user registers take effect."""
        if hasattr(ALL_ATTENTION_FUNCTIONS, "get_interface"):  # later transformers 5 releases: checks the name
            return ALL_ATTENTION_FUNCTIONS.get_interface(implementation, eager_attention_forward)
        if implementation == "eager":
            return eager_attention_forward
        # Earlier 5.x releases: the form their `set_attn_implementation` looks for in a model's source.
        return ALL_ATTENTION_FUNCTIONS[self.config._attn_implementation]

    def _check_prefix(self, past_key_values: KeyValues | None, batch_size: int) -> int:
        """Validate prefix keys/values and return the prefix length."""
        if past_key_values is None:
            return 0
        config = self.config
        if len(past_key_values) != config.num_hidden_layers:
            raise ValueError(
                f"past_key_values has {len(past_key_values)} entries; this model has {config.num_hidden_layers} layers."
            )
        head_dim = config.hidden_size // config.num_attention_heads
        key = past_key_values[0][0]
        if key.dim() != 4 or key.shape[1] != config.num_attention_heads or key.shape[3] != head_dim:
            raise ValueError(
                f"past_key_values tensors must be (batch, {config.num_attention_heads}, prefix_length, {head_dim}), "
                f"got {tuple(key.shape)}."
            )
        if key.shape[0] not in (1, batch_size):
            raise ValueError(f"past_key_values has batch size {key.shape[0]}, the input {batch_size}.")
        return key.shape[2]

    def _keep_mask(
        self,
        input_ids: torch.Tensor | None,
        attention_mask: torch.Tensor | None,
        batch_size: int,
        seq_length: int,
        prefix_length: int,
    ) -> torch.Tensor | None:
        """Return (batch, prefix + seq) booleans, True where a key is attended; `None` when all are, or when the
        mask is per query (3-D or 4-D)."""
        if attention_mask is not None and attention_mask.dim() == 3:
            expected = (batch_size, seq_length, prefix_length + seq_length)
            if tuple(attention_mask.shape) != expected:
                raise ValueError(f"A 3-D attention_mask must be {expected}, got {tuple(attention_mask.shape)}.")
            return None
        if attention_mask is not None and attention_mask.dim() == 4:
            return None
        if attention_mask is not None:
            if attention_mask.dim() != 2 or attention_mask.shape[1] not in (seq_length, prefix_length + seq_length):
                raise ValueError(
                    f"attention_mask must be (batch, {seq_length}) or (batch, {prefix_length + seq_length}) "
                    f"or 4-D, got {tuple(attention_mask.shape)}."
                )
            keep = attention_mask != 0
        else:
            masked_token_id = _MASK_RULES[self.config.mask_convention].masked_token_id(self.config)
            if input_ids is None or masked_token_id is None:
                return None
            keep = input_ids != masked_token_id
        if keep.shape[1] == seq_length and prefix_length:
            prefix = torch.ones(keep.shape[0], prefix_length, dtype=torch.bool, device=keep.device)
            keep = torch.cat([prefix, keep], dim=1)  # the prefix is always attended
        return keep

    def _unpadded(
        self, attention_mask: torch.Tensor | None, keep: torch.Tensor | None, prefix_length: int
    ) -> Unpadded | None:
        """The positions to compute when skipping padding: those a 2-D `attention_mask` keeps, or without one the
        tokens other than `[PAD]` where the mask convention hides those; `None` when all are computed or a row
        attends to nothing."""
        config = self.config
        if keep is None or prefix_length or not keep.any(1).all():
            return None
        hidden_token_id = _MASK_RULES[config.mask_convention].masked_token_id(config)
        if attention_mask is None and hidden_token_id != config.pad_token_id:
            return None  # the hidden keys are not padding (the PaddleNLP rule hides [CLS])
        unpadded = Unpadded.from_keep(keep)
        return None if unpadded.complete else unpadded

    def _additive_mask(
        self, attention_mask: torch.Tensor | None, keep: torch.Tensor | None, dtype: torch.dtype
    ) -> torch.Tensor | None:
        """Return the additive mask, broadcastable to (batch, heads, seq, keys), in the model's dtype."""
        fill_value = _MASK_RULES[self.config.mask_convention].fill_value(dtype)
        if attention_mask is not None and attention_mask.dim() == 3:
            attention_mask = attention_mask[:, None]  # (batch, 1, seq, keys): the same for every head
        if attention_mask is not None and attention_mask.dim() == 4:
            if attention_mask.dtype != torch.bool:
                return attention_mask.to(dtype)
            keep = attention_mask
        elif keep is None:
            return None
        else:
            keep = keep[:, None, None, :]  # (batch, 1, 1, keys)
        return additive_mask(keep, fill_value, dtype)

    def _head_masks(self, head_mask: torch.Tensor | None, dtype: torch.dtype) -> list[torch.Tensor | None]:
        """Expand `head_mask` to one (1, heads, 1, 1) multiplier per layer."""
        num_layers, num_heads = self.config.num_hidden_layers, self.config.num_attention_heads
        if head_mask is None:
            return [None] * num_layers
        if head_mask.dim() == 1:
            head_mask = head_mask.expand(num_layers, -1)
        if head_mask.shape != (num_layers, num_heads):
            raise ValueError(
                f"head_mask must be ({num_heads},) or ({num_layers}, {num_heads}), got {tuple(head_mask.shape)}."
            )
        return [row.to(dtype).view(1, num_heads, 1, 1) for row in head_mask]


# Below this many masked positions per sequence on average, running attention sequence by sequence costs more
# than skipping the positions saves (base size, bf16: 128×16 with 4 masked per sequence 0.90×, 64×32 with 8
# 1.01×, 8×128 with 33 1.14×; fp32 gains from fewer; `benchmarks/unpadding.py`).
AUTO_UNPAD_MASKED_PER_SEQUENCE = 16


def _unpad_pooled(config: ErnieMConfig, output_hidden_states: bool | None, attention_mask: torch.Tensor | None) -> bool:
    """Whether a head that reads the pooled first token alone skips padding: as `config.unpad_inputs` says, or
    when that is `None`, in inference (no autograd) when the 2-D mask hides at least
    `AUTO_UNPAD_MASKED_PER_SEQUENCE` positions per sequence and the hidden states (which cover every position)
    are not returned.

    Not under autograd by default: there the per-sequence attention adds graph nodes per sequence, and with
    many short sequences a training step ran no faster than padded (base size, fp32: 64×32 1.01×, 16×128 1.15×).
    Nor under `torch.compile`: the kept positions change from batch to batch, and each new set of them would be
    compiled anew.
    """
    if config.unpad_inputs is not None:
        return config.unpad_inputs
    wants_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
    if wants_states or torch.is_grad_enabled() or torch.compiler.is_compiling():
        return False
    if attention_mask is None or attention_mask.dim() != 2:
        return False
    return int((attention_mask == 0).sum()) >= AUTO_UNPAD_MASKED_PER_SEQUENCE * attention_mask.shape[0]


def _task_layer(layer: nn.Module, hidden_states: torch.Tensor) -> torch.Tensor:
    """`layer(hidden_states)`, computed in fp32 when the model runs in bf16 or fp16.

    The logits a head returns are then fp32 whatever the model's dtype, so their softmax, sigmoid and loss keep
    fp32 precision; the layer is small next to the encoder. Layers other than a plain `nn.Linear` (adapters,
    wrapped classifiers) run as they are and their output is cast.
    """
    if hidden_states.dtype not in (torch.float16, torch.bfloat16):
        return layer(hidden_states)
    if type(layer) is not nn.Linear:
        return layer(hidden_states).float()
    bias = layer.bias.float() if layer.bias is not None else None
    return nn.functional.linear(hidden_states.float(), layer.weight.float(), bias)


def _classifier_dropout(config: ErnieMConfig) -> nn.Dropout:
    """The dropout before a classifier: `classifier_dropout`, else `hidden_dropout_prob`."""
    probability = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
    return nn.Dropout(probability)


class ErnieMForSequenceClassification(ErnieMPreTrainedModel):
    """ERNIE-M with a linear layer on the pooled output, for classification or regression."""

    accepts_loss_kwargs = False

    def __init__(self, config: ErnieMConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.ernie_m = ErnieMModel(config)
        self.dropout = _classifier_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        past_key_values: KeyValues | None = None,
        use_cache: bool | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = True,
        labels: torch.Tensor | None = None,
    ) -> SequenceClassifierOutput | tuple:
        r"""Classify each sequence; arguments as [`ErnieMModel.forward`][erniem.ErnieMModel.forward].

        Args:
            labels: (batch,) class ids for cross-entropy, (batch,) floats for mean-squared error when
                `num_labels == 1`, or (batch, num_labels) 0/1 floats for multi-label binary cross-entropy.
                `config.problem_type` picks the loss; when unset it is inferred from `num_labels` and the dtype.
        """
        return_dict = self.config.return_dict if return_dict is None else return_dict
        outputs = self.ernie_m(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            head_mask=head_mask,
            inputs_embeds=inputs_embeds,
            past_key_values=past_key_values,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
            return_dict=True,
            unpad_inputs=_unpad_pooled(self.config, output_hidden_states, attention_mask),
        )
        logits = _task_layer(self.classifier, self.dropout(outputs.pooler_output))
        loss = self._loss(logits, labels) if labels is not None else None
        output = SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return output if return_dict else output.to_tuple()

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.config.problem_type is None:
            if self.num_labels == 1:
                self.config.problem_type = "regression"
            elif labels.dtype in (torch.long, torch.int):
                self.config.problem_type = "single_label_classification"
            else:
                self.config.problem_type = "multi_label_classification"
        if self.config.problem_type == "regression":
            if self.num_labels == 1:
                return MSELoss()(logits.squeeze(), labels.squeeze().to(logits.dtype))
            return MSELoss()(logits, labels.to(logits.dtype))
        if self.config.problem_type == "single_label_classification":
            return CrossEntropyLoss()(logits.view(-1, self.num_labels), labels.view(-1))
        return BCEWithLogitsLoss()(logits, labels.to(logits.dtype))


class ErnieMForMultipleChoice(ErnieMPreTrainedModel):
    """ERNIE-M scoring each choice with a linear layer on its pooled output; softmax across choices."""

    accepts_loss_kwargs = False

    def __init__(self, config: ErnieMConfig):
        super().__init__(config)
        self.ernie_m = ErnieMModel(config)
        self.dropout = _classifier_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = True,
    ) -> MultipleChoiceModelOutput | tuple:
        r"""Score choices; tensors are (batch, num_choices, seq[, hidden]), otherwise as
        [`ErnieMModel.forward`][erniem.ErnieMModel.forward].

        Args:
            labels: (batch,) index of the right choice.
        """
        return_dict = self.config.return_dict if return_dict is None else return_dict
        num_choices = (input_ids if input_ids is not None else inputs_embeds).shape[1]

        def flatten(tensor: torch.Tensor | None, trailing: int) -> torch.Tensor | None:
            # (batch, choices, *rest) -> (batch * choices, *rest)
            return tensor.reshape(-1, *tensor.shape[-trailing:]) if tensor is not None else None

        outputs = self.ernie_m(
            flatten(input_ids, 1),
            attention_mask=flatten(attention_mask, 1),
            position_ids=flatten(position_ids, 1),
            head_mask=head_mask,
            inputs_embeds=flatten(inputs_embeds, 2),
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            unpad_inputs=_unpad_pooled(self.config, output_hidden_states, flatten(attention_mask, 1)),
        )
        logits = _task_layer(self.classifier, self.dropout(outputs.pooler_output)).view(-1, num_choices)
        loss = CrossEntropyLoss()(logits, labels) if labels is not None else None
        output = MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return output if return_dict else output.to_tuple()


class ErnieMForTokenClassification(ErnieMPreTrainedModel):
    """ERNIE-M with a linear layer on every token's state, for tagging such as NER."""

    accepts_loss_kwargs = False

    def __init__(self, config: ErnieMConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.ernie_m = ErnieMModel(config, add_pooling_layer=False)
        self.dropout = _classifier_dropout(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        past_key_values: KeyValues | None = None,
        output_hidden_states: bool | None = None,
        output_attentions: bool | None = None,
        return_dict: bool | None = True,
        labels: torch.Tensor | None = None,
    ) -> TokenClassifierOutput | tuple:
        r"""Tag every token; arguments as [`ErnieMModel.forward`][erniem.ErnieMModel.forward].

        Args:
            labels: (batch, seq) class ids; -100 marks tokens left out of the loss.
        """
        return_dict = self.config.return_dict if return_dict is None else return_dict
        outputs = self.ernie_m(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            head_mask=head_mask,
            inputs_embeds=inputs_embeds,
            past_key_values=past_key_values,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        logits = _task_layer(self.classifier, self.dropout(outputs.last_hidden_state))
        loss = None
        if labels is not None:
            loss = CrossEntropyLoss()(logits.view(-1, self.num_labels), labels.view(-1))
        output = TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return output if return_dict else output.to_tuple()


class ErnieMForQuestionAnswering(ErnieMPreTrainedModel):
    """ERNIE-M with a linear layer giving span start and end logits, for extractive question answering."""

    accepts_loss_kwargs = False

    def __init__(self, config: ErnieMConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.ernie_m = ErnieMModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = True,
    ) -> QuestionAnsweringModelOutput | tuple:
        r"""Score answer spans; arguments as [`ErnieMModel.forward`][erniem.ErnieMModel.forward].

        Args:
            start_positions: (batch,) token index of the answer's first token.
                Indices outside the sequence are clamped to `seq` and left out of the loss.
            end_positions: (batch,) token index of the answer's last token, clamped likewise.
        """
        return_dict = self.config.return_dict if return_dict is None else return_dict
        outputs = self.ernie_m(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            head_mask=head_mask,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        logits = _task_layer(self.qa_outputs, outputs.last_hidden_state)  # (batch, seq, num_labels)
        start_logits, end_logits = (part.squeeze(-1).contiguous() for part in logits.split(1, dim=-1))
        loss = None
        if start_positions is not None and end_positions is not None:
            ignored_index = start_logits.size(1)
            start_positions = start_positions.reshape(-1).clamp(0, ignored_index)
            end_positions = end_positions.reshape(-1).clamp(0, ignored_index)
            loss_fct = CrossEntropyLoss(ignore_index=ignored_index)
            loss = (loss_fct(start_logits, start_positions) + loss_fct(end_logits, end_positions)) / 2
        output = QuestionAnsweringModelOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict else output.to_tuple()


class ErnieMForInformationExtraction(ErnieMPreTrainedModel):
    """ERNIE-M with two linear layers scoring every token as a span start and a span end: the UIE-M model.

    PaddleNLP's `UIEM` returns `sigmoid` of these logits as `start_prob` and `end_prob`.
    """

    accepts_loss_kwargs = False

    def __init__(self, config: ErnieMConfig):
        super().__init__(config)
        self.ernie_m = ErnieMModel(config)
        self.linear_start = nn.Linear(config.hidden_size, 1)
        self.linear_end = nn.Linear(config.hidden_size, 1)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = True,
    ) -> InformationExtractionOutput | tuple:
        r"""Score every token as a span start and end; arguments as [`ErnieMModel.forward`][erniem.ErnieMModel.forward].

        Args:
            start_positions: (batch, seq) 0/1 labels, 1 where a gold span starts.
                The loss is the mean of the two binary cross-entropies over all positions, as UIE trains.
            end_positions: (batch, seq) 0/1 labels, 1 where a gold span ends.
        """
        return_dict = self.config.return_dict if return_dict is None else return_dict
        outputs = self.ernie_m(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            head_mask=head_mask,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
        )
        sequence_output = outputs.last_hidden_state
        start_logits = _task_layer(self.linear_start, sequence_output).squeeze(-1)  # (batch, seq)
        end_logits = _task_layer(self.linear_end, sequence_output).squeeze(-1)
        loss = None
        if (start_positions is None) != (end_positions is None):
            raise ValueError("Pass both `start_positions` and `end_positions`, or neither.")
        if start_positions is not None:
            for name, labels in (("start_positions", start_positions), ("end_positions", end_positions)):
                if labels.shape != start_logits.shape:
                    raise ValueError(
                        f"{name} must be (batch, seq) = {tuple(start_logits.shape)} of 0/1 labels, "
                        f"got {tuple(labels.shape)}."
                    )
            loss_fct = BCEWithLogitsLoss()
            loss = (
                loss_fct(start_logits, start_positions.to(start_logits.dtype))
                + loss_fct(end_logits, end_positions.to(end_logits.dtype))
            ) / 2
        output = InformationExtractionOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict else output.to_tuple()


class ErnieMLMHead(nn.Module):
    """Token scores: `decoder(layer_norm(gelu(dense(h)))) + bias`, the decoder tied to the word embeddings (XLM-R's
    head, whose conventions ERNIE-M keeps)."""

    def __init__(self, config: ErnieMConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = ACT2FN["gelu"]
        self.layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))  # tied to decoder.bias

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """(..., hidden) -> (..., vocab) logits."""
        return self.decoder(self.layer_norm(self.activation(self.dense(hidden_states))))


class _MaskedLanguageModel(ErnieMPreTrainedModel):
    """The encoder (no pooler) and the LM head, shared by the two pretraining heads."""

    _tied_weights_keys = {
        "lm_head.decoder.weight": "ernie_m.embeddings.word_embeddings.weight",
        "lm_head.decoder.bias": "lm_head.bias",
    }
    # The released checkpoints have a pooler, which predicting tokens does not use.
    _keys_to_ignore_on_load_unexpected = [r"pooler"]
    accepts_loss_kwargs = False

    def __init__(self, config: ErnieMConfig):
        super().__init__(config)
        self.ernie_m = ErnieMModel(config, add_pooling_layer=False)
        self.lm_head = ErnieMLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head.decoder

    def set_output_embeddings(self, new_embeddings: nn.Linear) -> None:
        self.lm_head.decoder = new_embeddings
        self.lm_head.bias = new_embeddings.bias

    def _encode(self, input_ids, attention_mask, position_ids, language_ids, **kwargs) -> ErnieMModelOutput:
        return self.ernie_m(
            input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            language_ids=language_ids,
            return_dict=True,
            **kwargs,
        )


class ErnieMForMaskedLM(_MaskedLanguageModel):
    """ERNIE-M with an LM head scoring every position over the vocabulary: masked-token prediction, `fill-mask`."""

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = True,
        language_ids: torch.Tensor | None = None,
    ) -> MaskedLMOutput | tuple:
        r"""Score every position over the vocabulary; arguments as [`ErnieMModel.forward`][erniem.ErnieMModel.forward].

        Args:
            labels: (batch, seq) token ids to predict; -100 marks positions left out of the loss.
        """
        return_dict = self.config.return_dict if return_dict is None else return_dict
        outputs = self._encode(
            input_ids,
            attention_mask,
            position_ids,
            language_ids,
            head_mask=head_mask,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        logits = self.lm_head(outputs.last_hidden_state)  # (batch, seq, vocab)
        loss = None
        if labels is not None:
            loss = CrossEntropyLoss()(logits.view(-1, logits.shape[-1]), labels.reshape(-1))
        output = MaskedLMOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return output if return_dict else output.to_tuple()


PseudoTokens = Literal["greedy", "sample"]


@dataclass
class ErnieMForPreTrainingOutput(ModelOutput):
    """Output of [`ErnieMForPreTraining`][erniem.ErnieMForPreTraining].

    Args:
        loss: cross-entropy of the labelled positions, when labels are given.
        prediction_logits: with labels, (labelled positions, vocab) logits of the positions `labels` marks, in
            row-major order (the other positions' scores are not computed); without, (batch, seq, vocab).
        input_ids: (batch, seq) the ids the encoder read: for back-translation (BTMLM), with the pseudo tokens
            of step 1 in place of the placeholders; otherwise `input_ids` as given.
        hidden_states: as in [`ErnieMModelOutput`][erniem.ErnieMModelOutput], if asked for.
        attentions: as in [`ErnieMModelOutput`][erniem.ErnieMModelOutput], if asked for.
    """

    loss: torch.FloatTensor | None = None
    prediction_logits: torch.FloatTensor | None = None
    input_ids: torch.LongTensor | None = None
    hidden_states: tuple[torch.FloatTensor, ...] | None = None
    attentions: tuple[torch.FloatTensor, ...] | None = None


class ErnieMForPreTraining(_MaskedLanguageModel):
    """ERNIE-M for its pretraining objectives (`erniem.pretraining`): masked-token prediction under each objective's
    attention mask (MMLM, TLM, CAMLM), and back-translation masked LM (BTMLM) in its two steps.

    BTMLM: given `placeholder_mask`, step 1 runs without gradient or dropout on `pseudo_input_ids` (the sentence
    followed by `[MASK]` placeholders) under `pseudo_attention_mask`, and picks a pseudo token at each
    placeholder; step 2 puts those tokens in place of the placeholders of `input_ids` (the sentence with some
    tokens masked) and predicts `labels` as usual. The collators of `erniem.pretraining` build both inputs.
    """

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        language_ids: torch.Tensor | None = None,
        pseudo_input_ids: torch.Tensor | None = None,
        pseudo_attention_mask: torch.Tensor | None = None,
        pseudo_language_ids: torch.Tensor | None = None,
        placeholder_mask: torch.Tensor | None = None,
        excluded_token_ids: torch.Tensor | None = None,
        pseudo_tokens: PseudoTokens = "greedy",
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = True,
    ) -> ErnieMForPreTrainingOutput | tuple:
        r"""Predict the labelled tokens; arguments as [`ErnieMModel.forward`][erniem.ErnieMModel.forward].

        Args:
            labels: (batch, seq) token ids to predict; -100 marks positions left out of the loss.
            pseudo_input_ids: (batch, seq) BTMLM step 1's input: the unmasked sentence, then placeholders.
            pseudo_attention_mask: step 1's mask, (batch, seq, seq) or 4-D; default `attention_mask`.
            pseudo_language_ids: step 1's language ids; default `language_ids` (where the placeholders carry the
                target language).
            placeholder_mask: (batch, seq) True at the placeholders; its presence asks for BTMLM.
            excluded_token_ids: ids never chosen as pseudo tokens (the special tokens).
            pseudo_tokens: `"greedy"` takes each placeholder's best token, `"sample"` draws one from its softmax.
        """
        return_dict = self.config.return_dict if return_dict is None else return_dict
        if placeholder_mask is not None:
            if pseudo_input_ids is None:
                raise ValueError("BTMLM needs pseudo_input_ids with placeholder_mask.")
            mask = attention_mask if pseudo_attention_mask is None else pseudo_attention_mask
            languages = language_ids if pseudo_language_ids is None else pseudo_language_ids
            pseudo = self.predict_pseudo_tokens(
                pseudo_input_ids, mask, position_ids, languages, placeholder_mask, excluded_token_ids, pseudo_tokens
            )
            input_ids = input_ids.masked_scatter(placeholder_mask, pseudo)  # a new tensor, as every step here
        outputs = self._encode(
            input_ids,
            attention_mask,
            position_ids,
            language_ids,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        sequence_output = outputs.last_hidden_state
        loss = None
        if labels is not None:
            labelled = labels != -100
            logits = self.lm_head(sequence_output[labelled])  # (labelled positions, vocab)
            loss = CrossEntropyLoss()(logits, labels[labelled]) if logits.shape[0] else logits.sum() * 0.0
        else:
            logits = self.lm_head(sequence_output)
        output = ErnieMForPreTrainingOutput(
            loss=loss,
            prediction_logits=logits,
            input_ids=input_ids,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return output if return_dict else output.to_tuple()

    @torch.no_grad()
    def predict_pseudo_tokens(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None,
        position_ids: torch.Tensor | None,
        language_ids: torch.Tensor | None,
        placeholder_mask: torch.Tensor,
        excluded_token_ids: torch.Tensor | None = None,
        mode: PseudoTokens = "greedy",
    ) -> torch.Tensor:
        """BTMLM step 1, without gradient and without dropout (as inference runs, whatever the model's mode): one
        token per placeholder (in row-major order), the most likely one (`"greedy"`) or one drawn from the softmax
        (`"sample"`), never one of `excluded_token_ids`."""
        if mode not in get_args(PseudoTokens):
            raise ValueError(f"pseudo_tokens must be one of {get_args(PseudoTokens)}, got {mode!r}.")
        training = self.training
        self.eval()
        try:
            outputs = self._encode(input_ids, attention_mask, position_ids, language_ids)
            logits = self.lm_head(outputs.last_hidden_state[placeholder_mask]).float()  # (placeholders, vocab)
        finally:
            self.train(training)
        if excluded_token_ids is not None:
            logits[:, excluded_token_ids] = float("-inf")
        if mode == "sample":
            return torch.multinomial(logits.softmax(-1), 1).squeeze(-1)
        return logits.argmax(-1)


__all__ = [
    "ErnieMForInformationExtraction",
    "ErnieMForMaskedLM",
    "ErnieMForPreTraining",
    "ErnieMForPreTrainingOutput",
    "ErnieMLMHead",
    "ErnieMForMultipleChoice",
    "ErnieMForQuestionAnswering",
    "ErnieMForSequenceClassification",
    "ErnieMForTokenClassification",
    "ErnieMModel",
    "ErnieMModelOutput",
    "ErnieMPreTrainedModel",
    "InformationExtractionOutput",
]
