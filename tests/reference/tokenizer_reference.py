"""Record a reference ErnieMTokenizer's ids (and PaddleNLP's offsets) on the test corpus.

Runs inside a reference virtualenv, never in erniem's:

    .venv-ref/bin/python tests/reference/tokenizer_reference.py transformers VOCAB_DIR CORPUS OUT.json
    .venv-paddle/bin/python tests/reference/tokenizer_reference.py paddlenlp VOCAB_DIR CORPUS OUT.json

VOCAB_DIR holds sentencepiece.bpe.model and vocab.txt. The cases are built from the corpus the same way as
`tests/test_tokenizer_parity.py` reads them back (see `cases`): every line alone, with lowercasing off and on;
every third line paired with the next one; every third line (from the second) split on spaces into words.
Lines where the reference raises are recorded with the error instead of ids.
"""

import json
import sys
import time
from pathlib import Path

# transformers' ErnieM tokenizer integration test sentences.
INTEGRATION = [
    "Transformers (formerly known as pytorch-transformers and pytorch-pretrained-bert) provides general-purpose "
    "architectures (BERT, GPT-2, RoBERTa, XLM, DistilBert, XLNet...) for Natural Language Understanding (NLU) and "
    "Natural Language Generation (NLG) with over32+ pretrained models in100+ languages and deep interoperability "
    "between Jax, PyTorch and TensorFlow.",
    "BERT is designed to pre-train deep bidirectional representations from unlabeled text by jointly conditioning "
    "on both left and right context in all layers.",
    "The quick brown fox jumps over the lazy dog.",
]


def corpus_lines(path):
    rows = Path(path).read_text(encoding="utf-8").split("\n")[1:]
    return [row.split("\t", 2)[2] for row in rows if row]


def cases(lines):
    """name -> list of (text, pair, is_split_into_words) inputs."""
    return {
        "single": [(line, None, False) for line in lines],
        "pair": [(lines[i], lines[(i + 1) % len(lines)], False) for i in range(0, len(lines), 3)],
        "words": [(lines[i].split(" "), None, True) for i in range(1, len(lines), 3)],
    }


def load(backend, vocab_dir, lower):
    model, vocab = str(Path(vocab_dir) / "sentencepiece.bpe.model"), str(Path(vocab_dir) / "vocab.txt")
    if backend == "transformers":
        from transformers import ErnieMTokenizer

        return ErnieMTokenizer(model, vocab, do_lower_case=lower)
    from paddlenlp.transformers import ErnieMTokenizer

    return ErnieMTokenizer(vocab, model, do_lower_case=lower)


def encode(tokenizer, backend, text, pair, words, offsets=False):
    kwargs = {"is_split_into_words": True} if words else {}
    if offsets:
        kwargs["return_offsets_mapping"] = True
    if backend == "paddlenlp":
        kwargs["return_attention_mask"] = False
    try:
        output = tokenizer(text, pair, **kwargs) if pair is not None else tokenizer(text, **kwargs)
    except Exception as error:  # recorded, not hidden: the test reports every such line
        return {"error": f"{type(error).__name__}: {error}"}
    result = {"ids": list(output["input_ids"])}
    if offsets:
        result["offsets"] = [list(span) for span in output["offset_mapping"]]
    return result


def main(backend, vocab_dir, corpus, out):
    lines = corpus_lines(corpus)
    record = {"backend": backend, "versions": {}, "results": {}, "seconds": {}}
    if backend == "transformers":
        import transformers

        record["versions"]["transformers"] = transformers.__version__
    else:
        import paddlenlp

        record["versions"]["paddlenlp"] = paddlenlp.__version__
    for lower in (False, True):
        tokenizer = load(backend, vocab_dir, lower)
        for name, inputs in cases(lines).items():
            key = f"{name}/lower={lower}"
            start = time.perf_counter()
            record["results"][key] = [encode(tokenizer, backend, *item) for item in inputs]
            record["seconds"][key] = time.perf_counter() - start
    tokenizer = load(backend, vocab_dir, False)
    record["integration"] = [
        {"ids": list(ids), "decoded": tokenizer.decode(ids)} for ids in (tokenizer(s)["input_ids"] for s in INTEGRATION)
    ]
    if backend == "paddlenlp":
        record["results"]["offsets"] = [encode(tokenizer, backend, line, None, False, True) for line in lines]
    Path(out).write_text(json.dumps(record, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:5])
