"""PaddleNLP's published ERNIE-M and UIE-M models by name: downloaded, checked, converted and cached on first use."""

from .cache import DamagedCacheError, OfflineError, cached_model, models_home, prepare_model, resolve_model
from .download import ChecksumError, DownloadError
from .registry import PublishedModel, UnknownModelError, published_model, published_models

__all__ = [
    "ChecksumError",
    "DamagedCacheError",
    "DownloadError",
    "OfflineError",
    "PublishedModel",
    "UnknownModelError",
    "cached_model",
    "models_home",
    "prepare_model",
    "published_model",
    "published_models",
    "resolve_model",
]
