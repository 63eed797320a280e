"""The build over a corpus: sources + derivatives -> rows of votes and labels, and the report.

The stages, each in its own module: probe every file (:mod:`tvhighlights.video`), fingerprint
the sources into an index (:mod:`.fingerprint`, :mod:`.index`), fingerprint each derivative
(its shots are the hard cuts in those frames, or a detector of :mod:`.shots`) and align it to
the source spans it reuses (:mod:`.align`). **Fingerprints are the evidence**: a confident
match votes whatever the derivative's title says; the title filter (:mod:`.titles`, its model
loading in a thread while the videos decode) decides only whether weaker matches vote, unless
``title_gate="before"`` drops off-topic titles ahead of matching. Votes (one per derivative
per covered clip) become labels (:mod:`.voting`). Work units (a source's fingerprint, a
derivative's alignment) are cached by file content, so a rerun, or a rerun after a crash,
resumes where it stopped. :class:`BuildOutput` holds the result and the report (every
derivative's status, :data:`STATUSES`; :func:`summary_lines` puts it on one screen); the
dataset folder is written from it by :mod:`tvhighlights.builders.tvhighlights`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .. import __version__
from ..clips import num_clips
from ..errors import BuildError, InvalidArgumentError, TVHighlightsError
from ..fileio import atomic_write, file_digest
from .manifest import DerivativeEntry, SourceEntry, read_derivatives, read_sources
from .titles import FILTERS
from .voting import (
    LabelRule,
    clip_labels,
    derivative_coverage,
    video_label,
    vote_scores,
    votes_from_coverage,
    windows,
)

if TYPE_CHECKING:
    from ..engines import Engine
    from .index import HashIndex

logger = logging.getLogger(__name__)


TITLE_GATES = ("unmatched", "before")
"""When the title filter decides: see :attr:`BuildConfig.title_gate`."""


@dataclass(frozen=True)
class BuildConfig:
    """Everything that decides the dataset's content (written into the card)."""

    rule: LabelRule = field(default_factory=LabelRule)
    window: float | None = None
    """Cut sources into rows of this many seconds (a multiple of 2); None: one row each."""
    title_filter: str = "embedding"
    """``embedding`` (all-MiniLM-L6-v2), ``llm`` (needs :attr:`llm`) or ``none``."""
    llm: str | None = None
    """The LLM of ``title_filter="llm"``, a backend spec of :func:`tvhighlights.llm.get_llm`
    (``openai:URL[:MODEL]``, ``transformers:PATH``); its answers are cached in
    ``<cache_dir>/llm-calls.jsonl``. Part of the card: another LLM is another dataset."""
    llm_timeout: float = 60.0
    """Seconds one LLM request may take (then it is retried)."""
    title_threshold: float | None = None
    """Keep a derivative whose title relevance reaches this; None: the filter's default."""
    title_gate: str = "unmatched"
    """When titles decide. ``unmatched`` (default): fingerprints are the evidence; every
    derivative is aligned, a confident match votes whatever its title says (an off-topic
    title is only an audit line), and the title filter decides whether weaker matches vote.
    ``before``: drop off-topic titles before any matching, to save compute on huge crawls
    (an on-topic re-upload with an unhelpful title is then lost)."""
    confident_match: float = 0.3
    """A match at or above this confidence votes whatever the derivative's title says."""
    shots: str = "default"
    """Shot detector of :mod:`.shots` (``default`` picks the module's default)."""
    min_confidence: float = 0.0
    """Alignment matches below this confidence cast no vote (kept in ``matches``)."""
    cache_dir: Path | None = None
    """Where work units are cached; default ``<out>.cache`` beside the output."""
    num_workers: int | None = None
    """Units at once: default 1 with the local engine, every CPU of the Ray cluster."""
    engine: str = "local"
    """Where the units run: ``local`` (a process pool) or ``ray`` (:mod:`tvhighlights.engines`);
    the dataset is the same bytes on either."""
    ray_address: str | None = None
    """The Ray cluster to join (``auto``, ``HEAD:6379``); None: a local Ray for this build."""
    shard: tuple[int, int] | None = None
    """``(i, n)``: build only every n-th source starting at i; merge shards afterwards."""
    test_labels: str | Path | None = None
    """References (a JSONL or a built-in name) whose videos become the test split."""

    def __post_init__(self) -> None:
        if self.title_filter not in FILTERS:
            raise InvalidArgumentError(
                f"title_filter must be one of {', '.join(FILTERS)}, got {self.title_filter!r}",
                param="title_filter",
            )
        if self.title_filter == "llm":
            if not self.llm:
                raise InvalidArgumentError(
                    "title_filter 'llm' needs an LLM backend: give its spec as llm "
                    "(openai:URL[:MODEL] or transformers:PATH)",
                    param="llm",
                )
            from ..llm.registry import parse_spec

            parse_spec(self.llm, param="llm")  # a malformed spec fails before any work
            if self.llm_timeout <= 0:
                raise InvalidArgumentError(
                    f"llm_timeout must be > 0 s, got {self.llm_timeout}", param="llm_timeout"
                )
        elif self.llm:
            raise InvalidArgumentError(
                f"an LLM ({self.llm!r}) is given but title_filter is {self.title_filter!r}: "
                "the LLM is used by title_filter 'llm' only",
                param="title_filter",
            )
        if self.title_gate not in TITLE_GATES:
            raise InvalidArgumentError(
                f"title_gate must be one of {', '.join(TITLE_GATES)}, got {self.title_gate!r}",
                param="title_gate",
            )
        if not 0.0 <= self.confident_match <= 1.0:
            raise InvalidArgumentError(
                f"confident_match must be in [0, 1], got {self.confident_match}",
                param="confident_match",
            )
        if self.shard is not None:
            i, n = self.shard
            if not 0 <= i < n:
                raise InvalidArgumentError(f"shard {i}/{n}: need 0 <= i < n", param="shard")
        from ..engines import check_engine

        check_engine(self.engine, self.num_workers, self.ray_address)

    def card_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("cache_dir", "num_workers", "engine", "ray_address", "test_labels",
                    "llm_timeout"):  # fmt: skip
            d.pop(key)
        return d


