"""Tokenize texts with transformers 4.39.3's ErnieMTokenizer: tokens, ids and the decoded ids, for the integration
test of transformers' TokenizerTesterMixin (tests/test_transformers_common.py).

Runs inside the transformers 4.39.3 virtualenv, never in erniem's:

    .venv-ref/bin/python tests/reference/integration_reference.py VOCAB_DIR TEXTS.json OUT.json

VOCAB_DIR holds sentencepiece.bpe.model and vocab.txt; TEXTS.json is a list of strings; OUT.json gets, per text,
`{"tokens", "ids", "decoded"}`: `tokenize(text)`, `encode(text, add_special_tokens=False)` and
`decode(ids, clean_up_tokenization_spaces=False)`.
"""

import json
import sys
from pathlib import Path

import transformers
from transformers import ErnieMTokenizer


def main(vocabulary: str, texts: str, out: str) -> None:
    assert transformers.__version__ == "4.39.3", transformers.__version__
    directory = Path(vocabulary)
    tokenizer = ErnieMTokenizer(str(directory / "sentencepiece.bpe.model"), str(directory / "vocab.txt"))
    results = []
    for text in json.loads(Path(texts).read_text(encoding="utf-8")):
        ids = tokenizer.encode(text, add_special_tokens=False)
        decoded = tokenizer.decode(ids, clean_up_tokenization_spaces=False)
        results.append({"tokens": tokenizer.tokenize(text), "ids": ids, "decoded": decoded})
    Path(out).write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
