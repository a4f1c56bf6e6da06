#!/usr/bin/env bash
# Set up erniem and run the demonstration: build, save, reload through AutoModel and run a small model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
"${ERNIEM_VENV:-.venv}/bin/python" examples/quickstart.py "$@"
