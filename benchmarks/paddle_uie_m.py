"""The PaddleNLP side of benchmarks/uie.py: build a random base-size UIE-M, and time Taskflow on it.

Runs inside the PaddleNLP virtualenv (scripts/build_reference_env.sh), never in erniem's; benchmarks/uie.py
calls it, and it prints one JSON line last on stdout:

    .venv-paddle/bin/python benchmarks/paddle_uie_m.py build VOCAB_DIR OUT_DIR
    .venv-paddle/bin/python benchmarks/paddle_uie_m.py taskflow MODEL_DIR CASES.json [--rounds 1] [--threads N]

`build` writes PaddleNLP's `save_pretrained` files (model_state.pdparams, config.json, the tokenizer's files)
for `UIEM(ErnieMConfig(...))` at base size (hidden 768, 12 layers, 12 heads, feed-forward 3072, vocabulary
250,002, 514 positions) with PaddleNLP's random initialisation. The two head biases are set to HEAD_BIAS so
that a few percent of tokens pass position_prob 0.5, as with a trained model (at 0 about half of them do,
and every text yields dozens of spans and relation prompts).

`taskflow` runs `Taskflow("information_extraction", ...)` once per case of CASES.json (a list of {"schema",
"schema_lang", "max_seq_len", "batch_size", "texts"}): one warm-up call on 200 characters, then `--rounds` timed
calls on all texts; it reports the best time and the last results. Taskflow converts the checkpoint to a
static model under MODEL_DIR/static the first time.
"""

import argparse
import json
import time
from pathlib import Path

HEAD_BIAS = -0.6


def build(vocabulary: Path, out_dir: Path) -> dict:
    import paddle
    from paddlenlp.transformers import UIEM, ErnieMConfig, ErnieMTokenizer

    paddle.seed(0)
    config = ErnieMConfig(
        vocab_size=250002,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=514,
    )
    model = UIEM(config)
    model.eval()
    for head in (model.linear_start, model.linear_end):
        head.bias.set_value(paddle.full_like(head.bias, HEAD_BIAS))
    model.save_pretrained(str(out_dir))
    ErnieMTokenizer(str(vocabulary / "vocab.txt"), str(vocabulary / "sentencepiece.bpe.model")).save_pretrained(
        str(out_dir)
    )
    return {"parameters": sum(int(p.numel()) for p in model.parameters())}


def taskflow(model_dir: Path, cases_path: Path, rounds: int, threads: int | None) -> list[dict]:
    from paddlenlp import Taskflow

    options = {} if threads is None else {"num_threads": threads}
    outputs = []
    for case in json.loads(cases_path.read_text(encoding="utf-8")):
        extractor = Taskflow(
            "information_extraction",
            schema=case["schema"],
            task_path=str(model_dir),
            model="uie-m-base",
            schema_lang=case["schema_lang"],
            max_seq_len=case["max_seq_len"],
            batch_size=case["batch_size"],
            position_prob=0.5,
            precision="fp32",
            **options,
        )
        extractor([case["texts"][0][:200]])
        timings = []
        for _ in range(rounds):
            start = time.perf_counter()
            results = extractor(case["texts"])
            timings.append(time.perf_counter() - start)
        outputs.append({"seconds": min(timings), "results": results, "threads": extractor.task_instance._num_threads})
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    building = commands.add_parser("build")
    building.add_argument("vocabulary", type=Path)
    building.add_argument("out_dir", type=Path)
    timing = commands.add_parser("taskflow")
    timing.add_argument("model_dir", type=Path)
    timing.add_argument("cases", type=Path)
    timing.add_argument("--rounds", type=int, default=1)
    timing.add_argument("--threads", type=int, help="Taskflow's num_threads (default: its own, ceil(cores / 2))")
    arguments = parser.parse_args()
    if arguments.command == "build":
        report = build(arguments.vocabulary, arguments.out_dir)
    else:
        report = taskflow(arguments.model_dir, arguments.cases, arguments.rounds, arguments.threads)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
