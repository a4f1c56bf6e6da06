"""Universal Information Extraction (UIE-M) with ERNIE-M: schemas, prompts, span decoding, the pipeline."""

from .pipeline import Extraction, UIEPipeline
from .schema import SchemaNode, parse_schema

__all__ = ["Extraction", "SchemaNode", "UIEPipeline", "parse_schema"]
