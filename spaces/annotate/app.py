"""The TVHighlights annotation tool as a Hugging Face Space: the library's page, launched (no
copy of it).

Settings come from the environment (a Space's variables and secrets):

* ``TVH_ANNOTATE_DATASET`` - the dataset folder (``tvhighlights build``), required;
* ``TVH_ANNOTATE_STORE`` - where decisions go (default: ``/data/annotations`` on a Space with
  persistent storage, else ``annotations``);
* ``TVH_ANNOTATE_VIDEOS`` - the CSV of videos to annotate (default: the test split);
* ``TVH_ANNOTATE_AUTH`` - the annotators file (``tvhighlights annotations add-user``); on the
  Hub (``SPACE_ID`` set) it is required, so no one annotates unsigned;
* ``TVH_ANNOTATOR`` - without an annotators file, the one local annotator's name.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tvhighlights.errors import TVHighlightsError


def settings() -> dict:
    """The launch arguments from the environment; a clear exit when one is missing."""
    env = os.environ
    if not env.get("TVH_ANNOTATE_DATASET"):
        sys.exit("error: set TVH_ANNOTATE_DATASET to the dataset folder to annotate")
    default_store = "/data/annotations" if Path("/data").is_dir() else "annotations"
    auth = env.get("TVH_ANNOTATE_AUTH")
    if env.get("SPACE_ID") and not auth:
        sys.exit("error: on a Space, set TVH_ANNOTATE_AUTH to the annotators file")
    return {
        "dataset": env["TVH_ANNOTATE_DATASET"],
        "store": env.get("TVH_ANNOTATE_STORE", default_store),
        "videos": env.get("TVH_ANNOTATE_VIDEOS") or None,
        "auth": auth,
        "annotator": None if auth else env.get("TVH_ANNOTATOR", "annotator"),
    }


if __name__ == "__main__":
    from tvhighlights.app.annotator import launch_annotator

    port = os.environ.get("GRADIO_SERVER_PORT")
    local = "0.0.0.0" if os.environ.get("SPACE_ID") else "127.0.0.1"
    try:
        launch_annotator(
            **settings(),
            host=os.environ.get("GRADIO_SERVER_NAME", local),
            port=int(port) if port else 7861,
        )
    except TVHighlightsError as e:  # one line, as the command line says it
        sys.exit(f"error: {e}")
