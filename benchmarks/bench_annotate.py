"""The annotation page on a 2-hour film (3,600 clips) against a 2-minute video (60 clips).

Goal (issue #14): the page for a 2-hour film opens and moves between clips without lag. In
the same run, for both videos, the page served by ``launch_annotator`` and driven by Debian's
chromium: the time from opening the URL to the first page (the clip panel and the strip
shown; the clips' pictures are still being made in the background), and the time of one
clip step (a key press until the panel shows the next clip), median over ``--steps`` steps,
half of them decisions (each one appended and fsynced). Also the time to make every picture
of the film in the background (a full decode at 1 frame per second). Prints the machine,
each figure and the film / short ratios.

    python benchmarks/bench_annotate.py [--steps 28] [--hours 2]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine
from tvhighlights.builders.tvhighlights import write_dataset

from tvhighlights.annotate.thumbnails import Thumbnails
from tvhighlights.annotate.videos import AnnotationVideo, load_videos
from tvhighlights.app.annotator import launch_annotator
from tvhighlights.clips import num_clips
from tvhighlights.samples import sample_path
from tvhighlights.video import probe

ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage"]


def make_video(path: Path, seconds: float, fps: int = 2, size=(160, 90)) -> Path:
    """A video whose picture changes every frame (so every clip's picture differs)."""
    import numpy as np

    from tvhighlights.video.writer import Mp4Writer

    with Mp4Writer(path, *size, Fraction(fps), preset="ultrafast") as out:
        for i in range(round(seconds * fps)):
            img = np.zeros((size[1], size[0], 3), np.uint8)
            img[:, :, 0] = (i * 7) % 255
            img[:, (i % size[0]) :, 1] = 200
            out.add_rgb(img)
    return path


def make_dataset(root: Path, videos: dict[str, tuple[Path, float]]) -> Path:
    rows = []
    for vid, (path, duration) in videos.items():
        n = num_clips(duration)
        rows.append({"video_id": vid, "source_id": vid, "title": vid, "start": 0.0,
                     "end": duration, "duration": duration, "num_clips": n, "votes": [0] * n,
                     "scores": [0.0] * n, "labels": [0] * n, "video_label": 0,
                     "num_derivatives": 0, "video_path": str(path.resolve())})  # fmt: skip
    return write_dataset(root / "dataset", {"test": rows})


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _steps(page, steps: int, first_clip: int) -> list[float]:
    times = []
    for k in range(steps):
        key = "x" if k % 2 else "l"
        t0 = time.perf_counter()
        page.keyboard.press(key)
        page.locator("#clip").get_by_text(f"Clip {first_clip + k + 1} of").wait_for(timeout=60_000)
        times.append(time.perf_counter() - t0)
    return times


def _summary(times: list[float]) -> dict:
    return {"median": statistics.median(times), "p90": sorted(times)[int(0.9 * (len(times) - 1))]}


def time_page(browser, dataset: Path, video_id: str, work: Path, steps: int) -> dict:
    """First page and clip steps of one video, on a fresh app, store and picture cache: the
    steps once while the pictures are being made, once more after (a reload)."""
    port = _port()
    thumbs = Thumbnails(work / f"thumbs-{video_id}")
    page_app = launch_annotator(dataset, work / f"store-{video_id}", [video_id],
                                annotator="bench", port=port, block=False,
                                thumbnails_dir=thumbs.folder)  # fmt: skip
    try:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/")
        page.locator("#clip").get_by_text("Clip 1 of").wait_for(timeout=120_000)
        page.locator("#tvh-strip").wait_for(timeout=120_000)
        first = time.perf_counter() - t0
        busy = _steps(page, steps, 1)
        (video,) = load_videos(dataset, [video_id])
        while not thumbs.status(video).finished:  # the app's own worker, seen from its files
            thumbs = Thumbnails(thumbs.folder)
            time.sleep(0.5)
        page.reload()
        page.locator("#clip").get_by_text(f"Clip {steps + 1} of").wait_for(timeout=120_000)
        calm = _steps(page, steps, steps + 1)
        ctx.close()
    finally:
        page_app.close()
    return {"first_page_s": first, "busy": _summary(busy), "calm": _summary(calm)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, default=28, help="at most 29 (twice within the 2-minute video)"
    )
    parser.add_argument("--hours", type=float, default=2.0)
    args = parser.parse_args()
    args.steps = max(1, min(args.steps, 29))  # twice, within the short video (60 clips)
    from playwright.sync_api import sync_playwright

    print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        film_s, short_s = args.hours * 3600, 120.0
        t0 = time.perf_counter()
        film = make_video(work / "film.mp4", film_s)
        short = make_video(work / "short.mp4", short_s)
        print(f"made the videos in {time.perf_counter() - t0:.1f} s "
              f"({num_clips(film_s)} and {num_clips(short_s)} clips)")  # fmt: skip
        dataset = make_dataset(work, {"film": (film, film_s), "short": (short, short_s)})
        results = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for vid in ("short", "film"):
                results[vid] = time_page(browser, dataset, vid, work, args.steps)
                r = results[vid]
                print(f"{vid}: first page {r['first_page_s']:.2f} s, clip step median "
                      f"{r['busy']['median'] * 1000:.0f} ms while the pictures are made, "
                      f"{r['calm']['median'] * 1000:.0f} ms after")  # fmt: skip
            browser.close()
        (video,) = load_videos(dataset, ["film"])
        st, pictures = _pictures(video, work / "thumbs-alone")
        print(
            f"film: {st.made} pictures made in {pictures:.1f} s "
            f"({st.made / pictures:.0f} clips/s, {film_s / pictures:.0f}x real time)"
        )
        real = AnnotationVideo("bbb", sample_path("bbb"), num_clips(probe(sample_path("bbb"))
                               .duration), duration=probe(sample_path("bbb")).duration)  # fmt: skip
        real_st, real_s = _pictures(real, work / "thumbs-bbb")
        info = probe(real.path)
        rate = real_st.made / real_s
        print(
            f"bbb ({info.width}x{info.height}, {info.duration:.0f} s): {real_st.made} pictures "
            f"in {real_s:.1f} s ({rate:.0f} clips/s): a 2-hour film of that size would take "
            f"about {3600 / rate:.0f} s in the background"
        )
    print(
        "\n| video | clips | first page | clip step, pictures being made (median / p90) | "
        "clip step after (median / p90) |"
    )
    print("|---|---|---|---|---|")
    for vid, secs in (("short", short_s), ("film", film_s)):
        r = results[vid]
        b, c = r["busy"], r["calm"]
        print(
            f"| {vid} ({secs / 60:.0f} min) | {num_clips(secs)} | {r['first_page_s']:.2f} s | "
            f"{b['median'] * 1000:.0f} / {b['p90'] * 1000:.0f} ms | "
            f"{c['median'] * 1000:.0f} / {c['p90'] * 1000:.0f} ms |"
        )
    f, s = results["film"], results["short"]
    print(
        f"\nfilm / short: first page {f['first_page_s'] / s['first_page_s']:.2f}x, clip step "
        f"{f['busy']['median'] / s['busy']['median']:.2f}x while the pictures are made, "
        f"{f['calm']['median'] / s['calm']['median']:.2f}x after"
    )


def _pictures(video, folder: Path):
    thumbs = Thumbnails(folder)
    t0 = time.perf_counter()
    st = thumbs.make(video)
    return st, time.perf_counter() - t0


if __name__ == "__main__":
    main()
