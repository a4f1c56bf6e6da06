"""Conversion of a base-size PaddleNLP checkpoint: time and peak memory against the checkpoint's size.

    python benchmarks/convert.py [--workdir DIR]

Writes a random ernie-m-base-sized checkpoint (250,002 x 768 embeddings, 12 layers, 1.1 GB) as PaddleNLP
saves it (a protocol-4 pickle of float32 numpy arrays, Linear weights [in, out], config.json, tokenizer files)
and converts it in a fresh process, reporting wall time and that process's peak resident memory (the
interpreter and torch included) as a multiple of the checkpoint's size.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HIDDEN, LAYERS, VOCAB, POSITIONS = 768, 12, 250002, 514
CONVERT = "import sys; from erniem.convert import convert_checkpoint; convert_checkpoint(sys.argv[1], sys.argv[2])"


def paddle_parameters(rng: np.random.Generator) -> dict[str, np.ndarray]:
    def array(*shape):
        return rng.standard_normal(shape, dtype=np.float32) * 0.02

    parameters = {
        "ernie_m.embeddings.word_embeddings.weight": array(VOCAB, HIDDEN),
        "ernie_m.embeddings.position_embeddings.weight": array(POSITIONS, HIDDEN),
        "ernie_m.embeddings.layer_norm.weight": np.ones(HIDDEN, np.float32),
        "ernie_m.embeddings.layer_norm.bias": np.zeros(HIDDEN, np.float32),
        "ernie_m.pooler.dense.weight": array(HIDDEN, HIDDEN),
        "ernie_m.pooler.dense.bias": np.zeros(HIDDEN, np.float32),
    }
    for layer in range(LAYERS):
        prefix = f"ernie_m.encoder.layers.{layer}."
        for name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"):
            parameters[prefix + name + ".weight"] = array(HIDDEN, HIDDEN)
            parameters[prefix + name + ".bias"] = np.zeros(HIDDEN, np.float32)
        parameters[prefix + "linear1.weight"] = array(HIDDEN, 4 * HIDDEN)
        parameters[prefix + "linear1.bias"] = np.zeros(4 * HIDDEN, np.float32)
        parameters[prefix + "linear2.weight"] = array(4 * HIDDEN, HIDDEN)
        parameters[prefix + "linear2.bias"] = np.zeros(HIDDEN, np.float32)
        for norm in ("norm1", "norm2"):
            parameters[prefix + norm + ".weight"] = np.ones(HIDDEN, np.float32)
            parameters[prefix + norm + ".bias"] = np.zeros(HIDDEN, np.float32)
    return parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="where to write the checkpoint (default: a temporary folder)")
    parser.add_argument("--vocabulary", type=Path, help="folder with the real vocabulary (default: build/cache it)")
    arguments = parser.parse_args()
    from erniem.vocabulary import real_vocabulary

    vocabulary = arguments.vocabulary or real_vocabulary()
    workdir = Path(tempfile.mkdtemp(dir=arguments.workdir))
    try:
        source = workdir / "paddle"
        source.mkdir()
        with open(source / "model_state.pdparams", "wb") as file:
            pickle.dump(paddle_parameters(np.random.default_rng(0)), file, protocol=4)
        config = dict(
            vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=12,
            max_position_embeddings=POSITIONS, model_type="ernie_m", architectures=["ErnieMModel"],
        )  # fmt: skip
        (source / "config.json").write_text(json.dumps(config))
        for name in ("sentencepiece.bpe.model", "vocab.txt"):
            shutil.copy(vocabulary / name, source / name)
        size = (source / "model_state.pdparams").stat().st_size
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", CONVERT, str(source), str(workdir / "converted")], check=True)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kilobytes on Linux
        written = (workdir / "converted" / "model.safetensors").stat().st_size
        print(f"checkpoint      {size / 2**30:.2f} GiB (model_state.pdparams), safetensors {written / 2**30:.2f} GiB")
        print(f"conversion      {seconds:.1f} s")
        print(f"peak RSS        {peak / 2**30:.2f} GiB = {peak / size:.2f}x the checkpoint (target <= 2.5x)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
