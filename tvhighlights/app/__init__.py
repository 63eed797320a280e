"""Gradio apps over the library: the demo (LTV-HD on any video in a browser) and the
annotation page (the test split's human labels).

``tvhighlights demo`` and ``spaces/demo/app.py`` both call :func:`launch_demo`;
``tvhighlights annotate`` and ``spaces/annotate/app.py`` call
:func:`~.annotator.launch_annotator`; both launch through :mod:`.serve`. The parts that
need no gradio (settings, model choices, the cached analysis and re-ranking, the plotly
figure) are modules of their own and tested without a browser; :mod:`.demo` is the page.
"""

from __future__ import annotations

import os
from typing import Any

# Read by gradio when it is imported and at launch: no telemetry, no version lookup. Set here,
# before any page module imports gradio.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from .models import QUICKSTART_MODEL, ModelRegistry, default_model, find_local_models
from .settings import DEFAULT_SAMPLES, DemoSettings

__all__ = [
    "DEFAULT_SAMPLES",
    "QUICKSTART_MODEL",
    "DemoSettings",
    "ModelRegistry",
    "build_annotator",
    "build_demo",
    "default_model",
    "find_local_models",
    "launch_annotator",
    "launch_demo",
]


def __getattr__(name: str) -> Any:  # gradio loads only when the page is built
    if name in ("build_demo", "launch_demo"):
        from . import demo

        return getattr(demo, name)
    if name in ("build_annotator", "launch_annotator"):
        from . import annotator

        return getattr(annotator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
