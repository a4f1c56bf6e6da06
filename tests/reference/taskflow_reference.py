"""Run PaddleNLP Taskflow's information extraction on a local UIE-M checkpoint and record its results.

Runs inside the PaddleNLP virtualenv (see scripts/build_reference_env.sh):

    .venv-paddle/bin/python tests/reference/taskflow_reference.py MODEL_DIR CASES.json OUT.json

CASES.json is a list of {"schema", "schema_lang", "max_seq_len", "texts"[, "split_sentence"]}; OUT.json gets
Taskflow's result list for each case, in order. Taskflow converts the checkpoint to a static inference model
under MODEL_DIR.
"""

import json
import sys

from paddlenlp import Taskflow


def main(model_dir, cases_path, out_path):
    outputs = []
    for case in json.load(open(cases_path, encoding="utf-8")):
        extractor = Taskflow(
            "information_extraction",
            schema=case["schema"],
            task_path=model_dir,
            model="uie-m-base",
            schema_lang=case["schema_lang"],
            max_seq_len=case["max_seq_len"],
            position_prob=0.5,
            split_sentence=case.get("split_sentence", False),
            precision="fp32",
        )
        outputs.append(extractor(case["texts"]))
    with open(out_path, "w", encoding="utf-8") as file:
        json.dump(outputs, file, ensure_ascii=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
