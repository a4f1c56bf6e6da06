"""Run in the PaddleNLP 2.8.1 env: print, as JSON, the download resources PaddleNLP's own source lists for the
published ERNIE-M and UIE-M names (file name -> [url, md5 or null]) and the encoders' init configuration.

Usage: python paddle_registry.py OUT.json
"""

import json
import sys

from paddlenlp.taskflow.information_extraction import UIETask
from paddlenlp.transformers.ernie_m.configuration import (
    ERNIE_M_PRETRAINED_INIT_CONFIGURATION,
    ERNIE_M_PRETRAINED_RESOURCE_FILES_MAP,
)
from paddlenlp.transformers.ernie_m.modeling import ErnieMPretrainedModel
from paddlenlp.transformers.ernie_m.tokenizer import ErnieMTokenizer

models = {}
for name in ("uie-m-base", "uie-m-large"):
    names = dict(UIETask.resource_files_names, sentencepiece_model_file="sentencepiece.bpe.model")
    models[name] = {"files": {names[key]: list(value) for key, value in UIETask.resource_files_urls[name].items()}}
for name in ("ernie-m-base", "ernie-m-large"):
    files = {
        ErnieMPretrainedModel.resource_files_names["model_state"]: [
            ERNIE_M_PRETRAINED_RESOURCE_FILES_MAP["model_state"][name],
            None,
        ]
    }
    for key, urls in ErnieMTokenizer.pretrained_resource_files_map.items():
        files[ErnieMTokenizer.resource_files_names[key]] = [urls[name], None]
    models[name] = {
        "files": files,
        "config": ERNIE_M_PRETRAINED_INIT_CONFIGURATION[name],
        "tokenizer_config": ErnieMTokenizer.pretrained_init_configuration[name],
    }
with open(sys.argv[1], "w", encoding="utf-8") as file:
    json.dump(models, file, indent=1)
