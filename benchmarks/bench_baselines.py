"""Baselines on long films: scoring time per 1,000 clips as a film grows, per row.

Every feature-based row is fitted once on 30 short train videos (40 clips, the handcrafted
widths: 21 visual, 13 audio, random features), then scores one film of 1,000, 4,000 and
16,000 clips (33 min to 9 h), after one warm-up call on a short video (first-call costs:
kernels, lazy imports). The figure is the cost per 1,000 clips and its growth against the
shortest film in the same run: 1x at every length is linear in the film's length; attention
over the whole film grows with it. AV-recurrence's recurrence
(a clip's mean cosine to every clip of its pseudo-category) is also timed the naive way, with
the S x S similarity matrix, beside the library's dot with the category's mean unit vector.

    python benchmarks/bench_baselines.py [--lengths 1000,4000,16000] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine
from tvhighlights.baselines import BaselineData, BaselineVideo, fit_baseline, get_baseline
from tvhighlights.baselines.av_recurrence import mean_cosine, unit_rows

from tvhighlights.fileio import write_json

ROWS = ("random", "loudness", "motion", "av-recurrence", "av-recurrence-pseudo", "rasl",
        "rasl-av", "less-is-more", "taohighlight", "mil")  # fmt: skip
"""Rows that need no CLIP checkpoint, no titles model download and no LLM."""


def video(vid: str, n: int, rng: np.random.Generator, train: bool) -> BaselineVideo:
    visual = rng.normal(size=(n, 21)).astype(np.float32)
    audio = rng.normal(size=(n, 13)).astype(np.float32)
    labels = (rng.random(n) < 0.15).astype(np.int64)
    visual[labels == 1, :3] += 2.0
    return BaselineVideo(vid, n, {"handcrafted": {"visual": visual, "audio": audio}},
                         title=f"film {vid}", genre="drama", labels=labels if train else None,
                         votes=2 * labels if train else None,
                         video_label=int(labels.any()))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="1000,4000,16000")
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    info = print_machine()
    lengths = [int(x) for x in args.lengths.split(",")]
    rng = np.random.default_rng(0)
    train = BaselineData([video(f"t{i:02d}", 40, rng, True) for i in range(30)], "train")
    films = {n: video(f"film{n}", n, rng, False) for n in lengths}
    results: dict[str, dict] = {}
    for name in args.rows.split(","):
        if name == "mil":
            print("mil: trains through a dataset folder; timed by the leaderboard instead")
            continue
        b = get_baseline(name, **({"epochs": 2} if name not in ("random", "loudness",
                                                                 "motion") else {}))  # fmt: skip
        t0 = time.perf_counter()
        fit_baseline(b, train)
        fit = time.perf_counter() - t0
        b.score_many([video("warm", 50, np.random.default_rng(1), False)])
        per_k = {}
        for n, film in films.items():
            t0 = time.perf_counter()
            b.score_many([film])
            per_k[n] = (time.perf_counter() - t0) / n * 1000
        results[name] = {"fit_s": fit, "score_s_per_1k": per_k}
        line = "  ".join(f"{n:>6} clips {s * 1000:8.2f} ms/1k" for n, s in per_k.items())
        print(f"{name:22s} fit {fit:6.2f} s  {line}")
    print(f"\ncost per clip against the {lengths[0]}-clip film (same run):")
    for name, r in results.items():
        per = r["score_s_per_1k"]
        growth = "  ".join(f"{n:>6}: {per[n] / max(per[lengths[0]], 1e-9):5.1f}x" for n in lengths)
        print(f"{name:22s} {growth}")

    print("\nrecurrence of one category's clips with themselves (d = 34):")
    naive = {}
    for n in lengths:
        x = rng.normal(size=(n, 34)).astype(np.float32)
        u = unit_rows(x)
        t0 = time.perf_counter()
        fast = mean_cosine(x, u.sum(axis=0), n)
        t_fast = time.perf_counter() - t0
        if n <= 16000:
            t0 = time.perf_counter()
            slow = (u @ u.T).mean(axis=1)
            t_slow = time.perf_counter() - t0
            assert np.allclose(fast, slow, atol=1e-4)
        naive[n] = {"mean_vector_s": t_fast, "matrix_s": t_slow}
        print(f"  {n:>6} clips: mean-vector dot {t_fast * 1000:8.3f} ms, S x S matrix "
              f"{t_slow * 1000:9.1f} ms ({t_slow / max(t_fast, 1e-9):,.0f}x; the matrix holds "
              f"{n * n * 4 / 2**20:,.0f} MiB)")  # fmt: skip
    if args.json:
        write_json(args.json, {"machine": info, "rows": results, "recurrence": naive})


if __name__ == "__main__":
    main()
