"""Metric tables for people: one row per method, as rich tables or Markdown."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

HEADERS = (
    "method",
    "videos",
    "clips",
    "positives",
    "AUC (pooled)",
    "AP (pooled)",
    "AUC (video mean)",
    "AP (video mean)",
    "videos skipped",
)


def _pct(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def metrics_rows(results: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """Rows of :data:`HEADERS` from ``{method: clip_auc_ap result}``."""
    return [
        [
            name,
            str(r["num_videos"]),
            str(r["num_clips"]),
            str(r["num_positive"]),
            _pct(r["pooled_auc"]),
            _pct(r["pooled_ap"]),
            _pct(r["video_auc"]),
            _pct(r["video_ap"]),
            str(r["num_videos_skipped"]),
        ]
        for name, r in results.items()
    ]


def breakdown_rows(results: Mapping[str, Mapping[str, Any]], key: str) -> list[list[str]]:
    """Rows ``method, group, pooled AUC, pooled AP, video AUC, video AP`` for a breakdown
    (``key`` is ``per_genre`` or ``per_category``)."""
    rows = []
    for name, r in results.items():
        for group, g in (r.get(key) or {}).items():
            rows.append(
                [name, group]
                + [_pct(g[k]) for k in ("pooled_auc", "pooled_ap", "video_auc", "video_ap")]
            )
    return rows


def to_markdown(headers: list[str] | tuple[str, ...], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
