"""The names of the exportable tasks, without torch: the command line offers them (`tasks.TASKS` says what each is)."""

from typing import Literal, get_args

Task = Literal[
    "base",
    "sequence-classification",
    "token-classification",
    "question-answering",
    "multiple-choice",
    "information-extraction",
]
TASK_NAMES: tuple[Task, ...] = get_args(Task)
