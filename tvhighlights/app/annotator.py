"""The annotation page: several annotators label a test split's 2-second clips in a browser
(``tvhighlights annotate``, ``spaces/annotate``).

Keyboard first: every decision and move has a key (shown on the page; ``assets/annotate.js``
turns keys into clicks on the page's buttons, and plays, replays and loops the clip without a
round trip). The player is a plain ``<video>`` over gradio's file route, so a 2-hour film is
neither copied nor hashed before it plays; the strip shows a window of the clips' pictures,
made in the background (:class:`~tvhighlights.annotate.thumbnails.Thumbnails`). Every
decision is in the annotator's file before the page shows it
(:class:`~tvhighlights.annotate.session.AnnotationSession`); an annotator reads and writes
only their own file.
"""

from __future__ import annotations

import html
import json
import logging
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

import gradio as gr  # the package has turned gradio's analytics off

from .. import __version__
from ..annotate.auth import Annotators
from ..annotate.session import AnnotationSession
from ..annotate.store import CATEGORIES, AnnotationStore, check_annotator_name
from ..annotate.thumbnails import Thumbnails
from ..annotate.videos import AnnotationVideo, load_videos
from ..errors import InvalidArgumentError, TVHighlightsError
from ..samples import cache_dir
from .serve import launch_page

logger = logging.getLogger(__name__)

__all__ = ["build_annotator", "launch_annotator"]

STRIP_SIZE = 15
"""Clips shown in the strip around the current one."""

_FILE_ROUTE = "/gradio_api/file="

SHORTCUTS = (
    "**Keys** · **h** highlight · **x** not a highlight · **1-5** highlight of that category "
    "(" + ", ".join(f"{i} {c}" for i, c in enumerate(CATEGORIES, 1)) + ") · **→ / l** next "
    "clip · **← / j** previous · **u** next clip without a decision · **v** next video with "
    "clips to do · **space** play / pause · **r** replay the clip. A decision on **x** or "
    "**1-5** moves on to the next clip; **h** waits for the category."
)


def default_thumbnails_dir() -> Path:
    """Where the clips' pictures are cached: ``thumbnails/`` in the tvhighlights cache."""
    return cache_dir() / "thumbnails"


def _url(path: Path) -> str:
    return _FILE_ROUTE + urllib.parse.quote(str(path.resolve()))


def _time(t: float) -> str:
    t = int(t)
    return (
        f"{t // 3600}:{t // 60 % 60:02d}:{t % 60:02d}" if t >= 3600 else f"{t // 60}:{t % 60:02d}"
    )


class _Tab:
    """One browser tab: the annotator's session, the video the page shows, a seek counter and
    how many pictures its strip was drawn with."""

    def __init__(self, session: AnnotationSession) -> None:
        self.session = session
        self.shown: str | None = None
        self.seq = 0
        self.drawn = -1


def player_html(video: AnnotationVideo) -> str:
    """The ``<video>`` of one file (or why it cannot be shown)."""
    if video.missing:
        return f"<div id='tvh-missing' class='tvh-missing'>{html.escape(video.missing)}</div>"
    return (
        f"<video id='tvh-video' data-video='{html.escape(video.video_id)}' "
        f"src='{html.escape(_url(video.path))}' preload='auto' controls playsinline></video>"
    )


def strip_html(session: AnnotationSession, thumbs: Thumbnails, size: int = STRIP_SIZE) -> str:
    """The window of clips around the current one: picture, time, decision."""
    v = session.video
    done = session.decisions[v.video_id]
    cells = []
    for i in session.window(size):
        d = done.get(i)
        classes = ["tvh-clip"]
        if i == session.clip:
            classes.append("tvh-current")
        if d is None:
            badge = "·"
        elif d.highlight:
            classes.append("tvh-hl")
            badge = d.category or "highlight"
        else:
            classes.append("tvh-not")
            badge = "not"
        pic = thumbs.available(v, i)
        img = (f"<img src='{html.escape(_url(pic))}' alt='clip {i}' loading='lazy'>"
               if pic else "<div class='tvh-ph'></div>")  # fmt: skip
        a, _ = v.clip_span(i)
        cells.append(
            f"<div class='{' '.join(classes)}' data-clip='{i}' title='clip {i}'>{img}"
            f"<span class='tvh-t'>{_time(a - v.start)}</span>"
            f"<span class='tvh-badge'>{html.escape(badge)}</span></div>"
        )
    st = thumbs.status(v)
    note = ""
    if st.error:
        note = f"<div class='tvh-note'>pictures stopped: {html.escape(st.error)}</div>"
    elif not st.finished:
        note = f"<div class='tvh-note'>making pictures: {st.made} / {st.total}</div>"
    return f"<div id='tvh-strip' class='tvh-strip'>{''.join(cells)}</div>{note}"


def _clip_text(session: AnnotationSession) -> str:
    v, i = session.video, session.clip
    a, b = v.clip_span(i)
    d = session.decision
    if d is None:
        state = "no decision yet"
    elif d.highlight:
        state = f"**highlight**{' · ' + d.category if d.category else ' · pick a category (1-5)'}"
    else:
        state = "**not a highlight**"
    return (f"### Clip {i + 1} of {v.num_clips} · {_time(a - v.start)}-{_time(b - v.start)}\n"
            f"{state}")  # fmt: skip


