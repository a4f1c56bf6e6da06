"""Run the PaddleNLP side of docs/migration/taskflow.md: the guide's code, as printed, in PaddleNLP 2.8.1.

Runs inside the PaddleNLP virtualenv (see scripts/build_reference_env.sh), never in erniem's:

    .venv-paddle/bin/python tests/reference/taskflow_migration.py RUNS.json OUT.json

RUNS.json is a list of runs `{"model_dir", "work_dir", "blocks": [{"name", "code", "record"}]}`. A run's blocks are
executed one after the other in one namespace, in `work_dir`, as a reader would run them; after each block the
names in `record` are kept. OUT.json gets, for each run, `{block name: {recorded name: value}}`.

Two stand-ins separate a run from a reader's machine, and nothing else does:
- `paddlenlp.Taskflow` reads its model from `model_dir` (as its `task_path`) unless the code gives a `task_path`,
  where Taskflow would download "uie-m-base";
- `requests.post` is answered by the `app` the run has defined (a SimpleServer: the FastAPI app that `paddlenlp
  server` starts), in process through Starlette's test client, without a socket.
"""

import json
import os
import sys
import types
import warnings
from urllib.parse import urlsplit

import paddlenlp

warnings.filterwarnings("ignore", category=DeprecationWarning)
from fastapi.testclient import TestClient  # noqa: E402

TASKFLOW = paddlenlp.Taskflow


def taskflow_reading(model_dir):
    """`Taskflow` with `task_path=model_dir` unless the caller names one."""

    def taskflow(task, **options):
        options.setdefault("task_path", model_dir)
        return TASKFLOW(task, **options)

    return taskflow


def loopback_requests(namespace):
    """A `requests` module whose `post` the run's `app` answers in process."""
    module = types.ModuleType("requests")

    def post(url, json=None, **_):
        return TestClient(namespace["app"]).post(urlsplit(url).path, json=json)

    module.post = post
    return module


def run(model_dir, work_dir, blocks):
    namespace = {"__name__": "__guide__"}
    paddlenlp.Taskflow = taskflow_reading(model_dir)
    sys.modules["requests"] = loopback_requests(namespace)
    os.chdir(work_dir)
    recorded = {}
    for block in blocks:
        exec(compile(block["code"], f"<guide: {block['name']}>", "exec"), namespace)
        recorded[block["name"]] = {name: namespace[name] for name in block["record"]}
    return recorded


def main(runs_path, out_path):
    with open(runs_path, encoding="utf-8") as file:
        runs = json.load(file)
    outputs = [run(entry["model_dir"], entry["work_dir"], entry["blocks"]) for entry in runs]
    with open(out_path, "w", encoding="utf-8") as file:
        json.dump(outputs, file, ensure_ascii=False, default=lambda value: value.item())  # numpy scalars


if __name__ == "__main__":
    main(*sys.argv[1:3])
