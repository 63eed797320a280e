"""How much the annotators agree on highlight / not: pairwise Cohen's kappa and Fleiss'
kappa, over all videos and per video.

A pair is compared on the clips both decided; Fleiss' kappa (which needs every item rated by
the same raters) on the clips decided by every annotator of the scope (overall: every
annotator; per video: those who decided any of its clips). A scope with no common clip gives
``None`` ("-" in the table). The kappas are :mod:`tvhighlights.evaluation.metrics`' (percent),
equal to scikit-learn's and statsmodels'.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..evaluation.metrics import cohen_kappa, fleiss_kappa
from .store import AnnotatorDecisions, ClipKey, Decision, latest_decisions

__all__ = ["AgreementReport", "PairKappa", "ScopeAgreement", "agreement"]


@dataclass(frozen=True)
class PairKappa:
    """Cohen's kappa (percent) of two annotators on the ``clips`` both decided."""

    a: str
    b: str
    kappa: float | None
    clips: int


@dataclass
class ScopeAgreement:
    """Agreement over one scope: every video (``"all"``) or one video."""

    scope: str
    annotators: list[str]
    pairs: list[PairKappa] = field(default_factory=list)
    fleiss: float | None = None
    fleiss_clips: int = 0

    @property
    def mean_pairwise(self) -> float | None:
        ks = [p.kappa for p in self.pairs if p.kappa is not None]
        return float(np.mean(ks)) if ks else None

    def to_json(self) -> dict[str, Any]:
        return {
            "annotators": self.annotators,
            "pairs": [vars(p) for p in self.pairs],
            "mean_pairwise": self.mean_pairwise,
            "fleiss": self.fleiss,
            "fleiss_clips": self.fleiss_clips,
        }


def _fmt(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.1f}"


@dataclass
class AgreementReport:
    """Agreement overall and per video."""

    annotators: list[str]
    overall: ScopeAgreement
    videos: dict[str, ScopeAgreement]

    def matrix(self) -> np.ndarray:
        """Pairwise kappas overall, annotators x annotators (100 on the diagonal, NaN where a
        pair shares no clip)."""
        n = len(self.annotators)
        m = np.full((n, n), np.nan)
        np.fill_diagonal(m, 100.0)
        index = {a: i for i, a in enumerate(self.annotators)}
        for p in self.overall.pairs:
            if p.kappa is not None:
                m[index[p.a], index[p.b]] = m[index[p.b], index[p.a]] = p.kappa
        return m

    def to_json(self) -> dict[str, Any]:
        return {
            "annotators": self.annotators,
            "overall": self.overall.to_json(),
            "videos": {v: s.to_json() for v, s in self.videos.items()},
        }

    def to_markdown(self) -> str:
        """The pairwise table overall, then one line per video."""
        names = self.annotators
        m = self.matrix()
        lines = [
            f"Fleiss' kappa over {self.overall.fleiss_clips} clips decided by all "
            f"{len(names)} annotators: {_fmt(self.overall.fleiss)}; mean pairwise Cohen's "
            f"kappa: {_fmt(self.overall.mean_pairwise)}",
            "",
            "| Cohen's kappa | " + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|",
        ]
        for i, a in enumerate(names):
            lines.append(f"| {a} | " + " | ".join(_fmt(x) for x in m[i]) + " |")
        lines += ["", "| video | annotators | Fleiss' kappa | clips | mean pairwise |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for v, s in self.videos.items():
            lines.append(f"| {v} | {len(s.annotators)} | {_fmt(s.fleiss)} | {s.fleiss_clips} | "
                         f"{_fmt(s.mean_pairwise)} |")  # fmt: skip
        return "\n".join(lines) + "\n"

    def plot_heatmap(self, path: str | Path) -> Path:
        """A PNG of the pairwise kappas (the values written in the cells)."""
        from ..figures import pyplot, save_png

        plt = pyplot()
        m = self.matrix()
        n = len(self.annotators)
        size = 1.2 + 0.7 * n
        fig, ax = plt.subplots(figsize=(size + 1.2, size))
        im = ax.imshow(np.ma.masked_invalid(m), vmin=-20, vmax=100, cmap="viridis")
        ax.set_xticks(range(n), self.annotators, rotation=45, ha="right")
        ax.set_yticks(range(n), self.annotators)
        for i, j in itertools.product(range(n), range(n)):
            dark = not np.isfinite(m[i, j]) or m[i, j] < 60
            ax.text(j, i, _fmt(m[i, j]), ha="center", va="center",
                    color="white" if dark else "black")  # fmt: skip
        fleiss = _fmt(self.overall.fleiss)
        ax.set_title(f"Cohen's kappa (%) per pair; Fleiss' {fleiss}")
        fig.colorbar(im, ax=ax, fraction=0.046)
        fig.tight_layout()
        return save_png(fig, path)


def _scope(name: str, labels: Mapping[str, Mapping[ClipKey, int]]) -> ScopeAgreement:
    names = sorted(n for n, d in labels.items() if d)
    out = ScopeAgreement(name, names)
    for a, b in itertools.combinations(names, 2):
        common = sorted(labels[a].keys() & labels[b].keys())
        k = None
        if common:
            k = cohen_kappa([labels[a][c] for c in common], [labels[b][c] for c in common])
        out.pairs.append(PairKappa(a, b, k, len(common)))
    if len(names) >= 2:
        shared = set.intersection(*(set(labels[n]) for n in names))
        if shared:
            keys = sorted(shared)
            table = np.array([[labels[n][k] for n in names] for k in keys])
            out.fleiss, out.fleiss_clips = fleiss_kappa(table), len(keys)
    return out


def agreement(
    decisions: Mapping[str, AnnotatorDecisions | Mapping[ClipKey, Decision]],
) -> AgreementReport:
    """Agreement on highlight / not between the annotators' last decisions."""
    labels = {n: {k: int(d.highlight) for k, d in latest_decisions(v).items()}
              for n, v in decisions.items()}  # fmt: skip
    by_video: dict[str, dict[str, dict[ClipKey, int]]] = {}
    for n, d in labels.items():
        for k, x in d.items():
            by_video.setdefault(k[0], {m: {} for m in labels})[n][k] = x
    per_video = {v: _scope(v, by_video[v]) for v in sorted(by_video)}
    overall = _scope("all", labels)
    return AgreementReport(sorted(decisions), overall, per_video)
