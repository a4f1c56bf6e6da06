"""Build the hand-made UIE-M of planted.py with PaddleNLP 2.8.1 and save it as PaddleNLP does.

Runs inside the PaddleNLP virtualenv (see scripts/build_reference_env.sh), never in erniem's:

    .venv-paddle/bin/python tests/reference/planted_paddle.py VOCAB_DIR SPEC.json OUT_DIR

SPEC.json: {"starts": [ids], "ends": [ids], "strong_starts": [ids], "strong_ends": [ids], "quiet_below": n}.
OUT_DIR gets model_state.pdparams, config.json and the tokenizer's files (`save_pretrained`).
"""

import json
import sys
from pathlib import Path

import paddle
from paddlenlp.transformers import UIEM, ErnieMConfig, ErnieMTokenizer

sys.path.insert(0, str(Path(__file__).parent))
from planted import planted_weights  # noqa: E402


def main(vocab_dir: Path, spec_path: Path, out_dir: Path) -> None:
    spec = json.loads(spec_path.read_text())
    tokenizer = ErnieMTokenizer(str(vocab_dir / "vocab.txt"), str(vocab_dir / "sentencepiece.bpe.model"))
    config = ErnieMConfig(vocab_size=250002, hidden_size=32, num_hidden_layers=2, num_attention_heads=4)
    model = UIEM(config)
    model.eval()
    weights = planted_weights(config.vocab_size, config.hidden_size, config.max_position_embeddings, **spec)
    for name, parameter in model.named_parameters():
        if ".out_proj." in name or ".linear2." in name:
            parameter.set_value(paddle.zeros_like(parameter))
    model.ernie_m.embeddings.word_embeddings.weight.set_value(weights["word"])
    model.ernie_m.embeddings.position_embeddings.weight.set_value(weights["position"])
    for head, key in ((model.linear_start, "start"), (model.linear_end, "end")):
        head.weight.set_value(weights[f"{key}_weight"][:, None])  # Paddle: (in, out)
        head.bias.set_value(weights[f"{key}_bias"])
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
