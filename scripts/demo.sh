#!/usr/bin/env bash
# Set up erniem and run the main demonstration, offline: generate a multilingual extraction dataset, fine-tune a
# small ERNIE-M (real vocabulary) on it with `erniem uie train`, extract from held-out texts, print the F1.
# Extra arguments go to examples/uie_demo.py (--workdir, --records, --epochs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
"${ERNIEM_VENV:-.venv}/bin/python" examples/uie_demo.py "$@"
