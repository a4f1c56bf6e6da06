"""Build tiny ERNIE-M and UIE-M checkpoints with PaddleNLP 2.8.1 and record their outputs.

Runs inside the PaddleNLP virtualenv (see scripts/build_reference_env.sh), never in erniem's:

    .venv-paddle/bin/python tests/reference/paddle_reference.py VOCAB_DIR OUT_DIR

Writes OUT_DIR/ernie_m/ and OUT_DIR/uie_m/ (PaddleNLP's `save_pretrained`: model_state.pdparams, config.json,
and the tokenizer's files), OUT_DIR/outputs.npz (every input and output array) and OUT_DIR/manifest.json (the
cases and the versions that produced them). The config says intermediate_size 37 while PaddleNLP builds the
feed-forward layer 4 × hidden wide, as real PaddleNLP checkpoints are.
"""

import json
import sys
from pathlib import Path

import numpy as np
import paddle
import paddlenlp
from paddlenlp.transformers import UIEM, ErnieMConfig, ErnieMModel, ErnieMTokenizer

VOCAB, HIDDEN, LAYERS, HEADS = 250002, 32, 2, 4
MAX_SEQ_LEN = 24  # Taskflow pads every batch to max_seq_len


def taskflow_batch(tokenizer, prompts, texts):
    """Encode (prompt, text) pairs as Taskflow does: [PAD] up to max_seq_len, position ids 0 on padding."""
    ids = np.full((len(prompts), MAX_SEQ_LEN), tokenizer.pad_token_id, dtype="int64")
    positions = np.zeros_like(ids)
    for row, (prompt, text) in enumerate(zip(prompts, texts, strict=True)):
        encoded = tokenizer(prompt, text, max_seq_len=MAX_SEQ_LEN, truncation_strategy="only_second")["input_ids"]
        ids[row, : len(encoded)] = encoded
        positions[row, : len(encoded)] = np.arange(len(encoded))
    return ids, positions


def main(vocab_dir: Path, out_dir: Path) -> None:
    paddle.seed(0)
    rng = np.random.default_rng(0)
    tokenizer = ErnieMTokenizer(str(vocab_dir / "vocab.txt"), str(vocab_dir / "sentencepiece.bpe.model"))
    config = ErnieMConfig(
        vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS, intermediate_size=37
    )
    models = {"ernie_m": ErnieMModel(config), "uie_m": UIEM(config)}
    for name, model in models.items():
        model.eval()
        for parameter in model.parameters():  # non-zero biases and LayerNorms: every parameter matters
            noise = rng.normal(0, 0.05, parameter.shape).astype("float32")
            parameter.set_value(parameter.numpy() + noise)
        model.save_pretrained(str(out_dir / name))
        tokenizer.save_pretrained(str(out_dir / name))

    plain = np.array(tokenizer(["ERNIE-M reads 96 languages.", "北京是中国的首都"], padding=True)["input_ids"])
    ids, positions = taskflow_batch(tokenizer, ["人物", "时间"], ["2024年张三在北京工作。", "昨天下午三点开会"])
    cases = {
        "plain": {"input_ids": plain},  # PaddleNLP's default mask: keys equal to 0 ([CLS]) hidden
        "mask_2d": {"input_ids": plain, "attention_mask": (plain != 1).astype("int64")},  # [PAD] hidden
        "taskflow": {"input_ids": ids, "position_ids": positions},  # [PAD] attended, as Taskflow runs it
        "taskflow_unpadded": {"input_ids": ids[:, :14], "position_ids": positions[:, :14]},
    }
    arrays, manifest = {}, {"versions": {"paddlenlp": paddlenlp.__version__, "paddle": paddle.__version__}, "cases": {}}
    for case, inputs in cases.items():
        tensors = {key: paddle.to_tensor(value) for key, value in inputs.items()}
        with paddle.no_grad():
            sequence, pooled = models["ernie_m"](**tensors)
            start, end = models["uie_m"](**tensors)
        for key, value in inputs.items():
            arrays[f"{case}/input/{key}"] = value
        outputs = {"last_hidden_state": sequence, "pooler_output": pooled, "start_prob": start, "end_prob": end}
        for key, value in outputs.items():
            arrays[f"{case}/output/{key}"] = value.numpy()
        manifest["cases"][case] = sorted(inputs)
    np.savez(out_dir / "outputs.npz", **arrays)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
