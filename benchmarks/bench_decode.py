"""Decoding speed on the sample film: bare PyAV decode vs. the library's readers.

Times, on one file and in the same run: a bare PyAV decode of every video frame with
``thread_type = "AUTO"`` and with PyAV's default threading, ``read_frames`` at 4 fps grey
64x64 and at 2 fps RGB 224x224, ``read_audio`` at 16 kHz and ``iter_clips`` (video + audio in
one pass). Each figure is also given as a ratio to the bare AUTO decode, so runs on different
machines compare. Needs the sample (``tvhighlights fetch-samples bbb``) unless ``--video``.

    python benchmarks/bench_decode.py [--video FILE] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

from tvhighlights import video
from tvhighlights.samples import sample_path


def bare_decode(path: Path, thread_type: str | None) -> tuple[int, str]:
    """Decode every video frame and convert nothing: the floor of any reader."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if thread_type is not None:
            stream.thread_type = thread_type
        used = str(stream.thread_type)
        n = 0
        for packet in container.demux(stream):
            for _ in packet.decode():
                n += 1
    return n, used


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, help="file to decode (default: the bbb sample film)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args()

    machine = print_machine()
    machine["pyav"] = av.__version__
    machine["ffmpeg"] = ".".join(str(v) for v in av.library_versions["libavcodec"])
    machine["ffmpeg_version"] = getattr(av, "ffmpeg_version_info", "?")
    print(
        f"PyAV {machine['pyav']}, FFmpeg {machine['ffmpeg_version']} "
        f"(libavcodec {machine['ffmpeg']})"
    )

    path = args.video or sample_path("bbb")
    info = video.probe(path)
    print(
        f"video: {path} ({info.duration:.1f} s, {info.width}x{info.height} {info.video_codec} "
        f"{info.fps:.2f} fps, {info.num_frames or '?'} frames, "
        f"audio {info.audio_codec or 'none'})"
    )

    rows: list[dict[str, Any]] = []

    def record(name: str, seconds: float, decoded: int | None, note: str = "") -> None:
        """``decoded``: source video frames decoded (frames/s is decode throughput)."""
        rows.append(
            {
                "name": name,
                "seconds": round(seconds, 3),
                "decoded_frames": decoded,
                "frames_per_s": round(decoded / seconds, 1) if decoded else None,
                "realtime_x": round(info.duration / seconds, 1),
                "note": note,
            }
        )
        print(f"  done: {name} in {seconds:.2f} s", flush=True)

    (n, used), t = timed(lambda: bare_decode(path, "AUTO"))
    record("bare decode, thread_type AUTO", t, n, f"thread_type={used}")
    decoded = n  # every reader below decodes every frame too
    (n, used), t = timed(lambda: bare_decode(path, None))
    record("bare decode, PyAV default threading", t, n, f"thread_type={used}")

    (ts, fr), t = timed(lambda: video.read_frames(path, 4.0, size=(64, 64), grey=True))
    record("read_frames 4 fps grey 64x64", t, decoded, f"{len(ts)} frames out, {fr.shape}")
    (ts, fr), t = timed(lambda: video.read_frames(path, 2.0, size=(224, 224)))
    record("read_frames 2 fps RGB 224x224", t, decoded, f"{len(ts)} frames out, {fr.shape}")
    del fr
    audio, t = timed(lambda: video.read_audio(path, 16000))
    record("read_audio 16 kHz mono", t, None, f"{len(audio)} samples")

    def clips() -> int:
        return sum(1 for _ in video.iter_clips(path, fps=2.0, audio_rate=16000, size=(224, 224)))

    n_clips, t = timed(clips)
    record("iter_clips 2 fps 224x224 + 16 kHz", t, decoded, f"{n_clips} clips, one pass")

    base = rows[0]["seconds"]
    for row in rows:
        row["ratio_to_bare_auto"] = round(row["seconds"] / base, 2)

    print()
    header = (
        f"{'step':38} {'seconds':>8} {'decoded fps':>11} {'x realtime':>10} {'vs bare':>8}  note"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        fps = f"{r['frames_per_s']:.0f}" if r["frames_per_s"] else "-"
        print(
            f"{r['name']:38} {r['seconds']:8.2f} {fps:>11} {r['realtime_x']:10.1f} "
            f"{r['ratio_to_bare_auto']:8.2f}  {r['note']}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"machine": machine, "video": info.to_dict(), "results": rows}
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
