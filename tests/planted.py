"""A real dataset folder and feature store whose features carry a planted highlight signal.

Shared by the training tests and the demo's browser test (which trains a tiny real model on
it): the highlight clips of positive videos carry a shifted visual column that MIL must find
from video labels alone. Widths are the handcrafted extractor's (21 visual, 13 audio).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from tvhighlights.builders.tvhighlights import write_dataset

from tvhighlights.features.store import FeatureStore

__all__ = ["KEY", "make_planted"]

KEY = "planted-v1-0000000000"


def make_planted(
    root: Path,
    n_videos: int = 24,
    clips: int = 40,
    seed: int = 0,
    pos=True,
    name="planted",
    cue_columns=(0, 1, 2),
    test_videos: int = 0,
):
    """A dataset (train split) and a feature folder with a planted highlight signal; ``name``
    is the extractor the features claim to come from (its widths are handcrafted's), and
    ``cue_columns`` the visual columns the signal shifts. The last ``test_videos`` videos form
    a test split (their labels standing for human labels)."""
    rng = np.random.default_rng(seed)
    store = FeatureStore(root / "features")
    store.root.mkdir(parents=True)
    store.record_extractors(
        [{"name": name, "version": 1, "key": KEY, "dims": {"visual": 21, "audio": 13},
          "settings": {}}]
    )  # fmt: skip
    rows, entries = [], []
    for i in range(n_videos):
        n = clips - (i % 5)
        labels = np.zeros(n, dtype=int)
        positive = pos and i % 2 == 0
        if positive:
            labels[rng.choice(n, size=int(rng.integers(3, 7)), replace=False)] = 1
        visual = rng.normal(size=(n, 21)).astype(np.float32)
        visual[np.ix_(labels == 1, list(cue_columns))] += 2.5
        audio = rng.normal(size=(n, 13)).astype(np.float32)
        has_audio = i % 3 != 0
        if not has_audio:
            audio[:] = 0
        sha = hashlib.sha256(f"{seed}-{i}".encode()).hexdigest()
        store.write(KEY, sha, {"visual": visual, "audio": audio}, num_clips=n,
                    has_audio=has_audio)  # fmt: skip
        vid = f"v{i:02d}"
        entries.append({"video_id": vid, "path": f"/videos/{vid}.mp4", "sha256": sha,
                        "offset": 0, "num_clips": n, "file_num_clips": n,
                        "has_audio": has_audio, "extractors": [KEY]})  # fmt: skip
        rows.append(
            dict(video_id=vid, source_id=vid, title=vid, genre="drama", start=0.0,
                 end=2.0 * n, duration=2.0 * n, num_clips=n, votes=labels.tolist(),
                 scores=labels.astype(float).tolist(), labels=labels.tolist(), categories=None,
                 video_label=int(labels.any()), num_derivatives=int(labels.any()),
                 video_path=f"/videos/{vid}.mp4")
        )  # fmt: skip
    store.append_index(entries, "rank000-of-001")
    splits = {"train": rows[: len(rows) - test_videos]}
    if test_videos:
        splits["test"] = rows[len(rows) - test_videos :]
    write_dataset(root / "tvh", splits)
    return root / "tvh", root / "features"
