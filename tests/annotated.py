"""A small dataset folder whose rows point at real video files, for the annotation tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tvhighlights.clips import num_clips
from tvhighlights.video import probe


def make_video_dataset(root: Path, videos: Mapping[str, Path], *, test: int = 0) -> Path:
    """``root/dataset``: one row per video (the last ``test`` of them in the test split, the
    rest in train), with zero votes and the file's real duration."""
    from tvhighlights.builders.tvhighlights import write_dataset

    rows = []
    for vid, path in videos.items():
        duration = probe(path).duration
        n = num_clips(duration)
        rows.append({
            "video_id": vid, "source_id": vid, "title": f"{vid} title", "genre": "drama",
            "start": 0.0, "end": duration, "duration": duration, "num_clips": n,
            "votes": [0] * n, "scores": [0.0] * n, "labels": [0] * n, "categories": None,
            "video_label": 0, "num_derivatives": 0, "video_path": str(Path(path).resolve()),
        })  # fmt: skip
    cut = len(rows) - test
    splits = {"train": rows[:cut]} if not test else {"train": rows[:cut], "test": rows[cut:]}
    return write_dataset(root / "dataset", splits)