def _progress_text(session: AnnotationSession) -> str:
    p = session.progress()
    return (
        f"**{session.annotator}** · this video {p.video_done} / {p.video_total} clips · "
        f"all videos {p.done} / {p.total} clips ({p.videos_done} of {p.videos} videos done)"
    )


def _video_choices(session: AnnotationSession) -> list[tuple[str, str]]:
    out = []
    for v in session.videos:
        done, total = session.video_progress(v)
        mark = "✓ " if done >= total else ""
        title = f" · {v.title}" if v.title and v.title != v.video_id else ""
        out.append((f"{mark}{v.video_id}{title} ({done}/{total})", v.video_id))
    return out


def build_annotator(
    videos: Sequence[AnnotationVideo],
    store: AnnotationStore,
    *,
    annotator: str | None = None,
    thumbnails: Thumbnails | None = None,
) -> gr.Blocks:
    """The page over ``videos`` (not launched: :func:`launch_annotator`). With ``annotator``
    the page is that annotator's; without, the signed-in user's (gradio ``auth=``)."""
    if annotator is not None:
        check_annotator_name(annotator)
    thumbs = thumbnails or Thumbnails(default_thumbnails_dir())

    def view(tab: _Tab, status: str = "", *, seek: bool = True) -> tuple:
        s = tab.session
        v = s.video
        thumbs.request(v, s.clip)
        if thumbs.status(v).finished and s.video_index + 1 < len(s.videos):
            thumbs.request(s.videos[s.video_index + 1])  # the next video, ahead of time
        changed = tab.shown != v.video_id
        tab.shown = v.video_id
        if seek or changed:
            tab.seq += 1
        a, b = v.clip_span(s.clip)
        bounds = json.dumps({"video": v.video_id, "clip": s.clip, "start": a, "end": b,
                             "seq": tab.seq})  # fmt: skip
        tab.drawn = thumbs.status(v).made
        problems = [p for p in (v.missing, thumbs.status(v).error) if p]
        if problems and not status:
            status = "**This video cannot be shown:** " + "; ".join(problems)
        return (
            tab,
            player_html(v) if changed else gr.skip(),
            bounds,
            strip_html(s, thumbs),
            _clip_text(s),
            _progress_text(s),
            gr.Dropdown(choices=_video_choices(s), value=v.video_id) if changed else gr.skip(),
            status,
        )

    def on_load(request: gr.Request):
        name = annotator or getattr(request, "username", None)
        if not name:
            raise gr.Error("Sign in first: this page needs an annotator's name.")
        try:
            session = AnnotationSession(store, videos, check_annotator_name(name),
                                        app_version=__version__)  # fmt: skip
        except TVHighlightsError as e:
            raise gr.Error(str(e)) from e
        note = ""
        if session.warnings:
            note = f"**{len(session.warnings)} line(s) of your file were skipped:** " + "; ".join(
                session.warnings[:3]
            )
        return view(_Tab(session), note)

    def guarded(action):
        def handler(tab: _Tab | None, *args):
            if tab is None:
                return (None, *(gr.skip() for _ in range(7)))
            status = ""
            try:
                status = action(tab.session, *args) or ""
            except TVHighlightsError as e:
                gr.Warning(str(e))
                status = f"**Not saved:** {e}"
            return view(tab, status)

        return handler

    def decide(highlight: bool, category: str | None = None):
        def act(s: AnnotationSession):
            if s.video.missing:
                raise InvalidArgumentError(s.video.missing)
            s.decide(highlight, category)
            return ""

        return act

    def on_goto(tab: _Tab | None, target: str):
        if tab is None:
            return (None, *(gr.skip() for _ in range(7)))
        text = (target or "").strip()
        follow = text.endswith("f")
        try:
            tab.session.goto(int(text.rstrip("f")))
        except ValueError:
            return view(tab, f"not a clip: {text!r}")
        return view(tab, seek=not follow)

    def on_video(tab: _Tab | None, video_id: str):
        return guarded(lambda s: s.select_video(video_id))(tab)

    def done_message(found: bool, what: str) -> str:
        return "" if found else f"Every clip {what} has a decision."

    def on_tick(tab: _Tab | None):
        if tab is None or thumbs.status(tab.session.video).made == tab.drawn:
            return gr.skip()
        tab.drawn = thumbs.status(tab.session.video).made
        return strip_html(tab.session, thumbs)

    with gr.Blocks(title="TVHighlights: annotate", analytics_enabled=False) as page:
        tab = gr.State(None)
        gr.Markdown("# TVHighlights: annotate the test split\n" + SHORTCUTS, elem_id="shortcuts")
        progress = gr.Markdown("", elem_id="progress")
        with gr.Row():
            with gr.Column(scale=3):
                player = gr.HTML("", elem_id="player")
                with gr.Row():
                    # read by the page's script only (interactive: no server event uses them)
                    gr.Checkbox(True, label="Keep playback inside the clip (loop)",
                                elem_id="loop", interactive=True)  # fmt: skip
                    gr.Radio(["0.5", "0.75", "1", "1.25", "1.5", "2"], value="1", label="Speed",
                             elem_id="speed", interactive=True)  # fmt: skip
            with gr.Column(scale=2):
                video = gr.Dropdown(choices=[], label="Video", elem_id="video")
                clip_md = gr.Markdown("", elem_id="clip")
                with gr.Row():
                    hl = gr.Button("Highlight (h)", variant="primary", elem_id="hl")
                    no = gr.Button("Not a highlight (x)", elem_id="not")
                with gr.Row():
                    cats = [gr.Button(f"{i} {c}", elem_id=f"cat-{i}", size="sm")
                            for i, c in enumerate(CATEGORIES, 1)]  # fmt: skip
                with gr.Row():
                    prev = gr.Button("← previous (j)", elem_id="prev", size="sm")
                    nxt = gr.Button("next (l) →", elem_id="next", size="sm")
                    todo = gr.Button("next to do (u)", elem_id="next-todo", size="sm")
                    next_video = gr.Button("next video (v)", elem_id="next-video", size="sm")
                status = gr.Markdown("", elem_id="status")
        strip = gr.HTML("", elem_id="strip-box")
        bounds = gr.Textbox("{}", visible="hidden", elem_id="clip-bounds")
        goto = gr.Textbox("", visible="hidden", elem_id="goto-clip")
        goto_btn = gr.Button("go", visible="hidden", elem_id="goto")
        timer = gr.Timer(1.0)

        outputs = [tab, player, bounds, strip, clip_md, progress, video, status]
        common = {"concurrency_limit": 1, "concurrency_id": "annotate",
                  "show_progress": "hidden"}  # fmt: skip
        page.load(on_load, None, outputs, **common)
        hl.click(guarded(decide(True)), tab, outputs, **common)
        no.click(guarded(decide(False)), tab, outputs, **common)
        for button, category in zip(cats, CATEGORIES, strict=True):
            button.click(guarded(decide(True, category)), tab, outputs, **common)
        prev.click(guarded(lambda s: s.step(-1)), tab, outputs, **common)
        nxt.click(guarded(lambda s: s.step(1)), tab, outputs, **common)
        todo.click(guarded(lambda s: done_message(s.next_unannotated(), "of every video")),
                   tab, outputs, **common)  # fmt: skip
        next_video.click(guarded(lambda s: done_message(s.next_unannotated_video(),
                                                        "of the other videos")),
                         tab, outputs, **common)  # fmt: skip
        goto_btn.click(on_goto, [tab, goto], outputs, **common)
        video.input(on_video, [tab, video], outputs, **common)
        timer.tick(on_tick, tab, strip, show_progress="hidden", queue=False)
    page.queue(max_size=64)
    return page


