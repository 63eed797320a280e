"""Title filter: how well the embedding filter keeps re-uploads and drops off-topic videos.

Scores every labelled (source, title) pair of ``tests/build/data/titles/`` with the shipped
all-MiniLM-L6-v2, once against the source's title and genre only (the old filter) and once
against its whole context (title, aliases, genre, synopsis, characters, keywords: the filter
as it ships), plus a few other scoring rules for comparison. Each film's on-topic titles are
also negatives for the other films of its half. The threshold is chosen on the calibration
half (the films in CALIBRATION: best F1 of keep decisions, ties to the lower threshold) and
graded on the held-out half (the other films), so it is not graded on the data it was chosen
on.

    python benchmarks/bench_titles.py [--markdown PATH] [--json PATH] [--data DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

from tvhighlights.build.manifest import read_source_contexts
from tvhighlights.build.titles import DEFAULT_EMBEDDING_THRESHOLD, EmbeddingTitleFilter
from tvhighlights.build.titles import SourceContext as Ctx
from tvhighlights.fileio import read_jsonl_objects, write_json

DATA = Path(__file__).resolve().parents[1] / "tests" / "build" / "data" / "titles"
CALIBRATION = ("bbb", "sintel", "notld", "cosmos")
"""Films whose pairs choose the threshold; the others are held out to grade it."""
OLD_THRESHOLD = 0.35
"""The threshold the title-only filter shipped with before issue #11."""
THRESHOLDS = np.round(np.arange(0.15, 0.601, 0.025), 3)
ISSUE_TITLES = (  # issue #11: real re-uploads of Big Buck Bunny the old filter vetoed
    "The three bullies show up (mirrored)",
    "Forest chase in two parts #fyp",
    "Butterfly moment (reposted)",
    "Sped up squirrel trouble",
    "Reaction cam: the flower scene",
    "Three best moments",
)


class Pair(NamedTuple):
    """One labelled (source, title) pair."""

    source: str
    title: str
    on: bool
    lang: str
    names: bool
    """The title contains the source's title or an alias."""


def names_source(ctx: Ctx, title: str) -> bool:
    """Whether the title contains the source's title or one of its aliases."""
    t = title.casefold()
    return any(n.casefold() in t for n in (ctx.title, *ctx.aliases))


def load(data: Path) -> tuple[dict[str, Ctx], dict[str, list[Pair]]]:
    """Contexts by film, and each half's pairs (explicit lines + cross-film negatives)."""
    contexts, problems = read_source_contexts(data / "sources.jsonl")
    rows, bad = read_jsonl_objects(data / "labelled_titles.jsonl")
    if problems or bad:
        raise SystemExit("\n".join(problems + bad))
    explicit = []
    for line, r in rows:
        if r.get("source") not in contexts or not isinstance(r.get("on_topic"), bool):
            raise SystemExit(f"labelled_titles.jsonl line {line}: bad source or on_topic: {r}")
        ctx = contexts[r["source"]]
        names = names_source(ctx, r["title"])
        explicit.append(Pair(r["source"], r["title"], r["on_topic"], r.get("lang", "?"), names))
    halves: dict[str, list[Pair]] = {}
    for half in ("calibration", "held-out"):
        films = [f for f in contexts if (f in CALIBRATION) == (half == "calibration")]
        pairs = [p for p in explicit if p.source in films]
        for f in films:  # the other films' re-uploads are off topic for this film
            pairs += [
                Pair(f, p.title, False, p.lang, False)
                for p in explicit
                if p.on and p.source in films and p.source != f
            ]
        halves[half] = pairs
    return contexts, halves


# --------------------------------------------------------------------------------------------
# Scoring rules: each maps (filter, context, titles) to one score per title


def rule_title_only(f: EmbeddingTitleFilter, ctx: Ctx, titles: list[str]) -> np.ndarray:
    """The old filter: max over the title and ``"title (genre)"``."""
    return f.score(titles, Ctx(ctx.title, genre=ctx.genre))


def rule_context(f: EmbeddingTitleFilter, ctx: Ctx, titles: list[str]) -> np.ndarray:
    """The filter as it ships: max over :meth:`SourceContext.pieces`."""
    return f.score(titles, ctx)


def rule_joined(f: EmbeddingTitleFilter, ctx: Ctx, titles: list[str]) -> np.ndarray:
    """One query: the whole context as one text."""
    q = f.encode([ctx.text().replace("\n", ". ")])
    return (f.encode(titles) @ q.T)[:, 0]


def rule_title_or_joined(f: EmbeddingTitleFilter, ctx: Ctx, titles: list[str]) -> np.ndarray:
    """Max of the old score and the one-text context."""
    return np.maximum(rule_title_only(f, ctx, titles), rule_joined(f, ctx, titles))


