#!/usr/bin/env bash
# Set everything up and run the whole test suite, the live parity tests against transformers 4.39.3 included.
# Extra arguments go to pytest. ERNIEM_VENV / ERNIEM_TRANSFORMERS: see scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build_reference_env.sh
export ERNIEM_REFERENCE_PYTHON="$PWD/${ERNIEM_REFERENCE_VENV:-.venv-ref}/bin/python"
export ERNIEM_REQUIRE_REFERENCE=1
"${ERNIEM_VENV:-.venv}/bin/python" -m pytest "$@"
