"""Query time of the source index at 10, 100 and 1,000 hours of source, vs. the exact flat scan.

Each index holds random 64-bit codes standing for N hours of other sources at 4 fps, with the
real film's fingerprint planted among them; the query is the real 55-s trailer (about a 60-s
derivative: ~430 lookups, each frame and its mirror image). Reported per size: build time,
search time of the trailer's lookups (k=32), the whole :func:`align_derivative` time, and
whether the trailer's six reused spans are still found (clip recall/precision), for the index
the library picks (exact ``IndexBinaryFlat`` below 1 M rows, ``IndexBinaryMultiHash`` above)
and for the exact flat index. Goal: < 1 s per derivative at 1,000 h and clearly sub-linear.
Memory: 1,000 h = 14.4 M codes (115 MB of codes, ~1.5 GB with the maps and hash tables).

    python benchmarks/bench_index.py [--hours 10 100 1000]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine
from bench_alignment import TRAILER_SOURCE_SPANS, clip_counts, ratio

from tvhighlights.build.fingerprint import Fingerprint, fingerprint_video
from tvhighlights.build.index import build_index
from tvhighlights.samples import sample_path

FPS = 4.0


def noise_source(hours: float, params: dict, seed: int) -> Fingerprint:
    n = int(hours * 3600 * FPS)
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    hashes = np.stack([codes, codes], axis=1)  # "full" and "flip" columns
    return Fingerprint(np.arange(n) / FPS, hashes, np.ones(n, bool), FPS, n / FPS, params)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--k", type=int, default=32)
    args = ap.parse_args()
    print_machine()
    from tvhighlights.build.align import align_derivative

    film = fingerprint_video(sample_path("bbb"))
    trailer = fingerprint_video(sample_path("bbb_trailer"))
    queries = np.concatenate(
        [trailer.column("full")[trailer.valid], trailer.column("flip")[trailer.valid]]
    )
    print(f"query: trailer, {len(queries)} lookups; planted film: {int(film.valid.sum())} codes")
    print(f"{'hours':>6s} {'rows':>11s} {'index':>9s} {'build s':>8s} {'search s':>9s} "
          f"{'align s':>8s} {'recall':>7s} {'prec':>6s}")  # fmt: skip
    for hours in args.hours:
        noise = noise_source(hours, film.params, seed=int(hours))
        for exact in (False, True):
            t = time.perf_counter()
            index = build_index(
                {"noise": noise, "bbb": film}, hash_threshold=2**62 if exact else 1_000_000
            )
            build = time.perf_counter() - t
            t = time.perf_counter()
            index.search(queries, args.k)
            search = time.perf_counter() - t
            t = time.perf_counter()
            matches = align_derivative(trailer, index)
            align = time.perf_counter() - t
            spans = [(m.source_start, m.source_end) for m in matches if m.source_id == "bbb"]
            tp, npred, npos = clip_counts(TRAILER_SOURCE_SPANS, spans, film.duration, 1.0)
            wrong = sum(m.source_id != "bbb" for m in matches)
            print(f"{hours:6.0f} {index.ntotal:11,d} {index.kind:>9s} {build:8.1f} "
                  f"{search:9.3f} {align:8.3f} {ratio(tp, npos):7.3f} {ratio(tp, npred):6.3f}"
                  + (f"  ({wrong} matches to noise)" if wrong else ""), flush=True)  # fmt: skip
            del index
            gc.collect()


if __name__ == "__main__":
    main()
