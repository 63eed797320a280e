"""The clip strip's pictures: one small JPEG per 2-second clip, made once per video, in the
background, and cached on disk.

A 2-hour film has 3,600 clips: the page must open before they exist. :class:`Thumbnails`
decodes a video once (one frame per second, kept at the middle of each clip) in a worker
thread, writing each picture as it comes; the page shows what is there and a placeholder
for the rest. The video asked for last goes first; a video left half done resumes from its
first missing clip. Pictures live in ``<folder>/<key>/<clip>.jpg``, keyed on the file (path,
size, modification time) and the row's window, so a changed file gets new pictures.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import TVHighlightsError
from ..fileio import atomic_write
from .videos import AnnotationVideo

logger = logging.getLogger(__name__)

__all__ = ["ThumbnailStatus", "Thumbnails"]

WIDTH = 160
"""Width of a picture in pixels (the height keeps the video's aspect)."""


@dataclass
class ThumbnailStatus:
    """How far a video's pictures are: the clips ``done`` of ``total``, in ``folder``, and why
    they stopped if they did (``error``: the video does not decode)."""

    folder: Path
    total: int = 0
    error: str | None = None
    done: set[int] = field(default_factory=set)

    @property
    def made(self) -> int:
        return len(self.done)

    @property
    def finished(self) -> bool:
        return self.error is not None or self.made >= self.total


class Thumbnails:
    """Makes and finds the pictures of the videos' clips (one worker thread, newest first)."""

    def __init__(self, folder: str | Path, *, width: int = WIDTH) -> None:
        self.folder = Path(folder)
        self.width = int(width)
        self._lock = threading.Condition()
        self._status: dict[str, ThumbnailStatus] = {}
        self._queue: list[AnnotationVideo] = []
        self._worker: threading.Thread | None = None
        self._around: dict[str, int] = {}

    # -- where the pictures are ----------------------------------------------------------------

    def key(self, video: AnnotationVideo) -> str:
        try:
            st = video.path.stat()
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            stamp = "missing"
        raw = f"{video.path.resolve()}|{stamp}|{video.start}|{video.num_clips}|{self.width}"
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    def path(self, video: AnnotationVideo, clip: int) -> Path:
        return self.status(video).folder / f"{clip:05d}.jpg"

    def status(self, video: AnnotationVideo) -> ThumbnailStatus:
        """The video's progress (read from disk the first time it is asked for)."""
        with self._lock:
            st = self._status.get(video.video_id)
            if st is None:
                st = self._scan(video)
                self._status[video.video_id] = st
            return st

    def available(self, video: AnnotationVideo, clip: int) -> Path | None:
        """The picture of a clip when it has been made, else ``None``."""
        st = self.status(video)
        return self.path(video, clip) if clip in st.done else None

    def _scan(self, video: AnnotationVideo) -> ThumbnailStatus:
        sub = self.folder / self.key(video)
        done = set()
        if sub.is_dir():
            for p in sub.glob("*.jpg"):
                if p.stem.isdigit() and int(p.stem) < video.num_clips:
                    done.add(int(p.stem))
        return ThumbnailStatus(sub, video.num_clips, None, done)

    # -- making them ---------------------------------------------------------------------------

    def request(self, video: AnnotationVideo, around: int = 0) -> ThumbnailStatus:
        """Make the video's missing pictures in the background, before any asked for earlier:
        from the strip's window around clip ``around`` to the end, then the rest."""
        st = self.status(video)
        with self._lock:
            self._around[video.video_id] = max(0, int(around) - 8)
            if st.finished:
                return st
            self._queue = [v for v in self._queue if v.video_id != video.video_id]
            self._queue.append(video)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="thumbnails", daemon=True)
                self._worker.start()
            self._lock.notify_all()
        return st

    def make(self, video: AnnotationVideo) -> ThumbnailStatus:
        """Make the video's missing pictures now, in this thread (the benchmark, a warm-up)."""
        self._make(video, preempt=False)
        return self.status(video)

    def wait(self, video: AnnotationVideo, timeout: float | None = None) -> ThumbnailStatus:
        """Block until the video's pictures are finished (or ``timeout`` seconds pass)."""
        with self._lock:
            self._lock.wait_for(lambda: self.status(video).finished, timeout)
        return self.status(video)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._worker = None
                    return
                video = self._queue[-1]
            self._make(video, preempt=True)
            with self._lock:
                if self.status(video).finished and self._queue and self._queue[-1] is video:
                    self._queue.pop()

    def _preempted(self, video: AnnotationVideo) -> bool:
        with self._lock:
            return bool(self._queue) and self._queue[-1].video_id != video.video_id

    def _make(self, video: AnnotationVideo, *, preempt: bool) -> None:
        from ..video import iter_frames, probe

        st = self.status(video)
        missing = [i for i in range(video.num_clips) if i not in st.done]
        if not missing or st.error:
            return
        with self._lock:
            around = self._around.pop(video.video_id, 0)
        later = [i for i in missing if i >= around]
        whole = len(later) in (0, len(missing))  # this pass goes over every missing clip
        missing = later or missing  # the strip's window first; the earlier clips next pass
        if video.missing:
            self._fail(video, video.missing)
            return
        first = missing[0]
        sub = st.folder
        sub.mkdir(parents=True, exist_ok=True)
        try:
            info = probe(video.path)
            height = max(2, round(self.width * info.height / max(info.width, 1) / 2) * 2)
            pending: tuple[int, object] | None = None  # a clip's first frame, kept until the middle
            start, end = video.clip_span(first)[0], video.start + video.duration
            for t, frame in iter_frames(video.path, 1.0, size=(self.width, height),
                                        start=start, end=end):  # fmt: skip
                clip = int((t - video.start + 1e-6) // 2)
                middle = (t - video.start - 2 * clip) >= 1 - 1e-6
                if pending is not None and pending[0] != clip:
                    self._save(video, sub, *pending)  # a short last clip: its first frame
                    pending = None
                if clip >= video.num_clips or clip in st.done:
                    continue
                if middle:
                    self._save(video, sub, clip, frame)
                    pending = None
                else:
                    pending = (clip, frame)
                if preempt and self._preempted(video):
                    return
            if pending is not None:
                self._save(video, sub, *pending)
        except TVHighlightsError as e:
            self._fail(video, str(e))
            return
        with self._lock:
            if whole and st.made < st.total:  # the file ends before its row: the rest fails
                st.error = f"{video.path}: no picture for {st.total - st.made} clips"
            self._lock.notify_all()

    def _save(self, video: AnnotationVideo, sub: Path, clip: int, frame) -> None:
        from PIL import Image

        buf = Image.fromarray(frame)
        with atomic_write(sub / f"{clip:05d}.jpg", "wb", encoding=None) as fh:
            buf.save(fh, format="JPEG", quality=80)
        with self._lock:
            st = self.status(video)
            st.done.add(clip)
            self._lock.notify_all()

    def _fail(self, video: AnnotationVideo, reason: str) -> None:
        logger.warning("thumbnails of %s: %s", video.video_id, reason)
        with self._lock:
            self.status(video).error = reason
            self._lock.notify_all()
