"""Every baseline and model fitted, scored and evaluated on the same clips by the same scorer.

:func:`run_leaderboard` fits each row on the train split, scores the test split, writes the
submission (``submissions/<row>.jsonl``, the file ``tvhighlights eval`` reads) and scores it
with :func:`tvhighlights.evaluation.report.evaluate_submissions`, so a row here and ``eval`` on
its file agree to the digit. It writes ``leaderboard.md`` (the table, per-category where the
test split has categories, and the papers' own figures, quoted apart), ``leaderboard.json`` and
``leaderboard.png`` (a bar chart). A row that cannot run (a modality it needs, an unreachable
LLM server) is kept with the reason and the rest goes on. Each finished row is saved in
``rows/<row>.json``; a rerun with the same inputs and settings reuses it (``restart`` does not).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import platform
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tvhighlights.errors import InvalidArgumentError, TVHighlightsError
from tvhighlights.evaluation.report import evaluate_submissions, percent_text, to_markdown
from tvhighlights.evaluation.submission import write_submission
from tvhighlights.fileio import atomic_write, write_json

from . import REGISTRY, fit_baseline, get_baseline, resolve_names, score_data
from .base import Baseline, BaselineData
from .data import load_baseline_data

logger = logging.getLogger(__name__)

__all__ = ["Leaderboard", "LeaderboardRow", "parse_options", "run_leaderboard"]


@dataclass
class LeaderboardRow:
    """One method's outcome."""

    name: str
    group: str
    description: str
    status: str
    """``ok``, or ``skipped`` (``reason`` says why)."""
    reason: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    """What ``tvhighlights eval`` gives for the row's submission (percent)."""
    fit_seconds: float | None = None
    score_seconds: float | None = None
    score_seconds_per_1k_clips: float | None = None
    submission: str | None = None
    problems: dict[str, int] = field(default_factory=dict)
    paper: str = ""
    paper_figures: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Leaderboard:
    rows: list[LeaderboardRow]
    out: Path
    info: dict[str, Any]

    def row(self, name: str) -> LeaderboardRow:
        return next(r for r in self.rows if r.name == name)

    def to_markdown(self) -> str:
        return leaderboard_markdown(self.rows, self.info)


