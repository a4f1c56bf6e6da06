"""Reading PaddlePaddle `.pdparams` files without Paddle, and without running any code a pickle names.

A `.pdparams` file is a pickle of `{parameter name: numpy array}`. Unpickling may call any importable
function the file names, so the reader admits only what numpy arrays need (numpy 1 and 2 spell the module
differently) and refuses everything else by name, before anything runs. Files saved with pickle protocol 2 or
3 split arrays over 1 GiB into `name@@.0`, `name@@.1`, ... slices listed under `UnpackBigParamInfor@@`;
they are put back together. Paddle's bookkeeping key `StructuredToParameterName@@` is dropped.
"""

from __future__ import annotations

import collections
import pickle
from pathlib import Path

import numpy as np

BIG_PARAMETERS = "UnpackBigParamInfor@@"
BOOKKEEPING = ("StructuredToParameterName@@",)


def _numpy_core():
    try:
        return np._core.multiarray  # numpy 2
    except AttributeError:  # numpy 1
        return np.core.multiarray


ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_core()._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_core()._reconstruct,
    ("numpy.core.multiarray", "scalar"): _numpy_core().scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_core().scalar,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("collections", "OrderedDict"): collections.OrderedDict,
}


class ForbiddenGlobalError(pickle.UnpicklingError):
    """The pickle names a global outside the whitelist; nothing it names was called."""


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ForbiddenGlobalError(
                f"refusing to load global {module}.{name}: a .pdparams file holds only numpy arrays"
            ) from None


def read_pdparams(path: str | Path) -> dict[str, np.ndarray]:
    """The parameters of a `.pdparams` file, big ones reassembled, bookkeeping dropped.

    Raises:
        ForbiddenGlobalError: the file names a global other than numpy's array constructors.
        ValueError: the file is truncated, corrupted or not a dict of arrays.
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            loaded = _ArraysOnlyUnpickler(file, encoding="latin1").load()
    except ForbiddenGlobalError as error:
        raise ForbiddenGlobalError(f"{path}: {error}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise ValueError(f"{path} is not a complete .pdparams file: {type(error).__name__}: {error}") from error
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} holds a {type(loaded).__name__}, not a dict of parameters")
    parameters = dict(loaded)
    for name, info in parameters.pop(BIG_PARAMETERS, {}).items():
        try:
            slices = [parameters.pop(part) for part in info["slices"]]
        except KeyError as missing:
            raise ValueError(f"{path}: slice {missing} of the big parameter {name!r} is missing") from None
        parameters[name] = np.concatenate(slices).reshape(info["OriginShape"])
    for key in BOOKKEEPING:
        parameters.pop(key, None)
    for name, value in parameters.items():
        if not isinstance(value, np.ndarray):
            raise ValueError(f"{path}: {name!r} is a {type(value).__name__}, not an array")
    return parameters
