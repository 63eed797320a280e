"""From the annotators' decisions to the test split's truth: a majority vote per clip.

Rules (the same for every clip, so they are written into the dataset card):

* a clip is labelled once at least ``min_annotators`` annotators decided it; a clip with
  fewer is *unlabelled*: reported, never guessed;
* it is a highlight when more than half of its annotators said so; an exact tie is not a
  highlight (``tie="negative"``, the default: a highlight needs a strict majority) or is one
  (``tie="positive"``);
* its category is the majority among the annotators who said highlight *and* gave one; a tie
  between categories goes to the earliest in :data:`~.store.CATEGORIES` order (Action,
  Destruction, CGI, Emotional, Others); no category given leaves it null (counted);
* a video enters the test split only when every clip is labelled.

:func:`write_test_split` writes those videos into the dataset folder (atomically: the whole
folder is rebuilt beside it and renamed into place) and takes them out of the train split,
so no video is trained on and tested on.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..build.voting import LabelRule, video_label
from ..data.folder import DataFiles, read_card, read_split, split_names
from ..errors import InvalidArgumentError
from ..fileio import write_json
from .store import CATEGORIES, AnnotatorDecisions, ClipKey, Decision, latest_decisions

logger = logging.getLogger(__name__)

__all__ = ["TIE_RULES", "Aggregation", "VideoAggregate", "aggregate_decisions", "write_test_split"]

TIE_RULES = ("negative", "positive")
"""What an exact tie between highlight and not gives."""


@dataclass
class VideoAggregate:
    """The vote of one video: ``labels`` (1, 0, or -1 for an unlabelled clip), the majority
    ``categories`` (``None`` for a non-highlight), ``num_annotators`` per clip."""

    video_id: str
    labels: np.ndarray
    categories: list[str | None]
    num_annotators: np.ndarray
    ties: int = 0
    highlight_without_category: int = 0

    @property
    def unlabelled(self) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.labels < 0)]

    @property
    def complete(self) -> bool:
        return bool((self.labels >= 0).all())


@dataclass
class Aggregation:
    """Every video's vote and the rules that made it."""

    videos: dict[str, VideoAggregate]
    annotators: list[str]
    min_annotators: int = 1
    tie: str = "negative"
    moved_from_train: list[str] = field(default_factory=list)

    @property
    def complete(self) -> list[str]:
        return [v for v, a in self.videos.items() if a.complete]

    def summary(self) -> dict[str, Any]:
        """What a person checks before using the split (also ``annotation_report.json``)."""
        done = [a for a in self.videos.values() if a.complete]
        cats = Counter(c for a in done for c in a.categories if c is not None)
        return {
            "annotators": self.annotators,
            "min_annotators": self.min_annotators,
            "tie": self.tie,
            "videos": len(self.videos),
            "complete": [a.video_id for a in done],
            "incomplete": {
                a.video_id: len(a.unlabelled) for a in self.videos.values() if not a.complete
            },
            "clips": int(sum(len(a.labels) for a in self.videos.values())),
            "labelled": int(sum(int((a.labels >= 0).sum()) for a in self.videos.values())),
            "positives": int(sum(int((a.labels == 1).sum()) for a in done)),
            "categories": {c: cats.get(c, 0) for c in CATEGORIES},
            "highlight_without_category": sum(a.highlight_without_category for a in done),
            "ties": sum(a.ties for a in self.videos.values()),
            "moved_from_train": self.moved_from_train,
        }


def aggregate_decisions(
    decisions: Mapping[str, AnnotatorDecisions | Mapping[ClipKey, Decision]],
    videos: Mapping[str, int],
    *,
    min_annotators: int = 1,
    tie: str = "negative",
) -> Aggregation:
    """The majority vote of every clip of ``videos`` (``{video_id: num_clips}``) over the
    annotators' last decisions (see the module's rules)."""
    if (
        isinstance(min_annotators, bool)
        or not isinstance(min_annotators, int)
        or (min_annotators < 1)
    ):
        raise InvalidArgumentError(f"min_annotators must be an integer >= 1, got "
                                   f"{min_annotators!r}", param="min_annotators")  # fmt: skip
    if tie not in TIE_RULES:
        raise InvalidArgumentError(f"tie must be one of {TIE_RULES}, got {tie!r}", param="tie")
    per_clip: dict[ClipKey, list[Decision]] = {}
    for name in sorted(decisions):
        for key, d in latest_decisions(decisions[name]).items():
            if key[0] not in videos or not 0 <= key[1] < videos[key[0]]:
                raise InvalidArgumentError(
                    f"annotator {name!r} decided clip {key[1]} of video {key[0]!r}, which is "
                    "not among the videos being aggregated"
                )
            per_clip.setdefault(key, []).append(d)
    out: dict[str, VideoAggregate] = {}
    for vid, n in videos.items():
        labels = np.full(n, -1, dtype=np.int8)
        cats: list[str | None] = [None] * n
        counts = np.zeros(n, dtype=np.int32)
        agg = VideoAggregate(vid, labels, cats, counts)
        for clip in range(n):
            ds = per_clip.get((vid, clip), [])
            counts[clip] = len(ds)
            if len(ds) < min_annotators:
                continue
            yes = sum(d.highlight for d in ds)
            if 2 * yes == len(ds):
                agg.ties += 1
                labels[clip] = int(tie == "positive")
            else:
                labels[clip] = int(2 * yes > len(ds))
            if labels[clip] == 1:
                given = Counter(d.category for d in ds if d.highlight and d.category)
                if given:
                    top = max(given.values())
                    cats[clip] = next(c for c in CATEGORIES if given.get(c) == top)
                else:
                    agg.highlight_without_category += 1
        out[vid] = agg
    return Aggregation(out, sorted(decisions), min_annotators, tie)