# --------------------------------------------------------------------------------------------
# Work units (module-level so a process pool can run them)


def _probe(path: Path, _shared: Any = None) -> tuple[dict[str, Any] | None, str | None]:
    from ..video import probe

    try:
        return probe(path).to_dict(), None
    except TVHighlightsError as exc:
        return None, str(exc)


def _source_fingerprint(args: tuple[Path, Path], _shared: Any = None) -> Any:
    from .fingerprint import fingerprint_source

    path, cache = args
    return fingerprint_source(path, cache_dir=cache)


def _align_one(
    args: tuple[DerivativeEntry, Path, str], index: HashIndex
) -> tuple[str, list[dict], str | None]:
    """Fingerprint, cut and align one derivative against ``index`` (the engine's shared
    object); results cached by the file's content."""
    entry, cache, shots_method = args
    from .fingerprint import FINGERPRINT_VERSION
    from .match import match_derivative
    from .shots import detect_shots

    try:
        method = "fingerprint" if shots_method == "default" else shots_method
        key = f"{file_digest(entry.path)}-{index.digest()}-{method}-v{FINGERPRINT_VERSION}"
        cached = cache / "align" / f"{key}.json"
        if cached.exists():
            rows = json.loads(cached.read_text(encoding="utf-8"))
        else:
            shots = None  # None: the cuts seen in the fingerprint's own frames
            if method != "fingerprint":
                shots = [(s.start, s.end) for s in detect_shots(entry.path, method=method)]
            matches = match_derivative(
                entry.path,
                index,
                derivative_id=entry.clip_id,
                cache_dir=cache / "fingerprints",
                shots=shots,
            )
            rows = [m.to_dict() for m in matches]
            with atomic_write(cached) as fh:
                json.dump(rows, fh)
        for r in rows:
            r["derivative_id"] = entry.clip_id
        return entry.clip_id, rows, None
    except TVHighlightsError as exc:
        return entry.clip_id, [], str(exc)


