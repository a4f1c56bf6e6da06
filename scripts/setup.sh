#!/usr/bin/env bash
# Create (or reuse) the project virtualenv and install erniem with its test tools.
#   ERNIEM_VENV          where the virtualenv goes (default .venv)
#   ERNIEM_TRANSFORMERS  an extra requirement, e.g. "transformers==5.0.0" to test the supported floor
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${ERNIEM_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# constraints.txt pins torch to the CPU wheel; without the pin pip fetches a multi-GB CUDA build.
"$venv/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[dev]" ${ERNIEM_TRANSFORMERS:+"$ERNIEM_TRANSFORMERS"}
"$venv/bin/python" -c "from erniem.cli.quiet import quiet
with quiet():  # the libraries' import-time warnings (torchao's, torch's) stay off, as in the erniem command
    import erniem, torch, transformers
print(f'erniem {erniem.__version__}: torch {torch.__version__}, transformers {transformers.__version__}')"
# The demo page's browser test (tests/test_serve_page.py) drives Debian's chromium.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
