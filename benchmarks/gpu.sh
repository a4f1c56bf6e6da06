#!/usr/bin/env bash
# The benchmark suite on a GPU machine, in about 5 minutes: erniem in fp32, bf16 and fp16 with eager and sdpa
# attention (and flash-attn 2 where the flash_attn package is installed), base and large sizes, the same shapes
# and the same table as on the CPU (the reference, CPU-only here, is left out).
#   bash benchmarks/gpu.sh [OUTPUT_DIR]      (default artifacts/benchmarks-gpu)
# Needs torch with CUDA, transformers >= 5, sentencepiece, tokenizers and safetensors; erniem runs from src/.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 benchmarks/run.py --device cuda --rounds 3 --output "${1:-artifacts/benchmarks-gpu}"
