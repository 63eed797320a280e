"""Scoring speed: a 10,000-video submission of 300 clips each, end to end.

Times `evaluate_submission` (parse + validate references and submission, then the metrics),
each stage separately, and two baselines in the same run: the bare `json.loads` of every line
of the submission (the floor of any JSONL scorer) and per-video scikit-learn calls on a
sample of videos, extrapolated. Goal: < 2 s end to end.

    python benchmarks/bench_scoring.py [--videos 10000] [--clips 300] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

from tvhighlights.evaluation.metrics import clip_auc_ap
from tvhighlights.evaluation.submission import (
    evaluate_submission,
    load_references,
    load_submission,
)
from tvhighlights.fileio import write_json


def make_files(folder: Path, n_videos: int, n_clips: int, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    refs, sub = folder / "refs.jsonl", folder / "sub.jsonl"
    with refs.open("w") as fr, sub.open("w") as fs:
        for v in range(n_videos):
            labels = (rng.random(n_clips) < 0.15).astype(int)
            scores = np.round(labels * 0.3 + rng.random(n_clips), 4)
            fr.write(json.dumps({"video_id": f"v{v:05d}", "labels": labels.tolist()}) + "\n")
            fs.write(json.dumps({"video_id": f"v{v:05d}", "scores": scores.tolist()}) + "\n")
    return refs, sub


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=10_000)
    ap.add_argument("--clips", type=int, default=300)
    ap.add_argument("--sklearn-sample", type=int, default=500)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    machine = print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        refs_path, sub_path = make_files(Path(tmp), args.videos, args.clips)
        size_mb = sub_path.stat().st_size / 1e6
        # warm the page cache so every stage reads from memory
        sub_path.read_bytes()
        refs_path.read_bytes()

        _, t_floor = timed(lambda: [json.loads(x) for x in sub_path.read_text().splitlines()])
        result, t_total = timed(evaluate_submission, sub_path, refs_path)
        refs, t_refs = timed(load_references, refs_path)
        sub, t_sub = timed(load_submission, sub_path, refs)
        labels = [r.labels for r in refs]
        scores = [sub[r.video_id] for r in refs]
        _, t_metrics = timed(clip_auc_ap, labels, scores)

        k = min(args.sklearn_sample, args.videos)
        t0 = time.perf_counter()
        for y, s in zip(labels[:k], scores[:k], strict=True):
            roc_auc_score(y, s)
            average_precision_score(y, s)
        t_sk = (time.perf_counter() - t0) * args.videos / k

    figures = {
        "videos": args.videos,
        "clips_per_video": args.clips,
        "submission_mb": round(size_mb, 1),
        "end_to_end_s": round(t_total, 3),
        "parse_references_s": round(t_refs, 3),
        "parse_submission_s": round(t_sub, 3),
        "metrics_s": round(t_metrics, 3),
        "floor_json_loads_s": round(t_floor, 3),
        "end_to_end_over_floor": round(t_total / t_floor, 2),
        "sklearn_per_video_metrics_s_extrapolated": round(t_sk, 2),
        "metrics_speedup_over_sklearn": round(t_sk / t_metrics, 1),
        "pooled_auc": round(result["pooled_auc"], 3),
    }
    print(f"scoring {args.videos} videos x {args.clips} clips ({size_mb:.1f} MB submission)")
    for key, value in figures.items():
        print(f"  {key}: {value}")
    print(f"goal < 2 s end to end: {'met' if t_total < 2 else 'NOT met'}")
    if args.json:
        write_json(args.json, {"machine": machine, "figures": figures})


if __name__ == "__main__":
    main()