# --------------------------------------------------------------------------------------------
# The build


@dataclass
class BuildOutput:
    """What a build computed, before anything is written: the rows of every split (on the
    dataset's schema), every aligned shot, the report, and each source's vote timeline."""

    splits: dict[str, list[dict[str, Any]]]
    matches: list[dict[str, Any]]
    report: dict[str, Any]
    timelines: list[tuple[str, np.ndarray, np.ndarray]]
    """``(title, votes, labels)`` per source, for the figures."""


def run_build(
    sources_manifest: str | Path,
    derivatives_manifest: str | Path | Sequence[str | Path],
    config: BuildConfig,
    cache_dir: str | Path,
    *,
    show_progress: bool = True,
) -> BuildOutput:
    """Run every stage of the build over the manifests (see the module docstring); work units
    are cached under ``cache_dir``, so a rerun resumes where the last one stopped."""
    from ..engines import get_engine

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    engine = get_engine(config.engine, num_workers=config.num_workers, address=config.ray_address)
    with engine:
        return _build(sources_manifest, derivatives_manifest, config, cache, engine, show_progress)


def _build(
    sources_manifest: str | Path,
    derivatives_manifest: str | Path | Sequence[str | Path],
    config: BuildConfig,
    cache: Path,
    engine: Engine,
    show_progress: bool,
) -> BuildOutput:
    report: dict[str, Any] = {"tvhighlights": __version__, "config": config.card_dict()}

    # 1. manifests and probes ------------------------------------------------------------
    sources, source_problems = read_sources(sources_manifest)
    manifests = (
        [derivatives_manifest]
        if isinstance(derivatives_manifest, str | Path)
        else list(derivatives_manifest)
    )
    derivs, deriv_problems = [], []
    seen: dict[str, Path] = {}
    for manifest in manifests:
        entries, problems = read_derivatives(manifest)
        deriv_problems += problems
        for d in entries:
            if d.clip_id in seen:
                deriv_problems.append(
                    f"{manifest}: line {d.line} (clip_id {d.clip_id!r}): listed twice "
                    f"(also in {seen[d.clip_id]}); this row is skipped"
                )
                continue
            seen[d.clip_id] = Path(manifest)
            derivs.append(d)
    report["skipped_rows"] = source_problems + deriv_problems
    if config.shard:
        i, n = config.shard
        sources = sources[i::n]
    infos: dict[str, dict[str, Any]] = {}
    unreadable: list[dict[str, str]] = []
    probes = iter(
        engine.map(  # sources and derivatives in one pass: one pool, not two
            _probe,
            [e.path for e in [*sources, *derivs]],
            desc="probe videos",
            show_progress=show_progress,
        )
    )
    for kind, entries in (("source", sources), ("derivative", derivs)):
        for entry, (info, err) in zip(entries, probes, strict=False):
            ident = entry.video_id if kind == "source" else entry.clip_id
            if err:
                unreadable.append(
                    {"kind": kind, "id": ident, "path": str(entry.path), "reason": err}
                )
                logger.warning("skipping %s %s: %s", kind, ident, err)
            else:
                infos[f"{kind}:{ident}"] = info
    report["unreadable"] = unreadable
    sources = [s for s in sources if f"source:{s.video_id}" in infos]
    derivs = [d for d in derivs if f"derivative:{d.clip_id}" in infos]
    if not sources:
        raise BuildError(f"{sources_manifest}: no readable source video; see the problems above")
    longest = max(infos[f"source:{s.video_id}"]["duration"] for s in sources)
    too_long = [d for d in derivs if infos[f"derivative:{d.clip_id}"]["duration"] > longest]
    report["longer_than_sources"] = [d.clip_id for d in too_long]
    derivs = [d for d in derivs if d not in too_long]

    # 2. titles first only when asked: fingerprints are the evidence -----------------------
    n_derivatives = len(derivs)
    all_derivs = derivs
    with ThreadPoolExecutor(1) as background:
        # the title model loads (seconds of imports) while the videos decode
        titles = background.submit(_filter_titles, derivs, sources, config, cache)
        if config.title_gate == "before":
            kept = {d.clip_id for d in titles.result()[0]}
            derivs = [d for d in derivs if d.clip_id in kept]
        results = _match(sources, derivs, cache, config, engine, show_progress)
        decisions = titles.result()[1]
    on_topic = {d["clip_id"]: d["keep"] for d in decisions}
    report["title_filter"] = decisions

    by_id = {d.clip_id: d for d in derivs}
    matches: list[dict[str, Any]] = []
    failed, unmatched = [], []
    for clip_id, rows, err in results:
        if err:
            failed.append({"id": clip_id, "reason": err})
        elif not rows:
            unmatched.append(clip_id)
        d = by_id[clip_id]
        for r in rows:
            matches.append(
                {
                    **r,
                    "derivative_title": d.title,
                    "platform": d.platform,
                    "engagement": d.engagement,
                }
            )
    report["alignment_failed"] = failed
    report["no_match"] = unmatched

    # 7. who votes: a confident match whatever the title; a weaker one with an on-topic title
    best = {d.clip_id: 0.0 for d in derivs}
    for m in matches:
        best[m["derivative_id"]] = max(best[m["derivative_id"]], m["confidence"])
    confident = {c for c, conf in best.items() if conf >= config.confident_match}
    voters = {c for c, b in best.items() if b > 0 and (c in confident or on_topic.get(c, True))}
    report["matched_off_topic_title"] = sorted(c for c in confident if not on_topic.get(c, True))
    report["dropped_by_title"] = sorted(
        {d.clip_id for d in all_derivs if d.clip_id not in best}
        | {c for c in best if best[c] > 0 and c not in voters}
    )
    report["derivatives"] = _derivative_lines(
        all_derivs, _statuses(report, voters), best, {d["clip_id"]: d for d in decisions}
    )

    # 8. votes -> labels -> rows -------------------------------------------------------------
    durations = {s.video_id: infos[f"source:{s.video_id}"]["duration"] for s in sources}
    voting = [
        _Vote(*(m[f] for f in _Vote._fields))
        for m in matches
        if m["confidence"] >= config.min_confidence and m["derivative_id"] in voters
    ]
    coverage = derivative_coverage(voting, durations, min_overlap=config.rule.min_overlap)
    votes = votes_from_coverage(coverage, durations)
    splits: dict[str, list[dict[str, Any]]] = {"train": []}
    timelines = []
    for s in sources:
        v = votes[s.video_id]
        labels = clip_labels(v, config.rule)
        timelines.append((f"{s.video_id}: {s.title}", v, labels))
        splits["train"] += _rows(s, durations[s.video_id], v, labels, coverage[s.video_id], config)
    if config.test_labels:
        splits["test"] = _test_rows(config.test_labels, sources, durations, votes, coverage, config)

    report["counts"] = {
        "sources": len(sources),
        "derivatives": n_derivatives
        + len(too_long)
        + sum(u["kind"] == "derivative" for u in unreadable),
        "derivatives_voting": len(voters),
        "matched_off_topic_title": len(report["matched_off_topic_title"]),
        "dropped_by_title": len(report["dropped_by_title"]),
        "no_match": len(unmatched),
        "unreadable": sum(u["kind"] == "derivative" for u in unreadable),
        "too_long": len(too_long),
        "alignment_failed": len(failed),
        "matches": len(matches),
        "rows": {k: len(v) for k, v in splits.items()},
        "positive_clips": int(sum(int(np.sum(t[2])) for t in timelines)),
        "clips": int(sum(len(t[1]) for t in timelines)),
    }
    return BuildOutput(splits, matches, report, timelines)


