"""The demo's time from upload to the full result, against ``tvhighlights predict``.

Goal (issue #12): the app adds at most 20 % to prediction. For the 55-s trailer and the
10-minute film, in the same run: ``tvhighlights predict ID=PATH --out --plot --reel`` as a
user runs it (a new process: imports and the model load included), ``predict_video`` with the
model already loaded (the same work, warm: the strict baseline), and the demo in Debian's
chromium: from handing the file to the page's upload box to the result shown (status, span
table, plotted curve, a reel the player has loaded), and the same app called over HTTP by
``gradio_client`` (upload, the scoring event, its outputs: what the server adds, without a
browser rendering on the same two cores). Every app measurement starts from a fresh app
(empty score cache). Prints the machine, each round and the median ratios.

    python benchmarks/bench_demo.py [--model runs/quickstart/ltvhd-s1] [--rounds 2]

Without ``--model`` (or the quickstart's model) a random LTV-HD for the handcrafted features
is used: the cost of scoring does not depend on the weights.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

from tvhighlights.app import DemoSettings, default_model, launch_demo
from tvhighlights.errors import PredictionError
from tvhighlights.inference import load_model, predict_video
from tvhighlights.samples import sample_path

ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _model(arg: str | None, work: Path) -> str:
    if arg:
        return arg
    try:
        return str(default_model())
    except PredictionError:
        pass
    import torch

    from tvhighlights.models.ltvhd import LTVHDConfig, LTVHDModel

    torch.manual_seed(0)
    LTVHDModel(LTVHDConfig(visual_dim=21, audio_dim=13, extractors=["handcrafted"])) \
        .save_pretrained(work / "random-ltvhd")  # fmt: skip
    return str(work / "random-ltvhd")


def time_cli(video: Path, model: str, out: Path) -> float:
    cmd = [sys.executable, "-m", "tvhighlights", "predict", f"v={video}", "--model", model,
           "--out", str(out / "v.json"), "--plot", str(out / "v.png"),
           "--reel", str(out / "v.mp4")]  # fmt: skip
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t


def time_function(video: Path, model, out: Path) -> float:
    t = time.perf_counter()
    predict_video(video, model, out_json=out / "f.json", plot=out / "f.png", reel=out / "f.mp4")
    return time.perf_counter() - t


def time_app(browser, url: str, video: Path) -> float:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1300})
    page = ctx.new_page()
    page.goto(url)
    page.locator("#run").wait_for()
    t = time.perf_counter()
    page.locator("#upload input[type=file]").set_input_files(str(video))
    page.locator("#status").get_by_text("New video").wait_for(timeout=600_000)
    page.locator("#run").click()
    done = re.compile(re.escape(video.name) + r".*clips")  # the result, not "New video"
    page.locator("#status").get_by_text(done).wait_for(timeout=600_000)
    page.locator("[data-testid=cell-0-1]").first.wait_for(timeout=600_000)
    page.wait_for_function("() => document.querySelectorAll('#score-plot .trace').length > 0")
    page.wait_for_function("() => (document.querySelector('#reel video')||{}).duration > 0")
    elapsed = time.perf_counter() - t
    ctx.close()
    return elapsed


def time_http(url: str, video: Path, spec: str) -> float:
    """The app without a browser: gradio_client uploads, calls the scoring event, waits."""
    from gradio_client import Client, handle_file

    client = Client(url, download_files=False, verbose=False)
    t = time.perf_counter()
    client.predict(handle_file(str(video)), api_name="/on_upload")  # the session's video
    client.predict(spec, True, 0.5, 5, 2, 60, [], api_name="/on_run")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model folder (default: the quickstart's, else random)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--samples", default="bbb_trailer,bbb")
    args = ap.parse_args()
    print_machine()
    from playwright.sync_api import sync_playwright

    videos = [sample_path(n) for n in args.samples.split(",")]
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        work = Path(tmp)
        spec = _model(args.model, work)
        model = load_model(spec)
        print(f"model: {spec}")
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        rows: dict[str, list[tuple[float, ...]]] = {v.name: [] for v in videos}
        for r in range(args.rounds):
            port = _port()
            settings = DemoSettings(output_dir=work / f"app-{r}")
            demo = launch_demo(spec, port=port, settings=settings, block=False,
                               search=[])  # fmt: skip
            url = f"http://127.0.0.1:{port}/"
            for video in videos:
                out = work / f"pred-{r}-{video.stem}"
                out.mkdir()
                cli = time_cli(video, spec, out)
                fn = time_function(video, model, out)
                app = time_app(browser, url, video)
                demo.close()  # a fresh app: the same bytes must not hit the score cache
                settings = DemoSettings(output_dir=work / f"app-{r}-{video.stem}")
                demo = launch_demo(spec, port=port, settings=settings, block=False, search=[])
                http = time_http(url, video, spec)
                rows[video.name].append((cli, fn, app, http))
                print(f"round {r + 1} {video.name}: predict CLI {cli:.1f} s, predict_video "
                      f"{fn:.1f} s, app in chromium {app:.1f} s ({app / fn:.2f}x), app over "
                      f"HTTP {http:.1f} s ({http / fn:.2f}x)", flush=True)  # fmt: skip
            demo.close()
        browser.close()
    print(
        "\n| video | predict CLI (s) | predict_video (s) | app in chromium (s) | app over "
        "HTTP (s) | chromium / predict_video | HTTP / predict_video | chromium / CLI |"
    )
    print("|---|---|---|---|---|---|---|---|")  # fmt: skip
    for name, runs in rows.items():
        cli, fn, app, http = (statistics.median(x) for x in zip(*runs, strict=True))
        ratios = [statistics.median(x) for x in
                  zip(*[(a / f, h / f, a / c) for c, f, a, h in runs], strict=True)]  # fmt: skip
        print(
            f"| {name} | {cli:.1f} | {fn:.1f} | {app:.1f} | {http:.1f} | "
            + " | ".join(f"{x:.2f}" for x in ratios)
            + " |"
        )


if __name__ == "__main__":
    main()
