"""A package's public names imported from their submodules on first use (PEP 562), so that importing the package
imports neither torch nor transformers."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable


def attach(package: str, exports: dict[str, list[str]]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module-level `__getattr__` and `__dir__` of `package` (its `__name__`).

    Args:
        exports: submodule name -> the names it gives the package. Each name loads its submodule on first access;
            so does any submodule's own name (`package.modeling`), as it did when the package imported them.
    """
    home = {name: submodule for submodule, names in exports.items() for name in names}
    namespace = vars(sys.modules[package])

    def __getattr__(name: str) -> object:
        if name in home:
            value = getattr(importlib.import_module(f"{package}.{home[name]}"), name)
        elif not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # found directly from now on
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *home, *exports})

    return __getattr__, __dir__
