"""The annotation page as annotators use it: ``tvhighlights annotate --auth`` serving on
127.0.0.1, Debian's chromium driven by Playwright, real videos (the Big Buck Bunny trailer).

Two annotators sign in (a wrong password is refused), mark clips with the keyboard and the
mouse, reload the page, the server is killed (SIGKILL) and restarted, and every decision is
still there, in the annotator's own file only. The screenshot goes to ``$TVH_TEST_ARTIFACTS``
(README's picture: run this module with ``TVH_TEST_ARTIFACTS=docs/images``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from annotated import make_video_dataset
from browser import free_port, server_env, start_server
from media import write_video

from tvhighlights.annotate.auth import add_annotator
from tvhighlights.annotate.store import AnnotationStore

pytestmark = pytest.mark.slow

PASSWORDS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}


@pytest.fixture(scope="module")
def setup(tmp_path_factory, sample):
    root = tmp_path_factory.mktemp("annotate")
    synth = write_video(root / "short.mp4", 9.0, size=(96, 54))
    gone = write_video(root / "gone.mp4", 5.0, size=(96, 54))
    dataset = make_video_dataset(
        root, {"trailer": sample("bbb_trailer"), "short": synth, "gone": gone}, test=3
    )
    gone.unlink()  # a file that moved after the build
    users = root / "annotators.json"
    for name, password in PASSWORDS.items():
        add_annotator(users, name, password)
    return root, dataset, users


class Server:
    """``tvhighlights annotate`` as a process that a test can kill and start again."""

    def __init__(self, root: Path, dataset: Path, users: Path) -> None:
        self.root, self.port = root, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.cmd = [sys.executable, "-m", "tvhighlights", "-v", "annotate", "--dataset",
                    str(dataset), "--store", str(root / "store"), "--auth", str(users),
                    "--port", str(self.port), "--thumbnails", str(root / "thumbs")]  # fmt: skip
        self.proc = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.root / f"server-{self.starts}.log"
        self.proc = start_server(self.cmd, self.root, server_env(self.root), log, self.url)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@pytest.fixture(scope="module")
def server(setup):
    root, dataset, users = setup
    s = Server(root, dataset, users)
    s.start()
    yield s
    if s.proc.poll() is None:
        s.kill()


def sign_in(browser, server, name: str, password: str | None = None):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(server.url)
    page.locator("input[type=text], input[name=username]").first.fill(name)
    page.locator("input[type=password]").first.fill(password or PASSWORDS[name])
    page.locator("button:has-text('Login'), button[type=submit]").first.click()
    return ctx, page


def open_page(browser, server, name: str):
    ctx, page = sign_in(browser, server, name)
    page.locator("#tvh-strip").wait_for(timeout=60_000)
    return ctx, page


def clip_text(page) -> str:
    return page.locator("#clip").inner_text()


def wait_text(page, selector: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    got = ""
    while time.monotonic() < deadline:
        got = page.locator(selector).inner_text()
        if text in got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{selector}: {text!r} not shown; it shows {got!r}")


def press(page, key: str, expect: str) -> None:
    """A key, then wait for the clip panel to show ``expect`` (the server has answered)."""
    page.keyboard.press(key)
    wait_text(page, "#clip", expect)


def lines(store: Path, name: str) -> list[dict]:
    path = store / f"{name}.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def badges(page) -> dict[int, str]:
    cells = page.locator("#tvh-strip .tvh-clip")
    return {int(cells.nth(k).get_attribute("data-clip")): cells.nth(k).locator(".tvh-badge")
            .inner_text() for k in range(cells.count())}  # fmt: skip


def test_annotators_sign_in_mark_clips_and_lose_nothing(chromium, server, setup, tmp_path):
    root, _, _ = setup
    store = root / "store"

    # a wrong password is refused: no page, no file
    ctx, page = sign_in(chromium, server, "alice", "not-her-password")
    page.get_by_text("Incorrect Credentials").wait_for(timeout=20_000)
    assert not page.locator("#tvh-strip").count()
    ctx.close()

    ctx, page = open_page(chromium, server, "alice")
    wait_text(page, "#clip", "Clip 1 of 28")
    assert "all videos 0 / 36 clips" in page.locator("#progress").inner_text()
    # the strip: a window of the trailer's clips with their times, the current one marked
    page.locator("#tvh-strip .tvh-clip img").first.wait_for(timeout=60_000)
    assert page.locator("#tvh-strip .tvh-current").get_attribute("data-clip") == "0"
    assert "0:02" in page.locator("#tvh-strip").inner_text()

    # keyboard: x (not), h then 2 (highlight, Destruction), 5 (Others), arrows
    press(page, "x", "Clip 2 of 28")
    press(page, "h", "pick a category")
    press(page, "2", "Clip 3 of 28")
    press(page, "5", "Clip 4 of 28")
    press(page, "ArrowLeft", "Clip 3 of 28")
    wait_text(page, "#clip", "highlight · Others")
    press(page, "l", "Clip 4 of 28")
    # mouse: the buttons, a category button, a click on the strip
    page.locator("#not").click()
    wait_text(page, "#clip", "Clip 5 of 28")
    page.locator("#cat-1").click()
    wait_text(page, "#clip", "Clip 6 of 28")
    page.locator("#tvh-strip .tvh-clip[data-clip='9']").click()
    wait_text(page, "#clip", "Clip 10 of 28")
    page.locator("#cat-3").click()
    wait_text(page, "#clip", "Clip 11 of 28")
    # the player follows: clip 10 starts at 20 s; speed and loop are the page's
    page.wait_for_function("() => { const v = document.querySelector('#tvh-video');"
                           " return v && Math.abs(v.currentTime - 20) < 0.1; }")  # fmt: skip
    page.locator("#speed label:has-text('0.5')").click()
    page.wait_for_function("() => document.querySelector('#tvh-video').playbackRate === 0.5")
    assert page.locator("#tvh-video").get_attribute("src").startswith("/gradio_api/file=")

    expected = {0: (False, None), 1: (True, "Destruction"), 2: (True, "Others"),
                3: (False, None), 4: (True, "Action"), 9: (True, "CGI")}  # fmt: skip
    latest = {d["clip"]: (d["highlight"], d["category"]) for d in lines(store, "alice")}
    assert latest == expected
    assert all(d["annotator"] == "alice" and d["app_version"] for d in lines(store, "alice"))

    # a reload resumes exactly there, with every decision shown
    page.reload()
    page.locator("#tvh-strip").wait_for(timeout=60_000)
    wait_text(page, "#clip", "Clip 11 of 28")
    shown = badges(page)
    assert shown[9] == "CGI" and shown[4] == "Action" and shown[3] == "not"
    assert "this video 6 / 28" in page.locator("#progress").inner_text()
    # every picture is made in the background and the strip shows it without a click
    page.locator(".tvh-note").wait_for(state="detached", timeout=120_000)
    page.wait_for_function("() => { const v = document.querySelector('#tvh-video');"
                           " return v && v.readyState >= 2 && !v.seeking; }")  # fmt: skip
    if os.environ.get("TVH_TEST_ARTIFACTS"):
        out = Path(os.environ["TVH_TEST_ARTIFACTS"])
        out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out / "annotate.png"), full_page=True)
    page.screenshot(path=str(tmp_path / "annotate.png"), full_page=True)
    ctx.close()

    # kill -9 the server and start it again: nothing already clicked is lost
    server.kill()
    server.start()
    ctx, page = open_page(chromium, server, "alice")
    wait_text(page, "#clip", "Clip 11 of 28")
    assert badges(page)[9] == "CGI"
    press(page, "u", "Clip 12 of 28")  # the next clip without a decision
    # v: the next video with clips to do (the short one), then the one whose file moved
    press(page, "v", "Clip 1 of 5")
    press(page, "x", "Clip 2 of 5")
    press(page, "v", "of 3")
    wait_text(page, "#status", "the video file is missing")
    assert page.locator("#tvh-missing").count() == 1
    ctx.close()
    alice = lines(store, "alice")

    # bob signs in: none of alice's labels, and his clicks go to his own file
    ctx, page = open_page(chromium, server, "bob")
    wait_text(page, "#clip", "Clip 1 of 28")
    assert "all videos 0 / 36" in page.locator("#progress").inner_text()
    assert set(badges(page).values()) == {"·"}
    press(page, "1", "Clip 2 of 28")
    assert [(d["clip"], d["category"]) for d in lines(store, "bob")] == [(0, "Action")]
    assert lines(store, "alice") == alice
    # and he cannot fetch her file through the page's file route
    quoted = urllib.parse.quote(str((store / "alice.jsonl").resolve()))
    got = page.request.get(f"{server.url}gradio_api/file={quoted}")
    assert got.status >= 400 and "Destruction" not in got.text()
    ctx.close()

    # what the two files aggregate to: the store reads back strictly
    st = AnnotationStore(store)
    assert st.annotators() == ["alice", "bob"]
    sizes = {k: v["num_clips"] for k, v in st.videos().items()}
    assert sizes == {"trailer": 28, "short": 5, "gone": 3}
    assert len(st.read("alice", sizes).latest) == 7


SPACE = Path(__file__).resolve().parents[2] / "spaces" / "annotate"


def test_the_space_app_serves_the_library_page(setup, tmp_path):
    """``spaces/annotate/app.py`` runs as ``python app.py`` and serves the same page."""
    import subprocess
    import urllib.error
    import urllib.request

    from browser import stop_server

    _, dataset, users = setup
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**server_env(tmp_path), "GRADIO_SERVER_PORT": str(port),
           "TVH_ANNOTATE_DATASET": str(dataset), "TVH_ANNOTATE_AUTH": str(users),
           "TVH_ANNOTATE_STORE": str(tmp_path / "store"),
           "TVHIGHLIGHTS_CACHE": str(tmp_path / "cache")}  # fmt: skip
    proc = start_server([sys.executable, "app.py"], SPACE, env, tmp_path / "space.log", url)
    try:
        with pytest.raises(urllib.error.HTTPError, match="401"):
            urllib.request.urlopen(url + "config", timeout=10)  # behind the sign-in
        jar = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = urllib.parse.urlencode({"username": "bob", "password": PASSWORDS["bob"]})
        jar.open(url + "login", data=form.encode(), timeout=30)
        with jar.open(url + "config", timeout=10) as r:
            config = r.read().decode().replace(" ", "")
        for elem in ("player", "strip-box", "clip", "hl", "not", "cat-5", "next-todo"):
            assert f'"elem_id":"{elem}"' in config, elem
    finally:
        stop_server(proc)
    assert json.loads((tmp_path / "store" / "videos.json").read_text())["videos"].keys() == {
        "trailer", "short", "gone"}  # fmt: skip
    assert "from tvhighlights.app.annotator import" in (SPACE / "app.py").read_text()
    front = (SPACE / "README.md").read_text().split("---")[1]
    for line in ("sdk: gradio", "app_file: app.py", "license: apache-2.0"):
        assert line in front

    # on the Hub, an annotators file is required
    env = {**env, "SPACE_ID": "org/annotate"}
    env.pop("TVH_ANNOTATE_AUTH")
    res = subprocess.run([sys.executable, "app.py"], cwd=SPACE, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert res.returncode != 0 and "TVH_ANNOTATE_AUTH" in res.stderr