def rule_each_item(f: EmbeddingTitleFilter, ctx: Ctx, titles: list[str]) -> np.ndarray:
    """Max over the pieces plus every character and keyword on its own."""
    pieces = ctx.pieces() + list(ctx.characters) + list(ctx.keywords)
    return (f.encode(titles) @ f.encode(pieces).T).max(axis=1)


def rule_top2_mean(f: EmbeddingTitleFilter, ctx: Ctx, titles: list[str]) -> np.ndarray:
    """Mean of the two best pieces."""
    sims, _ = f.similarities(titles, ctx)
    return np.sort(sims, axis=1)[:, -2:].mean(axis=1)


RULES: dict[str, Callable[[EmbeddingTitleFilter, Ctx, list[str]], np.ndarray]] = {
    "title+genre (old)": rule_title_only,
    "context pieces, max (ships)": rule_context,
    "context as one text": rule_joined,
    "max(old, one text)": rule_title_or_joined,
    "pieces + each name/keyword": rule_each_item,
    "mean of best 2 pieces": rule_top2_mean,
}
SHIPPED, OLD = "context pieces, max (ships)", "title+genre (old)"


def scores_of(
    f: EmbeddingTitleFilter, rule: Callable[..., np.ndarray], contexts: dict[str, Ctx], pairs
) -> np.ndarray:
    out = np.zeros(len(pairs))
    for film, ctx in contexts.items():
        idx = [i for i, p in enumerate(pairs) if p.source == film]
        if idx:
            out[idx] = rule(f, ctx, [pairs[i].title for i in idx])
    return out


def prf(scores: np.ndarray, labels: np.ndarray, thr: float) -> tuple[float, float, float]:
    keep = scores >= thr
    tp = int((keep & labels).sum())
    p = tp / max(int(keep.sum()), 1)
    r = tp / max(int(labels.sum()), 1)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def choose(scores: np.ndarray, labels: np.ndarray) -> float:
    """Best F1 on the grid; ties go to the lower threshold (a dropped re-upload is lost)."""
    f1 = [prf(scores, labels, t)[2] for t in THRESHOLDS]
    return float(THRESHOLDS[int(np.argmax(f1))])


def bootstrap_choice(
    scores: np.ndarray, labels: np.ndarray, n: int = 500, seed: int = 0
) -> np.ndarray:
    """The threshold :func:`choose` picks on ``n`` resamplings (with replacement) of the pairs:
    how firmly the calibration half pins it down."""
    rng = np.random.default_rng(seed)
    picks = []
    for _ in range(n):
        i = rng.integers(0, len(scores), len(scores))
        picks.append(choose(scores[i], labels[i]))
    return np.array(picks)