def _match(
    sources: list[SourceEntry],
    derivs: list[DerivativeEntry],
    cache: Path,
    config: BuildConfig,
    engine: Engine,
    show_progress: bool,
) -> list[tuple[str, list[dict], str | None]]:
    """Fingerprint the sources into an index (built once, here), then cut and align every
    derivative against it (the index reaches each worker once)."""
    from .index import build_index, save_index

    fps = engine.map(
        _source_fingerprint,
        [(s.path, cache / "fingerprints") for s in sources],
        desc="fingerprint sources",
        show_progress=show_progress,
    )
    index = build_index({s.video_id: fp for s, fp in zip(sources, fps, strict=True)})
    save_index(index, cache / "index" / index.digest())
    return engine.map(
        _align_one,
        [(d, cache, config.shots) for d in derivs],
        shared=index,
        desc="align derivatives",
        show_progress=show_progress,
    )


class _Vote(NamedTuple):
    """The fields of a match row that voting reads (see :class:`.voting.ReusedSpan`)."""

    derivative_id: str
    source_id: str
    source_start: float
    source_end: float


def _rows(
    s: SourceEntry,
    duration: float,
    votes: np.ndarray,
    labels: np.ndarray,
    coverage: dict[str, np.ndarray],
    config: BuildConfig,
) -> list[dict[str, Any]]:
    """The dataset rows of one source: the whole source, or one per window.

    ``coverage`` maps each voting derivative to the clips it votes for.
    """
    scores = vote_scores(votes)
    rows = []
    for k, (start, end) in enumerate(windows(duration, config.window)):
        a = round(start / 2)
        b = a + num_clips(end - start)
        vid = s.video_id if config.window is None else f"{s.video_id}_w{k:04d}"
        rows.append(
            {
                "video_id": vid,
                "source_id": s.video_id,
                "title": s.title,
                "genre": s.genre,
                "start": start,
                "end": end,
                "duration": end - start,
                "num_clips": b - a,
                "votes": votes[a:b].tolist(),
                "scores": scores[a:b].tolist(),
                "labels": labels[a:b].astype(int).tolist(),
                "categories": None,
                "video_label": video_label(labels[a:b], config.rule),
                "num_derivatives": sum(bool(c[a:b].any()) for c in coverage.values()),
                "video_path": str(s.path.resolve()),
            }
        )
    return rows


