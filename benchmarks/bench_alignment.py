"""Recall and precision of reused 2-second source clips: our alignment vs. vPDQ and naive pHash.

Truth: a source clip counts as reused when at least 1.5 s of it is reused, as not reused when
none of it is; clips in between are ignored. Prediction: a clip is reused when the union of the
matched source spans covers at least ``--min-overlap`` seconds of it (the dataset's voting
rule). Evaluated on the real Big Buck Bunny trailer against the film, and on simulated
derivatives of every transformation family (``tvhighlights.build.simulate``), pooled per family.

Baselines in the same run: vPDQ (Meta's video PDQ, ``pip install vpdq``; skipped with a note
when it is not installed) at 1 and 2 fps with its own frame-pair matching, and a naive
per-frame pHash (``imagehash.phash``, best match per frame, no temporal model).

    python benchmarks/bench_alignment.py [--per-family 5] [--sim-dir DIR] [--no-sim]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

from tvhighlights.build.align import align_derivative
from tvhighlights.build.fingerprint import fingerprint_video, hamming
from tvhighlights.build.index import build_index
from tvhighlights.clips import span_overlap
from tvhighlights.samples import sample_path
from tvhighlights.video import probe, read_frames

TRAILER_SOURCE_SPANS = [
    (1.0, 11.0),
    (16.0, 20.0),
    (37.0, 55.0),
    (214.75, 218.75),
    (224.75, 236.0),
    (281.5, 284.7),
]
Span = tuple[float, float]


def clip_counts(
    truth: Sequence[Span], pred: Sequence[Span], duration: float, min_overlap: float
) -> tuple[int, int, int]:
    """(true positives, predicted among the judged clips, positives) for one derivative."""
    t = span_overlap(truth, duration)
    pos, neg = t >= 1.5 - 1e-9, t <= 1e-9
    p = span_overlap(pred, duration) >= min_overlap - 1e-9 if pred else np.zeros(len(t), bool)
    return int((p & pos).sum()), int((p & (pos | neg)).sum()), int(pos.sum())


def ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


# --------------------------------------------------------------------------------------------
# Methods: each maps (derivative path) -> predicted source spans


def ours(index: Any, shots_method: str | None = None) -> Callable[[Path], list[Span]]:
    """Our alignment; with ``shots_method``, matches are cut at that detector's shots."""

    def run(path: Path) -> list[Span]:
        fp = fingerprint_video(path)
        shots = None
        if shots_method:
            from tvhighlights.build.shots import detect_shots

            shots = [(s.start, s.end) for s in detect_shots(path, method=shots_method)]
        return [(m.source_start, m.source_end) for m in align_derivative(fp, index, shots=shots)]

    return run


def naive_phash(source: Path, duration: float) -> Callable[[Path], list[Span]]:
    """imagehash.phash per frame at 4 fps; each derivative frame takes its nearest source
    frame when within 10 bits; that frame's 0.25 s counts as reused."""
    import imagehash
    from PIL import Image

    def hashes(path: Path) -> tuple[np.ndarray, np.ndarray]:
        times, frames = read_frames(path, 4, size=(128, 72), grey=True)
        hs = [int(str(imagehash.phash(Image.fromarray(f))), 16) for f in frames]
        std = frames.reshape(len(frames), -1).std(axis=1)
        keep = std >= 6  # the same uniform-frame rule, to be fair
        return times[keep], np.array(hs, dtype=np.uint64)[keep]

    st, sh = hashes(source)

    def run(path: Path) -> list[Span]:
        _, dh = hashes(path)
        if len(dh) == 0:
            return []
        d = hamming(dh[:, None], sh[None, :])
        j = d.argmin(axis=1)
        ok = d[np.arange(len(dh)), j] <= 10
        return [(float(st[i]), float(st[i]) + 0.25) for i in j[ok]]

    return run


def vpdq_method(source: Path, fps: int) -> Callable[[Path], list[Span]] | None:
    """vPDQ: 256-bit PDQ per frame at ``fps``; a derivative frame matches a source frame at
    distance <= 31 (vPDQ's default) and quality >= 50; each matched source frame's 1/fps
    seconds count as reused (vPDQ has no temporal alignment of its own)."""
    try:
        import vpdq
    except ImportError:
        return None

    def hashes(path: Path) -> list[Any]:
        return [f for f in vpdq.computeHash(str(path), seconds_per_hash=1 / fps) if f.quality >= 50]

    def bits(fs: list[Any]) -> np.ndarray:
        if not fs:
            return np.zeros((0, 32), np.uint8)
        return (
            np.array([bytes.fromhex(f.hex) for f in fs], dtype="S32").view(np.uint8).reshape(-1, 32)
        )

    src = hashes(source)
    sb = bits(src)
    st = np.array([f.timestamp for f in src])

    def run(path: Path) -> list[Span]:
        db = bits(hashes(path))
        if len(db) == 0 or len(sb) == 0:
            return []
        x = np.bitwise_xor(db[:, None, :], sb[None, :, :])
        d = np.unpackbits(x, axis=2).sum(axis=2)
        j = d.argmin(axis=1)
        ok = d[np.arange(len(db)), j] <= 31
        return [(float(st[i]), float(st[i]) + 1.0 / fps) for i in j[ok]]

    return run


