"""Dataset construction: from long sources and their short re-uploads to votes per clip.

The stages, one module each: :mod:`.manifest` (the two manifests), :mod:`.titles` (is a
title about the film), :mod:`.phash` and :mod:`.fingerprint` (per-frame hashes of a video),
:mod:`.index` (the FAISS index of the sources), :mod:`.shots` (a derivative's shots),
:mod:`.align` (a derivative back to the source spans it reuses), :mod:`.voting` (reuses to
votes to labels), :mod:`.pipeline` (all of them over a corpus, cached and resumable),
:mod:`.plots` (the card's figures) and :mod:`.simulate` (re-uploads with exact ground truth).
The dataset folder itself is written by :mod:`tvhighlights.builders.tvhighlights`.
"""

from __future__ import annotations

from typing import Any

from .pipeline import BuildConfig, BuildOutput, run_build

__all__ = ["BuildConfig", "BuildOutput", "run_build"]


def __getattr__(name: str) -> Any:
    """``build_dataset`` (writes the folder) now lives with the builder; kept here for 0.1."""
    if name in ("build_dataset", "BuildResult"):
        from ..builders import tvhighlights as builder

        return getattr(builder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