def _test_rows(
    refs_path: str | Path,
    sources: list[SourceEntry],
    durations: dict[str, float],
    votes: dict[str, np.ndarray],
    coverage: dict[str, dict[str, np.ndarray]],
    config: BuildConfig,
) -> list[dict[str, Any]]:
    """Test rows: human labels of whole sources (votes kept alongside for comparison)."""
    from ..data.references import load_references

    by_id = {s.video_id: s for s in sources}
    rows = []
    for ref in load_references(refs_path):
        s = by_id.get(ref.video_id)
        if s is None:
            raise BuildError(f"{refs_path}: video {ref.video_id!r} is not a readable source")
        if ref.num_clips != num_clips(durations[s.video_id]):
            raise BuildError(
                f"{refs_path}: video {ref.video_id!r} has {ref.num_clips} labels, "
                f"its source has {num_clips(durations[s.video_id])} clips"
            )
        test_cfg = replace(config, window=None)
        row = _rows(
            s, durations[s.video_id], votes[s.video_id], ref.labels, coverage[s.video_id], test_cfg
        )[0]
        row["genre"] = ref.genre or s.genre
        row["categories"] = list(ref.categories) if ref.categories else None
        rows.append(row)
    return rows


def _filter_titles(
    derivs: list[DerivativeEntry],
    sources: list[SourceEntry],
    config: BuildConfig,
    cache: Path | None = None,
) -> tuple[list[DerivativeEntry], list[dict[str, Any]]]:
    """Keep derivatives whose title is about at least one source."""
    if config.title_filter == "none" or not derivs:
        return derivs, []
    from .titles import get_title_filter, llm_complete

    kwargs: dict[str, Any] = {}
    client = None
    if config.title_threshold is not None:
        kwargs["threshold"] = config.title_threshold
    if config.title_filter == "llm":
        from ..llm.registry import get_llm

        calls = cache / "llm-calls.jsonl" if cache is not None else None
        client = get_llm(config.llm or "", timeout=config.llm_timeout, cache=calls)
        # an unusable answer keeps its batch (the reason says why); a dead server stops
        kwargs.update(complete=llm_complete(client), on_error="keep")
    filt = get_title_filter(config.title_filter, **kwargs)
    titles = [d.title for d in derivs]
    best: list[Any] = [None] * len(derivs)
    best_source: list[str] = [""] * len(derivs)
    try:
        for s in sources:
            for i, dec in enumerate(filt.decide(titles, s.context())):
                if best[i] is None or dec.score > best[i].score:
                    best[i], best_source[i] = dec, s.video_id
    finally:
        if client is not None:
            client.close()
    decisions = [
        {
            "clip_id": d.clip_id,
            "title": d.title,
            "score": None if math.isnan(b.score) else round(float(b.score), 4),
            "keep": bool(b.keep),
            "closest_source": src,
            "reason": b.reason,
        }
        for d, b, src in zip(derivs, best, best_source, strict=True)
    ]
    kept = [d for d, b in zip(derivs, best, strict=True) if b.keep]
    return kept, decisions


