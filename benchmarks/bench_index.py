"""Query time of the source index at 10, 100 and 1,000 hours of source, vs. the exact flat scan.

Each index holds random 64-bit codes standing for N hours of other sources at 4 fps, with the
real film's fingerprint planted among them; the query is the real 55-s trailer fingerprinted
as the build fingerprints a derivative (each frame and its mirror image, plus the mirrored
centred zooms on every other frame). Reported per size: build time,
search time of the trailer's lookups (k=32), the whole :func:`align_derivative` time, and
whether the trailer's six reused spans are still found (clip recall/precision), for the index
the library picks (exact ``IndexBinaryFlat`` below 250 k rows, ``IndexBinaryMultiHash`` above)
and for the exact flat index. Goal: < 1 s per derivative at 1,000 h and clearly sub-linear.
Each source frame is indexed twice (the picture and its centred half, ``SOURCE_ZOOMS``), so
1,000 h = 28.8 M rows; the memory the index adds is printed per hour of source (``MB/h``).

    python benchmarks/bench_index.py [--hours 10 100 1000]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine
from bench_alignment import TRAILER_SOURCE_SPANS, clip_counts, ratio

from tvhighlights.build.fingerprint import (
    Fingerprint,
    fingerprint_derivative,
    fingerprint_source,
)
from tvhighlights.build.index import build_index
from tvhighlights.samples import sample_path

FPS = 4.0


def noise_source(hours: float, params: dict, seed: int) -> Fingerprint:
    """Random codes for every column the film's fingerprint has (the indexed ``full`` and
    ``zoom0.50`` columns independent, the others copies), ``hours`` long at 4 fps."""
    n = int(hours * 3600 * FPS)
    rng = np.random.default_rng(seed)
    top = np.iinfo(np.uint64).max
    full = rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True)
    cols = []
    for v in params["variants"]:
        if v.startswith("zoom"):
            cols.append(rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True))
        else:
            cols.append(full)
    hashes = np.stack(cols, axis=1)
    return Fingerprint(np.arange(n) / FPS, hashes, np.ones(n, bool), FPS, n / FPS, params)


def rss_mb() -> float:
    """Resident memory of this process now (MB)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument(
        "--exact-up-to", type=float, default=100, help="also time the exact flat scan up to here"
    )
    args = ap.parse_args()
    print_machine()
    from tvhighlights.build.align import AlignParams, align_derivative, candidate_votes

    film = fingerprint_source(sample_path("bbb"))
    trailer = fingerprint_derivative(sample_path("bbb_trailer"))
    print(f"query: the trailer ({trailer.duration:.0f} s) as the build fingerprints a derivative; "
          f"planted film: {int(film.valid.sum())} frames x {film.variants[4:]} + full")  # fmt: skip
    print(f"{'hours':>6s} {'rows':>11s} {'index':>9s} {'MB/h':>6s} {'build s':>8s} "
          f"{'lookup s':>9s} {'align s':>8s} {'recall':>7s} {'prec':>6s}")  # fmt: skip
    for hours in args.hours:
        noise = noise_source(hours, film.params, seed=int(hours))
        for exact in (False, True):
            if exact and hours > args.exact_up_to:
                continue
            gc.collect()
            before = rss_mb()
            t = time.perf_counter()
            index = build_index(
                {"noise": noise, "bbb": film}, hash_threshold=2**62 if exact else 250_000
            )
            build = time.perf_counter() - t
            per_hour = (rss_mb() - before) / hours
            t = time.perf_counter()
            candidate_votes(trailer, index, AlignParams())  # the index lookups alone
            search = time.perf_counter() - t
            t = time.perf_counter()
            matches = align_derivative(trailer, index, shots=trailer.shots())
            align = time.perf_counter() - t
            spans = [(m.source_start, m.source_end) for m in matches if m.source_id == "bbb"]
            tp, npred, npos = clip_counts(TRAILER_SOURCE_SPANS, spans, film.duration, 1.0)
            wrong = sum(m.source_id != "bbb" for m in matches)
            print(f"{hours:6.0f} {index.ntotal:11,d} {index.kind:>9s} {per_hour:6.1f} {build:8.1f} "
                  f"{search:9.3f} {align:8.3f} {ratio(tp, npos):7.3f} {ratio(tp, npred):6.3f}"
                  + (f"  ({wrong} matches to noise)" if wrong else ""), flush=True)  # fmt: skip
            del index
            gc.collect()


if __name__ == "__main__":
    main()
