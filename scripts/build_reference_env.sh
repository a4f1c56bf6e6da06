#!/usr/bin/env bash
# Create (or reuse) the transformers 4.39.3 reference virtualenv that the parity tests and benchmarks run.
#   ERNIEM_REFERENCE_VENV  where it goes (default .venv-ref)
#   ERNIEM_ORACLES         folder holding transformers-4.39-requirements.txt (default ../shared/oracles)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${ERNIEM_REFERENCE_VENV:-.venv-ref}"
requirements="${ERNIEM_ORACLES:-../shared/oracles}/transformers-4.39-requirements.txt"
if [ ! -f "$requirements" ]; then
    echo "reference requirements not found: $requirements (set ERNIEM_ORACLES)" >&2
    exit 1
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -c "import transformers; assert transformers.__version__ == '4.39.3', transformers.__version__; print('reference: transformers', transformers.__version__)"
