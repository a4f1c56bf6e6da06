#!/usr/bin/env bash
# Set everything up and run the whole test suite, with the live parity tests against transformers 4.39.3 and
# PaddleNLP 2.8.1.
# Extra arguments go to pytest. ERNIEM_VENV / ERNIEM_TRANSFORMERS: see scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build_reference_env.sh
export ERNIEM_REFERENCE_PYTHON="$PWD/.venv-ref/bin/python" ERNIEM_PADDLE_PYTHON="$PWD/.venv-paddle/bin/python"
export ERNIEM_REQUIRE_REFERENCE=1
# torch.compile's caches go in a folder removed afterwards, unless the caller chose one.
if [[ -z "${TORCHINDUCTOR_CACHE_DIR:-}" ]]; then
    TORCHINDUCTOR_CACHE_DIR="$(mktemp -d -t erniem-tests-torchinductor-XXXXXX)"
    export TORCHINDUCTOR_CACHE_DIR
    trap 'rm -rf "$TORCHINDUCTOR_CACHE_DIR"' EXIT
fi
"${ERNIEM_VENV:-.venv}/bin/python" -m pytest "$@"
