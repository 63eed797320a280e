"""Old import paths: the flat modules of 0.1 keep importing, as thin forwards to their new homes.

The library moved from 20 flat modules to one sub-package per layer (``docs/architecture.md``).
``import tvhighlights.metrics`` or ``from tvhighlights.submission import evaluate_submission``
still work: a finder on ``sys.meta_path`` answers for the old names with a module whose
attributes are looked up, on first use, in the new ones (with a ``DeprecationWarning`` naming
the new path). Nothing here is imported by the library itself.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

# old module -> the new modules its public names now live in (looked up in this order)
MOVED: Mapping[str, Sequence[str]] = {
    "tvhighlights.metrics": ("tvhighlights.evaluation.metrics",),
    "tvhighlights.submission": ("tvhighlights.evaluation.submission",),
    "tvhighlights.report": ("tvhighlights.evaluation.report",),
    "tvhighlights.dataset": (
        "tvhighlights.data.folder",
        "tvhighlights.data.merge",
        "tvhighlights.data.push",
        "tvhighlights.data.references",
        "tvhighlights.builders.tvhighlights.folder",
    ),
    "tvhighlights.manifest": ("tvhighlights.build.manifest",),
    "tvhighlights.topic_filter": ("tvhighlights.build.titles",),
    "tvhighlights.fingerprint": (
        "tvhighlights.build.fingerprint",
        "tvhighlights.build.phash",
        "tvhighlights.fileio",
    ),
    "tvhighlights.matching": ("tvhighlights.build.index", "tvhighlights.build.align"),
    "tvhighlights.shots": ("tvhighlights.build.shots", "tvhighlights.features.transnet"),
    "tvhighlights.voting": ("tvhighlights.build.voting",),
    "tvhighlights.simulate": ("tvhighlights.build.simulate",),
    "tvhighlights.plots": ("tvhighlights.build.plots", "tvhighlights.inference.plots"),
    "tvhighlights.reel": ("tvhighlights.inference.reel",),
    "tvhighlights.features.dataset_config": ("tvhighlights.builders.tvhighlights.folder",),
}

RENAMED: Mapping[str, Mapping[str, str]] = {
    "tvhighlights.dataset": {
        "references_from_table": "tvhighlights.data.references:references_from_rows",
        "load_dataset_references": "tvhighlights.data.references:load_references",
    },
}
"""Names that changed, not only moved: old module -> {old name: "new.module:new name"}."""


class _Forward(types.ModuleType):
    """An old module: attribute lookups go to the new modules (and are then cached)."""

    def __init__(self, name: str, targets: Sequence[str]) -> None:
        super().__init__(name, f"Moved: see {', '.join(targets)}.")
        self.__targets = tuple(targets)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        new = RENAMED.get(self.__name__, {}).get(attr)
        candidates = [tuple(new.split(":"))] if new else [(t, attr) for t in self.__targets]
        for module_name, name in candidates:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                warnings.warn(
                    f"{self.__name__}.{attr} moved to {module_name}.{name}",
                    DeprecationWarning,
                    stacklevel=2,
                )
                value = getattr(module, name)
                setattr(self, attr, value)
                return value
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for target in self.__targets:
            module = importlib.import_module(target)
            names |= set(getattr(module, "__all__", None) or dir(module))
        return sorted(names)


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _Forward(spec.name, MOVED[spec.name])

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the forward module looks its names up on demand."""


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader())


def install() -> None:
    """Put the finder of old module names on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
