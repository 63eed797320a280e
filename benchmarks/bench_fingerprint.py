"""Cost of fingerprinting the sample film relative to a bare PyAV decode of the same file.

Goal: fingerprinting (decode to small grey at 4 fps, content box, DCT hashes, uniform-frame
test) costs at most 1.10x a bare decode (``thread_type="AUTO"``, nothing converted), both as
a source is fingerprinted (:func:`fingerprint_source`: the picture, its mirror and its centred
half) and as a derivative is (:func:`fingerprint_derivative`: plus 9 mirrored centred zooms,
the shots and a picture-in-picture window per shot; timed on the real trailer). Runs
alternate bare / fingerprint ``--repeats`` times and compare the medians, so a busy machine
skews both alike. Also times ``imagehash.phash`` per frame for comparison.

    python benchmarks/bench_fingerprint.py [--video FILE] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

from tvhighlights.build.fingerprint import (
    fingerprint_derivative,
    fingerprint_frames,
    fingerprint_source,
)
from tvhighlights.samples import sample_path
from tvhighlights.video import read_frames


def bare_decode(path: Path) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        n = 0
        for packet in container.demux(stream):
            for _ in packet.decode():
                n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print_machine()
    path = args.video or sample_path("bbb")
    for what, video, fingerprint in (
        ("source", path, fingerprint_source),
        ("derivative", sample_path("bbb_trailer"), fingerprint_derivative),
    ):
        bare, fing = [], []
        for r in range(args.repeats):
            t = time.perf_counter()
            n = bare_decode(video)
            bare.append(time.perf_counter() - t)
            t = time.perf_counter()
            fp = fingerprint(video)
            fing.append(time.perf_counter() - t)
            print(f"{what} run {r}: bare decode {bare[-1]:.2f} s ({n} frames), "
                  f"fingerprint {fing[-1]:.2f} s ({len(fp)} frames)", flush=True)  # fmt: skip
        b, f = statistics.median(bare), statistics.median(fing)
        print(f"{what} ({video.name}) median: bare decode {b:.2f} s, fingerprint {f:.2f} s, "
              f"ratio {f / b:.3f} (goal <= 1.10)")  # fmt: skip

    # the hashing alone, and imagehash for comparison, on 600 real frames
    times, frames = read_frames(path, 4, size=(228, 128), grey=True, start=60, end=210)
    t = time.perf_counter()
    fingerprint_frames(times, frames)
    ours = (time.perf_counter() - t) / len(frames)
    try:
        import imagehash
        from PIL import Image

        t = time.perf_counter()
        for fr in frames:
            imagehash.phash(Image.fromarray(fr))
        ih = (time.perf_counter() - t) / len(frames)
        print(f"hashing per frame: ours {ours * 1e6:.0f} us (box + 2 variants + std, no zooms), "
              f"imagehash.phash {ih * 1e6:.0f} us")  # fmt: skip
    except ImportError:
        print(f"hashing per frame: ours {ours * 1e6:.0f} us; imagehash not installed")


if __name__ == "__main__":
    main()
