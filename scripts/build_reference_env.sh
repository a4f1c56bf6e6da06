#!/usr/bin/env bash
# Create (or reuse) the reference virtualenvs that the parity tests and benchmarks run:
#   .venv-ref     transformers 4.39.3 (model and tokenizer)
#   .venv-paddle  PaddleNLP 2.8.1 on paddlepaddle 2.6.2 (tokenizer)
#   ERNIEM_ORACLES  folder holding the pinned requirements (default ../shared/oracles)
set -euo pipefail
cd "$(dirname "$0")/.."
oracles="${ERNIEM_ORACLES:-../shared/oracles}"
build() {  # build VENV REQUIREMENTS CHECK
    local venv="$1" requirements="$oracles/$2"
    if [ ! -f "$requirements" ]; then
        echo "reference requirements not found: $requirements (set ERNIEM_ORACLES)" >&2
        exit 1
    fi
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
    "$venv/bin/python" -c "$3"
}
build .venv-ref transformers-4.39-requirements.txt \
    "import transformers; assert transformers.__version__ == '4.39.3'; print('reference: transformers', transformers.__version__)"
build .venv-paddle paddle-requirements.txt \
    "import paddlenlp; assert paddlenlp.__version__.startswith('2.8.1'); print('reference: paddlenlp', paddlenlp.__version__)"
