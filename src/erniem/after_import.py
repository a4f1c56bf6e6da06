"""Run a callback as soon as a module is imported, without importing it: how `import erniem` stays cheap and
still registers the ERNIE-M classes with the transformers Auto classes, whichever of the two comes first.

A finder at the front of `sys.meta_path` hands out the loaders of `target` (transformers) and of the submodules
of `package` (erniem) wrapped, until the callback has run. After each of those modules executes, the callback
runs if `target` is imported and none of their imports is still under way in this thread. Waiting for the
outermost one matters: `import erniem.modeling` imports transformers, and registering at that point would
import the half-executed erniem.modeling again. Every module gets its own loader back before it executes, so
nothing of the wrapper stays on it. (transformers keeps a finder of its own in `sys.meta_path`, for its
deprecated module paths.)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from types import ModuleType


def call_after_import(target: str, package: str, callback: Callable[[], None]) -> None:
    """Call `callback` now if `target` is in `sys.modules`, otherwise once `target` is imported and no import of
    it or of a submodule of `package` is under way in the importing thread (see the module docstring). An error
    in `callback` is raised by the import statement that triggered it."""
    if target in sys.modules:
        callback()
    elif not any(isinstance(finder, _AfterImport) and finder.key == (target, package) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(target, package, callback))


class _AfterImport:
    """The `sys.meta_path` finder behind `call_after_import`; it removes itself before calling back."""

    def __init__(self, target: str, package: str, callback: Callable[[], None]) -> None:
        self.key = (target, package)
        self.callback = callback
        self.called = False
        self.lock = threading.Lock()
        self.executing = threading.local()  # .depth: modules of ours executing in this thread

    def find_spec(self, fullname: str, path, target: ModuleType | None = None) -> ModuleSpec | None:
        """The spec the finders after this one give, with its loader wrapped, for the modules watched."""
        watched, package = self.key
        if self.called or (fullname != watched and not fullname.startswith(package + ".")):
            return None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            spec = None if finder is self or find is None else find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _CountingLoader(spec.loader, self)
                return spec
        return None

    def enter(self) -> None:
        self.executing.depth = getattr(self.executing, "depth", 0) + 1

    def leave(self) -> None:
        self.executing.depth -= 1

    def executed(self) -> None:
        """Call back if the target is imported and no watched module is executing in this thread."""
        if self.key[0] not in sys.modules or getattr(self.executing, "depth", 0):
            return
        with self.lock:
            if self.called:
                return
            self.called = True
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        self.callback()


class _CountingLoader:
    """A module's loader, telling the finder when the module starts and ends executing; everything else is the
    wrapped loader's (runpy, for one, asks it for `get_code`)."""

    def __init__(self, loader, finder: _AfterImport) -> None:
        self.loader = loader
        self.finder = finder

    def __getattr__(self, name: str):
        return getattr(self.loader, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__.loader = module.__loader__ = self.loader  # the module sees its own loader only
        self.finder.enter()
        try:
            self.loader.exec_module(module)
        finally:
            self.finder.leave()
        self.finder.executed()
