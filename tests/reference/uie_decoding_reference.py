"""Record PaddleNLP Taskflow's UIE decoding on hand-built windows, as the fixture tests/data/uie_decoding.json.

Runs inside the PaddleNLP virtualenv (see scripts/build_reference_env.sh):

    .venv-paddle/bin/python tests/reference/uie_decoding_reference.py tests/data/uie_decoding.json

Each window is [CLS] prompt [SEP] [SEP] text [SEP] with one token per character and random start/end
probabilities (some windows biased so that spans fall in the prompt or cross into the text). The functions
are PaddleNLP's own: get_bool_ids_greater_than, get_span, get_id_and_prob, and UIETask's
_convert_ids_to_results and _auto_joiner (which use nothing of the task).
"""

import copy
import json
import sys

import numpy as np
import paddlenlp
from paddlenlp.taskflow.information_extraction import UIETask
from paddlenlp.taskflow.utils import get_id_and_prob
from paddlenlp.utils.tools import get_bool_ids_greater_than, get_span

PROMPTS = ["人物", "时间", "情感倾向[正向，负向]", "person", ""]
TEXTS = ["张三在北京工作", "2024年5月", "这个产品很好用", "Alice met Bob", "x"]


def window(rng, prompt, text, bias):
    offsets = [[0, 0]] + [[i, i + 1] for i in range(len(prompt))] + [[0, 0], [0, 0]]
    offsets += [[i, i + 1] for i in range(len(text))] + [[0, 0]]
    size = len(offsets) + 3  # padding, as Taskflow pads to max_seq_len
    offsets += [[0, 0]] * 3
    start = rng.random(size) ** bias
    end = rng.random(size) ** bias
    return {"prompt": prompt, "text": text, "offsets": offsets, "start": start.tolist(), "end": end.tolist()}


def decode(item, threshold=0.5):
    starts = get_bool_ids_greater_than([item["start"]], limit=threshold, return_prob=True)[0]
    ends = get_bool_ids_greater_than([item["end"]], limit=threshold, return_prob=True)[0]
    span_set = get_span(starts, ends, with_prob=True)
    sentence_id, prob = get_id_and_prob(span_set, copy.deepcopy(item["offsets"]))
    results = UIETask._convert_ids_to_results(None, [item], [sentence_id], [prob])[0]
    return {
        "starts": [[int(i), float(p)] for i, p in starts],
        "ends": [[int(i), float(p)] for i, p in ends],
        "pairs": [[[int(s[0]), float(s[1])], [int(e[0]), float(e[1])]] for s, e in span_set],
        "spans": [list(map(int, span)) for span in sentence_id],
        "probabilities": [float(p) for p in prob],
        "results": [{k: (float(v) if k == "probability" else v) for k, v in r.items()} for r in results],
    }


def main(out):
    rng = np.random.default_rng(0)
    windows = []
    for index in range(60):
        prompt, text = PROMPTS[index % len(PROMPTS)], TEXTS[(index // 2) % len(TEXTS)]
        item = window(rng, prompt, text, bias=0.5 + (index % 4) * 0.5)
        item["expected"] = decode(item)
        windows.append(item)
    quiet = window(rng, PROMPTS[0], TEXTS[0], bias=1.0)  # nothing above the threshold
    quiet["start"], quiet["end"] = [0.1] * len(quiet["start"]), [0.3] * len(quiet["end"])
    quiet["expected"] = decode(quiet)
    windows.append(quiet)
    joins = []
    for index in range(12):
        count = 2 + index % 3
        texts = [TEXTS[(index + i) % len(TEXTS)] for i in range(count)]
        if index % 2:  # classification: one answer (or none) per window
            results = [
                []
                if rng.random() < 0.2
                else [{"text": str(rng.choice(["正向", "负向"])), "probability": float(rng.random())}]
                for _ in texts
            ]
        else:
            results = [
                [{"text": t[:2], "start": 0, "end": 2, "probability": float(rng.random())}] if len(t) >= 2 else []
                for t in texts
            ]
        mapping = {0: list(range(count - 1)), 1: [count - 1]} if count > 2 else {0: list(range(count))}
        expected = UIETask._auto_joiner(None, copy.deepcopy(results), texts, mapping)
        joins.append(
            {
                "results": results,
                "texts": texts,
                "mapping": {str(k): v for k, v in mapping.items()},
                "expected": expected,
            }
        )
    record = {"paddlenlp": paddlenlp.__version__, "windows": windows, "joins": joins}
    with open(out, "w", encoding="utf-8") as file:
        json.dump(record, file, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main(sys.argv[1])
