"""ERNIE-M's pretraining objectives: masks, collators, data and the training loop.

- `masks`: the per-example attention masks of MMLM/TLM (full), CAMLM and BTMLM step 1, as boolean matrices.
- `corruption`: which tokens are masked, and the 80/10/10 rule.
- `collators`: one collator per objective, building ids, masks, positions, languages and labels.
- `data`: corpora streamed from files, sharded across processes, mixed into one batch stream.
- `trainer`: the loop on transformers' `Trainer`, and `pretrain()`, which `erniem pretrain` calls.
- `parallel_corpus`: translation pairs from gettext catalogues (Django's), for TLM and CAMLM.
"""

from ..lazy_exports import attach

_EXPORTS = {
    "collators": ["BTMLMCollator", "CAMLMCollator", "MMLMCollator", "MaskingOptions", "TLMCollator"],
    "data": ["MixedBatches"],
    "masks": ["btmlm_mask", "camlm_mask", "full_mask"],
    "trainer": ["OBJECTIVES", "PretrainingOptions", "PretrainingTrainer", "pretrain"],
}
__getattr__, __dir__ = attach(__name__, _EXPORTS)
__all__ = sorted(name for names in _EXPORTS.values() for name in names)