# --------------------------------------------------------------------------------------------
# The dataset folder


def _configs(folder: Path) -> list[str]:
    return [c["config_name"] for c in read_card(folder).data.get("configs") or []]


def _split_tables(folder: Path, config: str) -> dict[str, Any]:
    return {split: read_split(folder, split, config) for split in split_names(folder, config)}


def _move(tables: Mapping[str, Any], moved: set[str], into: Any | None) -> dict[str, Any]:
    """``tables`` without the ``moved`` videos, and ``into`` (a table of them) as ``test``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = {}
    for split, t in tables.items():
        keep = pc.invert(pc.is_in(t.column("video_id"), value_set=pa.array(sorted(moved))))
        out[split] = t.filter(keep)
    if into is not None:
        old = out.get("test")
        out["test"] = into if old is None or not old.num_rows else pa.concat_tables(
            [old, into.select(old.column_names).cast(old.schema)])  # fmt: skip
    return {s: t for s, t in out.items() if t.num_rows}


def write_test_split(dataset: str | Path, aggregation: Aggregation) -> Path:
    """Write the complete videos of ``aggregation`` as the dataset's test split.

    Each test row is the video's row of the default config (whatever split it was in) with
    ``labels`` the majority vote, ``categories`` the majority categories and ``num_annotators``
    per clip; ``video_label`` follows the build's rule. Those videos leave every other split
    (the ``features`` config's rows move with them); earlier test rows of other videos stay.
    The card (YAML and statistics) is rendered again and ``annotation_report.json`` records
    the summary. Raises :class:`~tvhighlights.errors.InvalidArgumentError` when no video is
    complete.
    """
    from tvhighlights.builders.tvhighlights import VIDEO_ROWS
    from tvhighlights.builders.tvhighlights.card import render_card
    from tvhighlights.builders.tvhighlights.schema import to_table
    from tvhighlights.data.folder import write_folder

    folder = Path(dataset)
    complete = aggregation.complete
    if not complete:
        raise InvalidArgumentError(
            f"no video is fully annotated (every clip by at least {aggregation.min_annotators} "
            f"annotator(s)): {len(aggregation.videos)} incomplete; nothing written"
        )
    default = _split_tables(folder, "default")
    rows = {r["video_id"]: (split, r) for split, t in default.items() for r in t.to_pylist()}
    report_path = folder / "build_report.json"
    build_report = json.loads(report_path.read_text("utf-8")) if report_path.is_file() else None
    rule_fields = ((build_report or {}).get("config") or {}).get("rule") or {}
    rule = LabelRule(**rule_fields)
    test_rows = []
    for vid in complete:
        if vid not in rows:
            raise InvalidArgumentError(f"{folder}: video {vid!r} is not a row of the dataset")
        _, row = rows[vid]
        agg = aggregation.videos[vid]
        if row["num_clips"] != len(agg.labels):
            raise InvalidArgumentError(
                f"{folder}: video {vid!r} has {row['num_clips']} clips, its annotations "
                f"{len(agg.labels)}"
            )
        test_rows.append({**row, "labels": agg.labels.astype(int).tolist(),
                          "categories": list(agg.categories),
                          "num_annotators": agg.num_annotators.astype(int).tolist(),
                          "video_label": video_label(agg.labels, rule)})  # fmt: skip
    moved = set(complete)
    aggregation.moved_from_train = sorted(v for v in complete if rows[v][0] == "train")
    tables: dict[str, dict[str, Any]] = {}
    for config in _configs(folder):
        current = default if config == "default" else _split_tables(folder, config)
        if config == "default":
            upgraded = {s: to_table(t.to_pylist(), VIDEO_ROWS) for s, t in current.items()}
            tables[config] = _move(upgraded, moved, to_table(test_rows, VIDEO_ROWS))
        elif config == "features":
            import pyarrow as pa

            feats = pa.concat_tables(list(current.values())) if current else None
            have = set(feats.column("video_id").to_pylist()) if feats is not None else set()
            lacking = sorted(moved - have)
            if lacking:
                logger.warning("%s: no features rows for %s: run `tvhighlights extract "
                               "--add-to-dataset` again", folder, ", ".join(lacking))  # fmt: skip
            into = None
            if feats is not None and moved & have:
                ids = feats.column("video_id").to_pylist()
                first = {v: i for i, v in reversed(list(enumerate(ids)))}
                into = feats.take([first[v] for v in complete if v in first])
            tables[config] = _move(current, moved, into)
        else:
            tables[config] = current
    counts = {s: t.num_rows for s, t in tables["default"].items()}
    summary = aggregation.summary()
    images = {p.name: (lambda dst, src=p: _copy(src, dst))
              for p in sorted((folder / "images").glob("*")) if p.is_file()}  # fmt: skip

    def card(files: DataFiles) -> str:
        return render_card(files, config=(build_report or {}).get("config"), report=build_report,
                           rows=counts, annotation=summary)  # fmt: skip

    write_folder(folder, tables, card, report=build_report, images=images)
    write_json(folder / "annotation_report.json", summary)
    logger.info("%s: test split of %d videos written", folder, len(test_rows))
    return folder


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
