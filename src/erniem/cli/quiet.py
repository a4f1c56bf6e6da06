"""What a command prints besides its own output: no third-party warnings unless `--verbose`.

torch, torchao and transformers report through `logging` (torchao's "Failed to load ... .so" when its kernels
do not match the installed torch, torch's deprecation notices) and `warnings`; torch's C++ code writes its
own lines, at the level TORCH_CPP_LOG_LEVEL gives when torch loads. Errors (logging's ERROR and up, and
exceptions), erniem's own warnings and the progress bars are kept. Everything is put back when the command
ends, so a program that calls `erniem.cli.main` keeps its own settings.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet(verbose: bool = False) -> Iterator[None]:
    """Run the body without third-party warnings; with `verbose`, leave everything as the libraries set it."""
    if verbose:
        yield
        return
    disabled = logging.root.manager.disable
    cpp_level = os.environ.get("TORCH_CPP_LOG_LEVEL")
    with warnings.catch_warnings():
        if not sys.warnoptions:  # -W or PYTHONWARNINGS given: the user's filters stand
            warnings.simplefilter("ignore")
            warnings.filterwarnings("default", module=r"erniem(\.|$)")
        logging.disable(logging.WARNING)
        os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
        try:
            yield
        finally:
            logging.disable(disabled)
            if cpp_level is None:
                os.environ.pop("TORCH_CPP_LOG_LEVEL", None)