# --------------------------------------------------------------------------------------------


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--markdown", type=Path, help="write the tables as Markdown here")
    ap.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = ap.parse_args()
    machine = print_machine()
    contexts, halves = load(args.data)
    f = EmbeddingTitleFilter()
    y = {h: np.array([p.on for p in ps]) for h, ps in halves.items()}
    for h, ps in halves.items():
        films = sorted({p.source for p in ps})
        print(
            f"{h}: {len(ps)} pairs, {int(y[h].sum())} on topic "
            f"({sum(p.on and not p.names for p in ps)} not naming the film), films {films}"
        )
    md: list[str] = [
        "## Title filter (`python benchmarks/bench_titles.py`)",
        "",
        "machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()),
        "",
    ]

    # rules, threshold-free and at their own calibrated threshold
    s = {
        (name, h): scores_of(f, rule, contexts, halves[h])
        for name, rule in RULES.items()
        for h in halves
    }
    rule_rows = []
    for name in RULES:
        thr = choose(s[name, "calibration"], y["calibration"])
        row: list[Any] = [name]
        for h in halves:
            row += [
                f"{roc_auc_score(y[h], s[name, h]):.3f}",
                f"{average_precision_score(y[h], s[name, h]):.3f}",
            ]
        row += [
            f"{thr:.3f}",
            "{:.2f} / {:.2f} / {:.2f}".format(*prf(s[name, "held-out"], y["held-out"], thr)),
        ]
        rule_rows.append(row)
    header = [
        "rule",
        "ROC AUC cal",
        "AP cal",
        "ROC AUC held",
        "AP held",
        "thr (cal)",
        "held-out P / R / F1",
    ]
    print("\nscoring rules (threshold chosen on calibration, graded on held-out):")
    print(md_table(header, rule_rows))
    md += ["### Scoring rules", "", md_table(header, rule_rows), ""]

    # the sweep, with and without context
    chosen = choose(s[SHIPPED, "calibration"], y["calibration"])
    sweep_rows = []
    for t in THRESHOLDS:
        row = [f"{t:.3f}" + (" ←" if t == chosen else "")]
        for name in (OLD, SHIPPED):
            for h in halves:
                row.append("{:.2f} / {:.2f} / {:.2f}".format(*prf(s[name, h], y[h], t)))
        sweep_rows.append(row)
    header = [
        "threshold",
        "old cal P/R/F1",
        "old held P/R/F1",
        "context cal P/R/F1",
        "context held P/R/F1",
    ]
    print("\nkeep decisions by threshold (old = title+genre only; context = as shipped):")
    print(md_table(header, sweep_rows))
    md += ["### Keep decisions by threshold", "", md_table(header, sweep_rows), ""]
    boot = bootstrap_choice(s[SHIPPED, "calibration"], y["calibration"])
    lo, med, hi = np.percentile(boot, [5, 50, 95])
    print(
        f"\nchosen threshold (best F1 on calibration, context rule): {chosen:.3f}; "
        f"over 500 bootstrap resamplings of the calibration pairs: median {med:.3f}, "
        f"5-95% {lo:.3f}-{hi:.3f}"
    )
    md += [
        f"Chosen threshold (best F1 on the calibration half, context rule): **{chosen:.3f}**; "
        f"bootstrap of the calibration pairs (500): median {med:.3f}, 5-95% {lo:.3f}-{hi:.3f}.",
        "",
    ]

    # breakdown at the chosen threshold
    summary: dict[str, Any] = {
        "machine": machine,
        "threshold": chosen,
        "bootstrap_threshold_5_50_95": [lo, med, hi],
        "halves": {},
    }
    groups = [
        ("names the film", lambda p: p.names),
        ("does not name it", lambda p: not p.names),
        ("English", lambda p: p.lang == "en"),
        ("other languages", lambda p: p.lang != "en"),
    ]
    bd_rows = []
    for h in halves:
        summary["halves"][h] = {}
        runs = [(OLD, OLD_THRESHOLD), (OLD, chosen), (SHIPPED, chosen)]
        if chosen != DEFAULT_EMBEDDING_THRESHOLD:
            runs.append((SHIPPED, DEFAULT_EMBEDDING_THRESHOLD))
        for name, thr in runs:
            p, r, f1 = prf(s[name, h], y[h], thr)
            cells = [h, name, f"{thr:.3f}", f"{p:.2f}", f"{r:.2f}", f"{f1:.2f}"]
            for _, pred in groups:
                m = np.array([q.on and pred(q) for q in halves[h]])
                cells.append(f"{(s[name, h][m] >= thr).mean():.2f} ({int(m.sum())})")
            bd_rows.append(cells)
            summary["halves"][h][f"{name} @ {thr:.3f}"] = {"precision": p, "recall": r, "f1": f1}
    header = ["half", "rule", "thr", "P", "R", "F1", *(f"R {g}" for g, _ in groups)]
    print(f"\nat the chosen threshold (and the old filter at its old {OLD_THRESHOLD}):")
    print(md_table(header, bd_rows))
    md += ["### At the chosen threshold", "", md_table(header, bd_rows), ""]

    # errors of the shipped rule
    for h in halves:
        sc = s[SHIPPED, h]
        missed = [(sc[i], p) for i, p in enumerate(halves[h]) if p.on and sc[i] < chosen]
        kept = [(sc[i], p) for i, p in enumerate(halves[h]) if not p.on and sc[i] >= chosen]
        print(f"\n{h}: {len(missed)} on-topic titles dropped, {len(kept)} off-topic kept")
        for v, p in sorted(missed, key=lambda x: x[0]):
            print(f"  dropped {v:.3f} [{p.source}] {p.title}")
        for v, p in sorted(kept, key=lambda x: -x[0]):
            print(f"  kept    {v:.3f} [{p.source}] {p.title}")

    # the issue's titles
    bbb = contexts["bbb"]
    old = rule_title_only(f, bbb, list(ISSUE_TITLES))
    new = f.decide(list(ISSUE_TITLES), bbb)
    rows = [
        [t, f"{o:.3f}", f"{d.score:.3f}", "keep" if d.score >= chosen else "drop"]
        for t, o, d in zip(ISSUE_TITLES, old, new, strict=True)
    ]
    header = ["issue #11 title (bbb)", "old score", "context score", f"at {chosen:.3f}"]
    print("\n" + md_table(header, rows))
    md += ["### Issue #11 titles against the Big Buck Bunny context", "", md_table(header, rows)]

    if args.markdown:
        args.markdown.write_text("\n".join(md) + "\n", encoding="utf-8")
        print(f"\nwrote {args.markdown}")
    if args.json:
        write_json(args.json, summary)


if __name__ == "__main__":
    main()
