"""Training-free baselines on a video file with no dataset: the demo's curves, ``baseline NAME
VIDEO``.

Only rows that learn nothing and read nothing but the handcrafted cues qualify
(:data:`FILE_BASELINES`); the cues are extracted once per file (by path, size and mtime; the
last few files are kept), so the demo's three signal curves decode the video once, or not at
all when its model already read the cues (``features=``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from tvhighlights.errors import InvalidArgumentError

from . import get_baseline
from .base import Baseline, BaselineVideo

__all__ = ["FILE_BASELINES", "file_video", "score_file"]

FILE_BASELINES = ("loudness", "motion", "cut-density", "random")
"""Rows that can score a bare video file."""

_KEPT = 4
_cache: OrderedDict[tuple, BaselineVideo] = OrderedDict()
_lock = threading.Lock()


def file_video(path: str | Path, video_id: str | None = None, *,
               show_progress: bool = False) -> BaselineVideo:  # fmt: skip
    """The video at ``path`` with its handcrafted features, as a baseline's input."""
    from tvhighlights.features import get_extractor
    from tvhighlights.features.extract import extract_video

    p = Path(path)
    st = p.stat() if p.exists() else None
    key = (str(p.resolve()), st.st_size if st else 0, st.st_mtime_ns if st else 0)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
    if hit is None:
        feats = extract_video(p, [get_extractor("handcrafted")], show_progress=show_progress)
        n = int(feats["visual"].shape[0])
        block = {m: feats[m] for m in ("visual", "audio") if feats[m].shape[1]}
        hit = BaselineVideo(video_id or p.stem, n, {"handcrafted": block},
                            has_audio=bool(feats["audio_mask"].any()), title=p.stem,
                            video_path=str(p))  # fmt: skip
        with _lock:
            _cache[key] = hit
            while len(_cache) > _KEPT:
                _cache.popitem(last=False)
    if video_id and hit.video_id != video_id:
        hit = BaselineVideo(video_id, hit.num_clips, hit.features, has_audio=hit.has_audio,
                            title=hit.title, video_path=hit.video_path)  # fmt: skip
    return hit


def score_file(
    baseline: str | Baseline, path: str | Path, video_id: str | None = None, *,
    features: Mapping[str, Mapping[str, np.ndarray]] | None = None, has_audio: bool = True,
    show_progress: bool = False,
) -> np.ndarray:  # fmt: skip
    """``baseline``'s scores for the video file at ``path`` (one per 2-second clip);
    ``features`` (``{extractor: {modality: (n, D)}}``, e.g. a prediction's, for a video that
    ``has_audio`` or not) are used instead of extracting the cues again."""
    name = baseline if isinstance(baseline, str) else baseline.name
    if name not in FILE_BASELINES:
        raise InvalidArgumentError(
            f"baseline {name!r} needs a dataset (it learns from a train split or needs other "
            f"features); on a bare video file use one of {', '.join(FILE_BASELINES)}, or run "
            "`tvhighlights baseline NAME --dataset ... --features ...`",
            param="name",
        )
    b = get_baseline(name) if isinstance(baseline, str) else baseline
    blocks = [a for block in (features or {}).values() for a in block.values()]
    if blocks and all(r in features for r in b.requires):
        video = BaselineVideo(video_id or Path(path).stem, int(blocks[0].shape[0]), features,
                              has_audio=has_audio, video_path=str(path))  # fmt: skip
    elif not b.requires:  # the chance floor needs only the clip count
        from tvhighlights.video import probe

        n = probe(path).num_clips
        video = BaselineVideo(video_id or Path(path).stem, n, {}, video_path=str(path))
    else:
        video = file_video(path, video_id, show_progress=show_progress)
    b.check(video)
    return b.checked_scores(video, b.score(video))