# --------------------------------------------------------------------------------------------


def simulate(sim_dir: Path, film: Path, per_family: int) -> list[dict[str, Any]]:
    from tvhighlights.build.simulate import read_ground_truth, simulate_derivatives

    gt = sim_dir / "ground_truth.jsonl"
    if not gt.exists():
        print(f"simulating {per_family} derivatives per family into {sim_dir} ...", flush=True)
        simulate_derivatives(
            {"bbb": film}, sim_dir, per_family=per_family, seed=1, num_workers=2, off_topic=3
        )
    rows = read_ground_truth(gt)
    for r in rows:
        r["path"] = sim_dir / r["path"]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-family", type=int, default=5)
    ap.add_argument("--sim-dir", type=Path, help="reuse/keep simulated derivatives here")
    ap.add_argument("--no-sim", action="store_true", help="only the real trailer")
    ap.add_argument("--min-overlap", type=float, default=1.0)
    ap.add_argument("--baselines-on-sim", action="store_true", help="also run baselines there")
    ap.add_argument(
        "--shots", default="", help="comma-separated shot detectors to compare (e.g. hash,transnet)"
    )
    args = ap.parse_args()
    print_machine()

    film, trailer = sample_path("bbb"), sample_path("bbb_trailer")
    duration = probe(film).duration
    t0 = time.perf_counter()
    index = build_index({"bbb": fingerprint_video(film, show_progress=False)})
    print(f"source fingerprint + index: {time.perf_counter() - t0:.1f} s, {index.ntotal} rows")

    methods: dict[str, Callable[[Path], list[Span]] | None] = {
        "ours (pHash-AC64 + Hough)": ours(index)
    }
    for method in filter(None, args.shots.split(",")):
        methods[f"ours, cut at {method} shots"] = ours(index, method)
    methods["naive pHash (imagehash, best frame)"] = naive_phash(film, duration)
    for f in (1, 2):
        methods[f"vPDQ {f} fps"] = vpdq_method(film, f)

    print(f"\n== real trailer (min overlap {args.min_overlap} s) ==")
    print(f"{'method':40s} {'recall':>7s} {'precision':>9s} {'time s':>7s}")
    for name, fn in methods.items():
        if fn is None:
            print(f"{name:40s} vpdq not installed (pip install vpdq); skipped")
            continue
        t = time.perf_counter()
        pred = fn(trailer)
        tp, npred, npos = clip_counts(TRAILER_SOURCE_SPANS, pred, duration, args.min_overlap)
        dt = time.perf_counter() - t
        print(f"{name:40s} {ratio(tp, npos):7.3f} {ratio(tp, npred):9.3f} {dt:7.1f}")

    if args.no_sim:
        return
    try:
        import tvhighlights.build.simulate  # noqa: F401
    except ImportError:
        print("\ntvhighlights.build.simulate not available: simulated families skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        sim_dir = args.sim_dir or Path(tmp)
        rows = simulate(sim_dir, film, args.per_family)
        names = list(methods) if args.baselines_on_sim else [next(iter(methods))]
        for name in names:
            fn = methods[name]
            if fn is None:
                continue
            print(f"\n== simulated derivatives: {name} ==")
            print(f"{'family':10s} {'clips':>5s} {'recall':>7s} {'precision':>9s} {'false+':>6s}")
            fams: dict[str, list[int]] = {}
            for r in rows:
                truth = [(s["source_start"], s["source_end"]) for s in r["segments"]]
                pred = fn(r["path"])
                tp, npred, npos = clip_counts(truth, pred, duration, args.min_overlap)
                fam = r["family"] if r.get("source_id") else "off-topic"
                acc = fams.setdefault(fam, [0, 0, 0, 0, 0])
                acc[0] += tp
                acc[1] += npred
                acc[2] += npos
                acc[3] += 1
                acc[4] += npred - tp
            for fam, (tp, npred, npos, n, fp_) in fams.items():
                print(f"{fam:10s} {n:5d} {ratio(tp, npos):7.3f} {ratio(tp, npred):9.3f} {fp_:6d}")


if __name__ == "__main__":
    main()
