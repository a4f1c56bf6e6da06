"""transformers pipelines, adjusted where the stock ones misreport ERNIE-M's (sentencepiece) tokens."""

from __future__ import annotations

from transformers.pipelines.token_classification import AggregationStrategy, TokenClassificationPipeline


class ErnieMTokenClassificationPipeline(TokenClassificationPipeline):
    """The token-classification pipeline, with each entity's `word` cut from the text at its offsets.

    The stock pipeline spells a word-aggregated entity by joining its words' strings, which drops the spaces
    between the words of a sentencepiece vocabulary ("New York" comes out "NewYork"), and spells a single
    token with its "▁". Here `word == text[start:end]` for every entity that has offsets (a fast tokenizer).
    Use it as `pipeline("token-classification", model=..., pipeline_class=ErnieMTokenClassificationPipeline)`.
    """

    def postprocess(self, all_outputs, aggregation_strategy=AggregationStrategy.NONE, ignore_labels=None):
        entities = super().postprocess(all_outputs, aggregation_strategy, ignore_labels)
        sentence = all_outputs[0]["sentence"]
        for entity in entities:
            if entity.get("start") is not None and entity.get("end") is not None:
                entity["word"] = sentence[entity["start"] : entity["end"]]
        return entities