def launch_annotator(
    dataset: str | Path,
    store: str | Path,
    videos: str | Path | Sequence[str] | None = None,
    *,
    auth: str | Path | None = None,
    annotator: str | None = None,
    host: str | None = "127.0.0.1",
    port: int | None = 7861,
    thumbnails_dir: str | Path | None = None,
    block: bool = True,
) -> gr.Blocks:
    """Serve the annotation page for the ``videos`` (a CSV of ids; default: the test split)
    of ``dataset``, writing decisions under ``store``.

    With ``auth`` (an annotators file: ``tvhighlights annotations add-user``) every annotator
    signs in and writes only their own file; without it the page is ``annotator``'s alone.
    Records the videos in ``store/videos.json`` so the store is aggregated without the app.
    The clips' pictures are cached in ``thumbnails_dir`` (default: ``thumbnails/`` in the
    tvhighlights cache). Never shares a tunnel, never sends analytics; the store itself is
    never served.
    """
    if (auth is None) == (annotator is None):
        raise InvalidArgumentError(
            "give either an annotators file (auth) or one annotator's name, not both or neither",
            param="annotator",
        )
    checker = Annotators(Path(auth)) if auth is not None else None
    if annotator is not None:
        check_annotator_name(annotator)
    items = load_videos(dataset, videos)
    st = AnnotationStore(store)
    st.root.mkdir(parents=True, exist_ok=True)
    st.write_videos({v.video_id: v.to_json() for v in items})
    thumbs = Thumbnails(thumbnails_dir or default_thumbnails_dir())
    thumbs.folder.mkdir(parents=True, exist_ok=True)
    page = build_annotator(items, st, annotator=annotator, thumbnails=thumbs)
    folders = sorted({str(v.path.resolve().parent) for v in items if not v.missing})
    logger.info("annotating %d videos into %s", len(items), st.root)
    return launch_page(
        page,
        host=host,
        port=port,
        script="annotate.js",
        style="annotate.css",
        allowed_paths=[str(thumbs.folder.resolve()), *folders],
        block=block,
        auth=checker,
        auth_message="TVHighlights annotation: sign in with your annotator name.",
        blocked_paths=[str(st.root.resolve())],  # blind: no one fetches another's file
    )
