"""Which LTV-HD models the demo offers, where the default comes from, and loading them once.

Model names the page lists are fixed when the app starts (the ``--model`` given and the model
folders found under ``runs/``): a visitor picks one, never types a path.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PredictionError
from ..inference.model import is_local_model_path

if TYPE_CHECKING:
    from ..models.ltvhd import LTVHDModel

logger = logging.getLogger(__name__)

__all__ = [
    "QUICKSTART_MODEL",
    "ModelRegistry",
    "default_model",
    "find_local_models",
    "is_model_folder",
]

QUICKSTART_MODEL = Path("runs/quickstart/ltvhd-s1")
"""Where ``make quickstart`` saves its trained model (relative to the repository)."""


def is_model_folder(path: Path) -> bool:
    """A folder ``save_pretrained`` wrote for LTV-HD: ``config.json`` of model_type ltvhd and
    safetensors weights."""
    cfg = path / "config.json"
    try:
        if json.loads(cfg.read_text(encoding="utf-8")).get("model_type") != "ltvhd":
            return False
    except (OSError, ValueError, AttributeError):
        return False
    return any(path.glob("*.safetensors"))


def find_local_models(roots: Iterable[str | Path] = ("runs",), max_depth: int = 3) -> list[Path]:
    """LTV-HD model folders under ``roots`` (at most ``max_depth`` levels down), sorted."""
    found: set[Path] = set()
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        level = [root]
        for _ in range(max_depth + 1):
            nxt = []
            for folder in level:
                if is_model_folder(folder):
                    found.add(folder)
                    continue
                try:
                    nxt += [p for p in folder.iterdir() if p.is_dir() and p.name != "training"]
                except OSError:
                    continue
            level = nxt
    return sorted(found)


def default_model(cwd: str | Path = ".") -> Path:
    """The quickstart's model when it exists; else a :class:`PredictionError` saying how to get
    one."""
    path = Path(cwd) / QUICKSTART_MODEL
    if is_model_folder(path):
        return path
    raise PredictionError(
        f"no model given and {QUICKSTART_MODEL} does not exist: run `make quickstart` to train "
        "one, or pass a model folder or Hub id"
    )


class ModelRegistry:
    """The models a demo offers, each loaded once (thread-safe) and kept.

    ``specs`` are folders or Hub ids; the first is the default. A Hub id that cannot be
    loaded (offline, unknown) is a :class:`PredictionError` that names it and lists the local
    model folders found, so the user can pick one of those instead.
    """

    def __init__(
        self, specs: Sequence[str | Path], *, device: str = "cpu", search: Iterable = ("runs",)
    ) -> None:
        if not specs:
            raise PredictionError("the demo needs at least one model")
        seen: dict[str, str] = {}
        for spec in map(str, specs):  # one entry per folder, however it is written
            p = Path(spec).expanduser()
            seen.setdefault(str(p.resolve()) if p.is_dir() else spec, spec)
        self.specs = list(seen.values())
        self.device = device
        self._search = tuple(search)
        self._models: dict[str, tuple[str, LTVHDModel]] = {}
        self._lock = threading.Lock()

    @property
    def default(self) -> str:
        return self.specs[0]

    def label(self, spec: str) -> str:
        """What the page shows for a model: a folder's last two parts, or the Hub id."""
        p = Path(spec)
        if is_local_model_path(spec):
            return "/".join(p.parts[-2:]) if len(p.parts) > 1 else p.name
        return spec

    def choices(self) -> list[tuple[str, str]]:
        return [(self.label(s), s) for s in self.specs]

    def key(self, spec: str) -> str:
        """A cache key that changes when the weights do (a retrained folder is another model)."""
        p = Path(spec).expanduser()
        if p.is_dir():
            stamps = sorted(
                (f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in p.glob("*.safetensors")
            )
            return f"{p.resolve()}|{stamps}"
        return spec

    def get(self, spec: str) -> LTVHDModel:
        """The loaded model for ``spec`` (one of :attr:`specs`)."""
        if spec not in self.specs:
            raise PredictionError(f"{spec!r} is not one of this demo's models")
        with self._lock:
            key = self.key(spec)
            held = self._models.get(spec)
            if held is None or held[0] != key:
                held = (key, self._load(spec))
                self._models[spec] = held
            return held[1]

    def _load(self, spec: str) -> LTVHDModel:
        from ..inference import load_model

        try:
            return load_model(spec, device=self.device)
        except PredictionError as e:
            if is_local_model_path(spec):
                raise
            local = find_local_models(self._search)
            offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
            why = "the Hub is offline (HF_HUB_OFFLINE=1)" if offline else "it could not be loaded"
            found = ", ".join(map(str, local)) or "none (train one with `make quickstart`)"
            raise PredictionError(
                f"{spec}: not a local folder, not in the Hub cache and {why}; "
                f"local model folders: {found}"
            ) from e
