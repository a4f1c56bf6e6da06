"""Checkpoint conversion: PaddleNLP ERNIE-M / UIE-M weights, and pickled transformers weights, to safetensors."""

from .api import convert_checkpoint, verify_outputs
from .pdparams import ForbiddenGlobalError, read_pdparams

__all__ = ["ForbiddenGlobalError", "convert_checkpoint", "read_pdparams", "verify_outputs"]
