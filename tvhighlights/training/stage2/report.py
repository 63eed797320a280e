"""The round report: one table a person reads, the same as JSON, and a plot of the metrics.

Round 0 is the starting model (stage 1, or untrained); every round adds its validation AUC /
AP (against the train split's votes), the test split's AUC / AP and Cohen's kappas against
human labels where a test split exists, how many clips the LLM labelled, how far NLC moved the
labels, the patterns HPI kept, and every failure counted (calls, unusable answers, answers out
of range, unknown genres, label collapse).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ...figures import pyplot, save_png
from ...fileio import atomic_write, write_json

__all__ = ["ROUND_COLUMNS", "plot_rounds", "round_table", "write_report"]

ROUND_COLUMNS = (
    ("round", "round"),
    ("val_clip_auc", "val AUC"),
    ("val_clip_ap", "val AP"),
    ("test_clip_auc", "test AUC"),
    ("test_clip_ap", "test AP"),
    ("test_kappa_model", "kappa model"),
    ("test_kappa_llm", "kappa Y_llm"),
    ("test_kappa_labels", "kappa Y_n"),
    ("llm_coverage", "LLM coverage"),
    ("labels_moved", "labels moved"),
    ("patterns", "patterns"),
)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}"
    return str(v)


def round_table(rounds: Sequence[dict[str, Any]]) -> str:
    """The rounds as a Markdown table (columns no round has are left out)."""
    cols = [(k, h) for k, h in ROUND_COLUMNS if any(r.get(k) is not None for r in rounds)]
    lines = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(r.get(k)) for k, _ in cols) + " |" for r in rounds]
    return "\n".join(lines)


def plot_rounds(rounds: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """AUC, AP and kappa against the round (0 = the starting model)."""
    plt = pyplot()
    xs = [r["round"] for r in rounds]

    def series(key: str) -> list[float]:
        return [float("nan") if r.get(key) is None else float(r[key]) for r in rounds]

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, keys, title in (
        (axes[0], ("val_clip_auc", "test_clip_auc"), "clip AUC, %"),
        (axes[1], ("val_clip_ap", "test_clip_ap"), "clip AP, %"),
        (
            axes[2],
            ("test_kappa_model", "test_kappa_llm", "test_kappa_labels"),
            "Cohen's kappa vs humans, %",
        ),
    ):
        for k in keys:
            ys = series(k)
            if any(not math.isnan(y) for y in ys):
                label = dict(ROUND_COLUMNS).get(k, k)
                ax.plot(xs, ys, marker="o", label=label)
        ax.set_xlabel("round (0: starting model)")
        ax.set_title(title)
        ax.set_xticks(xs)
        if ax.lines:
            ax.legend(fontsize=8)
        else:
            ax.text(0.5, 0.5, "no test split", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return save_png(fig, path, dpi=110)


def write_report(
    folder: str | Path, rounds: Sequence[dict[str, Any]], *, describer: str, llm: str, config: Any
) -> Path:
    """``report.md``, ``report.json`` and ``rounds.png`` in ``folder``; returns the Markdown."""
    folder = Path(folder)
    write_json(
        folder / "report.json",
        {"describer": describer, "llm": llm, "config": asdict(config), "rounds": list(rounds)},
    )
    plot_rounds(rounds, folder / "rounds.png")
    failures = []
    for r in rounds[1:]:
        counts = {
            **r.get("problems", {}),
            **{f"LLM {k}": v for k, v in r.get("llm", {}).get("failures", {}).items()},
        }
        calls = r.get("llm", {})
        failures.append(
            f"| {r['round']} | {calls.get('requests', 0)} | {calls.get('cached', 0)} | "
            f"{calls.get('retries', 0)} | "
            + (", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none")
            + f" | {r.get('description_failures', 0)} |"
        )
    nlc = (
        f"on (label lr {config.label_lr}, lambda_cp {config.lambda_cp}, lambda_s {config.lambda_s})"
        if config.nlc
        else "off (BCE on Y_n)"
    )
    text = f"""# Stage 2 round report

- describer: `{describer}`
- LLM: `{llm}`
- {config.rounds} round(s) of {config.epochs} epochs; NLC {nlc}; HPI {"on" if config.hpi else "off"}

Round 0 is the starting model. AUC / AP in percent: validation against the train split's
votes, test against its human labels; kappas (percent) of the model's predictions (>= 0.5),
of the LLM's scores and of the merged labels against the test split's human labels.

{round_table(rounds)}

![metrics per round](rounds.png)

## Calls and failures

| round | LLM requests | from cache | retries | problems | clips not described |
|---|---|---|---|---|---|
{chr(10).join(failures) or "| - | | | | | |"}

Patterns per round: `round-N/patterns.json`; pseudo-labels: `round-N/pseudo_labels.jsonl`.
"""
    path = folder / "report.md"
    with atomic_write(path) as f:
        f.write(text)
    return path
