"""Gradio apps over the library: the demo (LTV-HD on any video in a browser).

``tvhighlights demo`` and ``spaces/demo/app.py`` both call :func:`launch_demo`. The parts that
need no gradio (settings, model choices, the cached analysis and re-ranking, the plotly
figure) are modules of their own and tested without a browser; :mod:`.demo` is the page.
"""

from __future__ import annotations

from typing import Any

from .models import QUICKSTART_MODEL, ModelRegistry, default_model, find_local_models
from .settings import DEFAULT_SAMPLES, DemoSettings

__all__ = [
    "DEFAULT_SAMPLES",
    "QUICKSTART_MODEL",
    "DemoSettings",
    "ModelRegistry",
    "build_demo",
    "default_model",
    "find_local_models",
    "launch_demo",
]


def __getattr__(name: str) -> Any:  # gradio loads only when the page is built
    if name in ("build_demo", "launch_demo"):
        from . import demo

        return getattr(demo, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
