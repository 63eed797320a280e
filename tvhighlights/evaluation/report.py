"""Metric tables for people: one row per method, as rich tables or Markdown.

:func:`evaluate_submissions` scores several submission files against the same references
(``tvhighlights eval``); :func:`metrics_tables` lays the results out as the main table plus
per-genre and per-category breakdowns; :func:`to_markdown` renders one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "GROUP_HEADERS",
    "HEADERS",
    "MetricsTable",
    "breakdown_rows",
    "evaluate_submissions",
    "method_name",
    "metrics_rows",
    "metrics_tables",
    "percent_text",
    "to_markdown",
]

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


def percent_text(x: float | None) -> str:
    """A percentage as a table shows it: two decimals, ``n/a`` for None or NaN."""
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def metrics_rows(results: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """Rows of :data:`HEADERS` from ``{method: clip_auc_ap result}``."""
    return [
        [
            name,
            str(r["num_videos"]),
            str(r["num_clips"]),
            str(r["num_positive"]),
            percent_text(r["pooled_auc"]),
            percent_text(r["pooled_ap"]),
            percent_text(r["video_auc"]),
            percent_text(r["video_ap"]),
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
                + [percent_text(g[k]) for k in ("pooled_auc", "pooled_ap", "video_auc", "video_ap")]
            )
    return rows


def to_markdown(headers: list[str] | tuple[str, ...], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


GROUP_HEADERS = ("AUC (pooled)", "AP (pooled)", "AUC (video mean)", "AP (video mean)")
"""Columns of a breakdown table, after ``method`` and the group."""


@dataclass(frozen=True)
class MetricsTable:
    """One table of results: a title ("" for the main table), its headers and rows."""

    title: str
    headers: tuple[str, ...]
    rows: list[list[str]]


def method_name(submission: str | Path) -> str:
    """The method a submission file stands for in a table: its name without ``.jsonl``."""
    return Path(submission).name.removesuffix(".jsonl")


def evaluate_submissions(
    submissions: Sequence[str | Path], references: str | Path, split: str | None = None
) -> dict[str, dict[str, Any]]:
    """``{method: metrics}`` of each submission against the same references (loaded once)."""
    from .submission import load_references, load_submission, score_submission

    refs = load_references(references, split=split)
    results: dict[str, dict[str, Any]] = {}
    for path in submissions:
        results[method_name(path)] = score_submission(load_submission(path, refs), refs)
    return results


def metrics_tables(results: Mapping[str, Mapping[str, Any]]) -> list[MetricsTable]:
    """The main table, then a per-genre and a per-category table where the references have
    more than one genre / category (a single group would repeat the main table)."""
    tables = [MetricsTable("", HEADERS, metrics_rows(results))]
    for key, group in (("per_genre", "genre"), ("per_category", "category")):
        rows = breakdown_rows(results, key)
        if len({row[1] for row in rows}) > 1:
            tables.append(MetricsTable(f"per {group}", ("method", group, *GROUP_HEADERS), rows))
    return tables