def parse_options(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``NAME.KEY=VALUE`` strings -> ``{NAME: {KEY: VALUE}}`` (``*.KEY`` for every row whose
    class takes ``KEY``); values are JSON where they parse (``2``, ``true``, ``[1, 2]``),
    else strings."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        head, eq, value = item.partition("=")
        name, dot, key = head.partition(".")
        if not eq or not dot or not name or not key:
            raise InvalidArgumentError(
                f"option {item!r}: write NAME.KEY=VALUE (e.g. mil.epochs=5, *.epochs=2)",
                param="option",
            )
        if name != "*" and name not in REGISTRY:
            raise InvalidArgumentError(
                f"option {item!r}: no baseline {name!r} (available: {', '.join(REGISTRY)})",
                param="option",
            )
        try:
            parsed: Any = json.loads(value)
        except ValueError:
            parsed = value
        out.setdefault(name, {})[key.replace("-", "_")] = parsed
    return out


def _accepts(name: str, key: str) -> bool:
    import importlib

    spec = REGISTRY[name]
    cls = getattr(importlib.import_module(f"{__package__}.{spec.module}"), spec.cls)
    params = inspect.signature(cls.__init__).parameters
    return key in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _row_options(name: str, options: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    mine = dict(options.get(name, {}))
    for key, value in options.get("*", {}).items():
        if key not in mine and _accepts(name, key):
            mine[key] = value
    return mine


def _inputs_key(dataset: Path, features: Path, test: BaselineData, split: str) -> str:
    parts = [str(dataset.resolve()), str(features.resolve()), split]
    for p in [*sorted(dataset.rglob("*.parquet")), features / "index.json"]:
        if p.exists():
            st = p.stat()
            parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    parts += [f"{v.video_id}:{v.num_clips}" for v in test.videos]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def run_leaderboard(
    dataset: str | Path,
    features: str | Path,
    out: str | Path,
    *,
    baselines: Sequence[str] | str = "all",
    exclude: Sequence[str] | str = (),
    models: Sequence[str | Path] = (),
    options: Mapping[str, Mapping[str, Any]] | None = None,
    split: str = "test",
    extractors: Sequence[str] | None = None,
    restart: bool = False,
    show_progress: bool = False,
) -> Leaderboard:
    """Fit, score and evaluate every named baseline but those in ``exclude`` (and every saved
    LTV-HD in ``models``) on ``dataset``'s ``split``; write the table, the JSON and the chart
    into ``out``. ``options`` are ``{row: {key: value}}`` (``"*"``: every row taking ``key``)."""
    dataset, features, out = Path(dataset), Path(features), Path(out)
    names = resolve_names(baselines) if baselines else []
    items = [exclude] if isinstance(exclude, str) else list(exclude)
    if any(e.strip() for e in items):  # an empty list is nothing left out, never "all"
        left_out = set(resolve_names(items))
        names = [n for n in names if n not in left_out]
    options = dict(options or {})
    train = load_baseline_data(dataset, features, "train", extractors)
    test = load_baseline_data(dataset, features, split, extractors)
    inputs = _inputs_key(dataset, features, test, split)
    (out / "submissions").mkdir(parents=True, exist_ok=True)
    (out / "rows").mkdir(parents=True, exist_ok=True)
    plan: list[tuple[str, str, str, dict[str, Any], Any]] = []
    for name in names:
        spec = REGISTRY[name]
        plan.append((name, spec.group, spec.description, _row_options(name, options), None))
    for m in models:
        label = f"ltvhd:{Path(m).name}"
        plan.append((label, "LTV-HD", f"trained LTV-HD model {m}", {"model": str(m)}, m))
    rows = []
    for name, group, description, opts, model in plan:
        saved = out / "rows" / f"{_safe(name)}.json"
        fingerprint = {"inputs": inputs, "options": _jsonable(opts), "code": _code_key(name, model)}
        if not restart and saved.is_file():
            try:
                old = json.loads(saved.read_text(encoding="utf-8"))
            except ValueError:
                old = {}
            if old.get("fingerprint") == fingerprint and old.get("row", {}).get("status") == "ok":
                logger.info("%s: reusing %s", name, saved)
                rows.append(LeaderboardRow(**old["row"]))
                continue
        row = _run_row(name, group, description, opts, model, train, test, out, dataset, split,
                       show_progress)  # fmt: skip
        write_json(saved, {"fingerprint": fingerprint, "row": asdict(row)})
        rows.append(row)
    info = {
        "dataset": str(dataset),
        "features": str(features),
        "split": split,
        "train_videos": len(train),
        "train_clips": train.num_clips,
        "test_videos": len(test),
        "test_clips": test.num_clips,
        "test_positive_clips": sum(
            int(v.labels.sum()) for v in test.videos if v.labels is not None
        ),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip()
        + f", python {platform.python_version()}",
        "cpu": _cpu_name(),
    }
    board = Leaderboard(rows, out, info)
    with atomic_write(out / "leaderboard.md", "w") as fh:
        fh.write(board.to_markdown() + "\n")
    write_json(out / "leaderboard.json", {"info": info, "rows": [asdict(r) for r in rows]})
    plot_leaderboard(rows, out / "leaderboard.png")
    return board


def _run_row(name, group, description, opts, model, train, test, out, dataset, split,
             show_progress) -> LeaderboardRow:  # fmt: skip
    row = LeaderboardRow(name, group, description, "ok", options=_jsonable(opts))
    try:
        if model is not None:
            from .mil import LTVHDBaseline

            baseline: Baseline = LTVHDBaseline(model)
            baseline.name = name
        else:
            baseline = get_baseline(name, **opts)
        row.paper = baseline.paper
        row.paper_figures = [asdict(f) for f in baseline.paper_figures]
        t0 = time.perf_counter()
        work = out / "work" / _safe(name)
        if work.exists():  # a row run again fits afresh (a trainer would resume the old fit)
            keep = work / "llm-calls.jsonl"  # the LLM's answers stay: asking again costs hours
            for p in work.iterdir():
                if p != keep:
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
        fit_baseline(baseline, train, work_dir=work, show_progress=show_progress)
        row.fit_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = score_data(baseline, test, show_progress=show_progress)
        row.score_seconds = time.perf_counter() - t0
        row.score_seconds_per_1k_clips = row.score_seconds / max(test.num_clips, 1) * 1000
        row.problems = {k: int(v) for k, v in dict(getattr(baseline, "problems", {})).items()}
        sub = out / "submissions" / f"{_safe(name)}.jsonl"
        write_submission(sub, scores)
        row.submission = str(sub)
        row.metrics = evaluate_submissions([sub], dataset, split=split)[sub.stem]
    except TVHighlightsError as e:
        row.status, row.reason = "skipped", str(e)
        logger.warning("%s skipped: %s", name, e)
    return row


def _code_key(name: str, model: str | Path | None) -> str:
    """What else a saved row depends on: the package version and the row's module source (a
    new release or an edited module runs the row again), or the model folder's files."""
    import importlib

    from tvhighlights import __version__

    parts = [__version__]
    if model is not None:
        parts += [f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                  for p in sorted(Path(model).glob("*")) if p.is_file()]  # fmt: skip
        module = "mil"
    else:
        module = REGISTRY[name].module
    for m in (module, "base", "data"):
        src = inspect.getsourcefile(importlib.import_module(f"{__package__}.{m}"))
        parts.append(hashlib.sha256(Path(src).read_bytes()).hexdigest() if src else m)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _jsonable(d: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(dict(d), default=str))


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _secs(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def leaderboard_markdown(rows: Sequence[LeaderboardRow], info: Mapping[str, Any]) -> str:
    """The table (rows in registry order), per category, and the papers' figures apart."""
    headers = ["method", "group", "AUC (pooled)", "AP (pooled)", "AUC (video mean)",
               "AP (video mean)", "fit s", "score s / 1k clips", "notes"]  # fmt: skip
    body = []
    for r in rows:
        m = r.metrics
        notes = (
            r.reason if r.status != "ok" else ", ".join(f"{k}: {v}" for k, v in r.problems.items())
        )
        notes = " ".join(notes.split()).replace("|", "/")
        metrics = [percent_text(m.get(k)) for k in ("pooled_auc", "pooled_ap", "video_auc",
                                                     "video_ap")]  # fmt: skip
        skipped = "skipped: " if r.status != "ok" else ""
        body.append([r.name, r.group, *metrics, _secs(r.fit_seconds),
                     _secs(r.score_seconds_per_1k_clips), (skipped + notes)[:300]])  # fmt: skip
    lines = [
        f"Test split `{info.get('split')}` of `{info.get('dataset')}`: "
        f"{info.get('test_videos')} videos, {info.get('test_clips')} clips "
        f"({info.get('test_positive_clips')} highlights); fitted on {info.get('train_videos')} "
        f"train videos ({info.get('train_clips')} clips). Metrics in percent, scored by "
        f"`tvhighlights eval`; times on {info.get('cpu')} ({info.get('machine')}).",
        "",
        to_markdown(headers, body),
    ]
    cats = [(r.name, c, g) for r in rows for c, g in (r.metrics.get("per_category") or {}).items()]
    if len({c for _, c, _ in cats}) > 1:
        lines += ["", "Per category (AUC / AP pooled over the category's clips and the "
                  "negatives):", ""]  # fmt: skip
        by_cat = [[n, c, percent_text(g.get("pooled_auc")), percent_text(g.get("pooled_ap"))]
                  for n, c, g in cats]  # fmt: skip
        lines.append(to_markdown(["method", "category", "AUC (pooled)", "AP (pooled)"], by_cat))
    quoted: dict[tuple, list[str]] = {}
    for r in rows:  # one line per figure, naming every row of the method it stands beside
        for f in r.paper_figures:
            key = (r.group, f["dataset"], f["metric"], f["value"], f["source"])
            quoted.setdefault(key, []).append(r.name)
    if quoted:
        lines += ["", "**The papers' own figures, on their own datasets (not ours, not "
                  "comparable with the table above):**", ""]  # fmt: skip
        lines.append(to_markdown(["method", "beside our rows", "dataset", "metric", "value",
                                  "source"],
                                 [[g, ", ".join(names), d, m, f"{v:.2f}", src]
                                  for (g, d, m, v, src), names in quoted.items()]))  # fmt: skip
    return "\n".join(lines)


def plot_leaderboard(rows: Sequence[LeaderboardRow], path: str | Path) -> Path:
    """Horizontal bars of pooled AUC and AP per row that ran, the random row's as lines."""
    from tvhighlights.figures import pyplot, save_png

    plt = pyplot()
    ok = [r for r in rows if r.status == "ok" and r.metrics]
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(ok), 2) + 1.2), layout="constrained")
    y = list(range(len(ok)))
    auc = [r.metrics.get("pooled_auc") or 0 for r in ok]
    ap = [r.metrics.get("pooled_ap") or 0 for r in ok]
    ax.barh([i + 0.2 for i in y], auc, height=0.4, label="AUC (pooled)", color="#4C72B0")
    ax.barh([i - 0.2 for i in y], ap, height=0.4, label="AP (pooled)", color="#DD8452")
    for r in ok:
        if r.name == "random":
            ax.axvline(r.metrics.get("pooled_auc") or 0, color="#4C72B0", ls="--", lw=0.8)
            ax.axvline(r.metrics.get("pooled_ap") or 0, color="#DD8452", ls="--", lw=0.8)
    ax.set_yticks(y, [r.name for r in ok])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("percent (dashed: random)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("TVHighlights leaderboard (test split)")
    return save_png(fig, path, dpi=110)
