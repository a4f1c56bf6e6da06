"""Extraction and task inference over large corpora on Ray Data (the `ray` extra).

    import ray, erniem.distributed as ed
    rows = ray.data.read_json("corpus/", lines=True)
    found = ed.extract_dataset(rows, "uie-m-base", ["person", "organization"], actors=4, cpus_per_actor=2)
    found.write_json("out/")

Each actor loads the model once, in its constructor (`UIEPipeline.from_pretrained`, or the task's head), with
every runtime option (dtype, ONNX Runtime, int8), and `map_batches` runs on a pool of them. The answer of a row is
a JSON string in `result` and its problem, if any, in `error`; every input column is kept (`id` among them).
When an actor dies, Ray restarts it and runs its batches again (`restarts` times); a batch's rows are written
only once it has finished, so each input row comes out exactly once.
"""

from __future__ import annotations

import warnings

from .predictor import TASK_FIELDS, BadRowError, Predictor

RESTARTS = 3  # times Ray restarts a dead actor, and retries a batch that was on it


def extract_dataset(dataset, model, schema, *, schema_lang: str = "zh", text_column: str = "text", **settings):
    """`dataset` with `result` (Taskflow's results as JSON) and `error` columns, from the UIE-M `model` (a
    directory every node can read, or a published name). `settings`: see `predict_dataset`."""
    return _mapped(dataset, "extract", model, settings, schema=schema, schema_lang=schema_lang,
                   text_column=text_column)  # fmt: skip


def predict_dataset(
    dataset,
    task: str,
    model,
    *,
    actors: int = 1,
    cpus_per_actor: float = 1,
    gpus_per_actor: float = 0,
    batch_size: int = 64,
    on_error: str = "skip",
    restarts: int = RESTARTS,
    device=None,
    dtype=None,
    backend: str = "torch",
    quantize: str | None = None,
    compile: bool = False,
    **options,
):
    """`dataset` with `result` and `error` columns, from the task model `model` ("classify", "ner", "qa",
    "choice"; the row's columns as `erniem predict` lines name them).

    Args:
        actors: how many actors the pool holds (leave a CPU free for reading and writing).
        cpus_per_actor: CPUs each actor of the pool gets.
        gpus_per_actor: GPUs each actor of the pool gets.
        batch_size: rows per call of an actor (`model_batch_size`: rows per forward pass, default 16).
        on_error: "skip" (the row gets `error`) or "stop" (the job fails, naming the row).
        restarts: Ray's `max_restarts` for a dead actor and `max_task_retries` for its batches.
        device: a runtime option of `erniem.backends.load_model`.
        dtype: a runtime option of `erniem.backends.load_model`.
        backend: a runtime option of `erniem.backends.load_model`.
        quantize: a runtime option of `erniem.backends.load_model`.
        compile: a runtime option of `erniem.backends.load_model`.
        options: the pipeline's or task's settings (max_length, stride, top_k, ...).
    """
    settings = dict(actors=actors, cpus_per_actor=cpus_per_actor, gpus_per_actor=gpus_per_actor,
                    batch_size=batch_size, on_error=on_error, restarts=restarts, device=device, dtype=dtype,
                    backend=backend, quantize=quantize, compile=compile, **options)  # fmt: skip
    return _mapped(dataset, task, model, settings)


def _for_task(task: str):
    def run(dataset, model, **settings):
        return predict_dataset(dataset, task, model, **settings)

    run.__name__ = run.__qualname__ = f"{task}_dataset"
    run.__doc__ = f"`predict_dataset(dataset, {task!r}, model, **settings)`."
    return run


classify_dataset, ner_dataset, qa_dataset, choice_dataset = map(_for_task, TASK_FIELDS)


def _mapped(dataset, task: str, model, settings: dict, **extraction):
    import ray.data

    if task != "extract" and task not in TASK_FIELDS:
        raise ValueError(f"unknown task {task!r}; tasks: extract, {', '.join(TASK_FIELDS)}")
    settings = dict(settings)
    pool = {name: settings.pop(name, default) for name, default in
            (("actors", 1), ("cpus_per_actor", 1), ("gpus_per_actor", 0), ("batch_size", 64), ("restarts", RESTARTS),
             ("on_error", "skip"))}  # fmt: skip
    if pool["on_error"] not in ("skip", "stop"):
        raise ValueError(f"on_error must be 'skip' or 'stop', got {pool['on_error']!r}")
    runtime = {name: settings.pop(name) for name in ("device", "dtype", "backend", "quantize", "compile")
               if name in settings}  # fmt: skip
    if "model_batch_size" in settings:  # rows per forward pass; `batch_size` is Ray's, rows per actor call
        settings["batch_size"] = settings.pop("model_batch_size")
    if isinstance(model, str | bytes) or hasattr(model, "__fspath__"):
        from ..catalog import resolve_model

        model = str(resolve_model(model))  # a published name is downloaded here, once, not by every actor
    with warnings.catch_warnings():  # Ray 2.60 deprecates these keywords, and offers no named form for them yet
        warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
        return dataset.map_batches(
            Predictor,
            fn_constructor_kwargs=dict(
                task=task, model=model, on_error=pool["on_error"], runtime=runtime, options=settings, **extraction
            ),  # fmt: skip
            compute=ray.data.ActorPoolStrategy(size=pool["actors"]),
            num_cpus=pool["cpus_per_actor"],
            num_gpus=pool["gpus_per_actor"] or None,
            batch_size=pool["batch_size"],
            batch_format="pyarrow",
            udf_modifying_row_count=False,
            max_restarts=pool["restarts"],
            max_task_retries=pool["restarts"],
        )


__all__ = [
    "BadRowError",
    "Predictor",
    "choice_dataset",
    "classify_dataset",
    "extract_dataset",
    "ner_dataset",
    "predict_dataset",
    "qa_dataset",
]