STATUSES = (
    "matched",
    "matched_off_topic_title",
    "dropped_by_title",
    "no_match",
    "alignment_failed",
    "unreadable",
    "too_long",
)
"""What became of a derivative, as the build report says it (one status each)."""


def _statuses(report: dict[str, Any], voters: set[str]) -> dict[str, str]:
    """``{clip_id: status}`` of the derivatives that reached matching, from the report's
    lists (unreadable and too long ones never get there; see :data:`STATUSES`)."""
    status = {c: "matched" for c in voters}
    for c in report["matched_off_topic_title"]:
        status[c] = "matched_off_topic_title"
    for c in report["dropped_by_title"]:
        status[c] = "dropped_by_title"
    for c in report["no_match"]:
        status.setdefault(c, "no_match")
    for f in report["alignment_failed"]:
        status[f["id"]] = "alignment_failed"
    return status


def _derivative_lines(
    derivs: list[DerivativeEntry],
    status: dict[str, str],
    best: dict[str, float],
    decisions: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """One audit line per derivative that reached matching: status, best match, title."""
    lines = []
    for d in derivs:
        dec = decisions.get(d.clip_id, {})
        lines.append(
            {
                "clip_id": d.clip_id,
                "status": status.get(d.clip_id, "no_match"),
                "best_confidence": round(best.get(d.clip_id, 0.0), 4),
                "title": d.title,
                "title_score": dec.get("score"),
                "title_on_topic": dec.get("keep"),
            }
        )
    return lines


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The build report on one screen: what became of the derivatives, and the labels."""
    c = report["counts"]
    lines = [
        f"sources {c['sources']}, derivatives {c['derivatives']}:",
        f"  matched and voting          {c['derivatives_voting']:6d}"
        f"   (of which title off-topic: {c['matched_off_topic_title']})",
        f"  dropped by title            {c['dropped_by_title']:6d}",
        f"  no match                    {c['no_match']:6d}",
        f"  alignment failed            {c['alignment_failed']:6d}",
        f"  unreadable                  {c['unreadable']:6d}",
        f"  longer than every source    {c['too_long']:6d}",
        f"matches {c['matches']}, rows {c['rows']}, highlight clips "
        f"{c['positive_clips']}/{c['clips']}",
    ]
    audit = report.get("matched_off_topic_title") or []
    if audit:
        shown = ", ".join(audit[:5]) + (" ..." if len(audit) > 5 else "")
        lines.append(f"matched with an off-topic title (kept; check the filter): {shown}")
    if report.get("skipped_rows"):
        lines.append(f"manifest rows skipped: {len(report['skipped_rows'])}")
    return lines
