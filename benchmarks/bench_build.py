"""The whole build against a bare decode of all its inputs, and where the time goes.

Goal (issue #11): ``tvhighlights build`` costs at most 1.5x a bare PyAV decode of every
source and derivative it reads. Builds the ffmpeg re-uploads of ``ffmpeg_reuploads.py`` (two
films, ~30 derivatives) with the default options (embedding title filter, one worker, a cold
cache), times a bare decode of the same files in the same run, and prints the ratio (and the
ratio without the title filter, whose model costs seconds of imports); then builds again
under cProfile (another cold cache) and prints the cumulative time of the
build's stages (decode, hashing, boxes, alignment, the title model, writing the folder).

    python benchmarks/bench_build.py [--ffmpeg-dir DIR] [--no-profile] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine
from bench_fingerprint import bare_decode
from ffmpeg_reuploads import make_reuploads
from tvhighlights.builders.tvhighlights import build_dataset

from tvhighlights.build import BuildConfig

STAGES = {
    "decode (iter_frames)": "iter_frames",
    "hash (hash_frames)": "hash_frames",
    "content box": "content_box",
    "picture-in-picture windows": "inset_box",
    "alignment (align_derivative)": "align_derivative",
    "title filter (decide, in a thread)": "decide",
    "probe": "probe",
    "write the folder (write_folder)": "write_folder",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ffmpeg-dir", type=Path, help="reuse/keep the generated set here")
    ap.add_argument("--top", type=int, default=0, help="also print the top N functions")
    ap.add_argument("--no-profile", action="store_true", help="skip the profiled second build")
    args = ap.parse_args()
    print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ff = args.ffmpeg_dir or work / "ff"
        make_reuploads(ff)
        sources, derivs = ff / "sources.csv", ff / "derivatives.csv"
        paths = [Path(r["path"]) for r in csv.DictReader(sources.open())]
        paths += [ff / r["path"] for r in csv.DictReader(derivs.open())]
        t = time.perf_counter()
        frames = sum(bare_decode(p) for p in paths)
        bare = time.perf_counter() - t
        t = time.perf_counter()
        build_dataset(sources, derivs, work / "out", BuildConfig(), show_progress=False)
        build = time.perf_counter() - t
        print(f"{len(paths)} inputs, {frames} frames: bare decode {bare:.1f} s, build "
              f"{build:.1f} s, ratio {build / bare:.2f} (goal <= 1.5)", flush=True)  # fmt: skip
        t = time.perf_counter()
        config = BuildConfig(title_filter="none")
        build_dataset(sources, derivs, work / "out-none", config, show_progress=False)
        none = time.perf_counter() - t
        print(f"the same with --title-filter none (no sentence model to load): {none:.1f} s, "
              f"ratio {none / bare:.2f}", flush=True)  # fmt: skip
        if args.no_profile:
            return
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        build_dataset(sources, derivs, work / "out2", BuildConfig(), show_progress=False)
        prof.disable()
        build = time.perf_counter() - t
    print(f"under cProfile: build {build:.1f} s")
    stats = pstats.Stats(prof)
    cum: dict[str, float] = {}
    for (_, _, name), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        for label, fn in STAGES.items():
            if name == fn:
                cum[label] = max(cum.get(label, 0.0), ct)
    print(f"{'stage (cumulative)':36s} {'s':>7s} {'of build':>8s}")
    for label in STAGES:
        s = cum.get(label, 0.0)
        print(f"{label:36s} {s:7.1f} {s / build:8.1%}")
    if args.top:
        stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
