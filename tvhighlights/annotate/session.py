"""One annotator at work: where they are, what they decided, and how far they have come.

The page (:mod:`tvhighlights.app.annotator`) holds one :class:`AnnotationSession` per browser
tab and only renders it; everything a key or a click does is a method here, so it is tested
without a browser. Decisions go to the store the moment they are made; the session keeps a
copy to draw the page. Reopening the page makes a new session that reads the annotator's
file and position back: it resumes exactly where they stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InvalidArgumentError
from .store import CATEGORIES, AnnotationStore, Decision
from .videos import AnnotationVideo

__all__ = ["AnnotationSession", "Progress"]


@dataclass(frozen=True)
class Progress:
    """Clips decided of all clips: in the current video and over every video."""

    video_done: int
    video_total: int
    done: int
    total: int
    videos_done: int
    videos: int


class AnnotationSession:
    """An annotator's position and decisions over a list of videos."""

    def __init__(
        self,
        store: AnnotationStore,
        videos: Sequence[AnnotationVideo],
        annotator: str,
        *,
        app_version: str = "",
        advance: bool = True,
    ) -> None:
        if not videos:
            raise InvalidArgumentError("no videos to annotate", param="videos")
        self.store = store
        self.videos = list(videos)
        self.annotator = annotator
        self.app_version = app_version
        self.advance = advance
        self.lock = threading.RLock()
        self._index = {v.video_id: i for i, v in enumerate(self.videos)}
        sizes = {v.video_id: v.num_clips for v in self.videos}
        found = store.read(annotator, sizes, strict=False)
        self.warnings = list(found.warnings)
        self.decisions: dict[str, dict[int, Decision]] = {v.video_id: {} for v in self.videos}
        for (vid, clip), d in found.latest.items():
            self.decisions[vid][clip] = d
        self.video_index = 0
        self.clip = 0
        where = store.position(annotator)
        if where is not None and where[0] in self._index:
            self.video_index = self._index[where[0]]
            self.clip = min(max(where[1], 0), self.video.num_clips - 1)
        elif found.latest:
            self.next_unannotated()

    # -- where we are --------------------------------------------------------------------------

    @property
    def video(self) -> AnnotationVideo:
        return self.videos[self.video_index]

    @property
    def decision(self) -> Decision | None:
        """The current clip's decision, if any."""
        return self.decisions[self.video.video_id].get(self.clip)

    def _save_position(self) -> None:
        self.store.save_position(self.annotator, self.video.video_id, self.clip)

    def goto(self, clip: int) -> None:
        """Move to clip ``clip`` of the current video (clamped to the video)."""
        with self.lock:
            self.clip = min(max(int(clip), 0), self.video.num_clips - 1)
            self._save_position()

    def step(self, delta: int) -> None:
        """Move ``delta`` clips (running on into the next or previous video)."""
        with self.lock:
            clip = self.clip + int(delta)
            if clip >= self.video.num_clips and self.video_index + 1 < len(self.videos):
                self.video_index, clip = self.video_index + 1, 0
            elif clip < 0 and self.video_index > 0:
                self.video_index -= 1
                clip = self.video.num_clips - 1
            self.goto(clip)

    def select_video(self, video_id: str) -> None:
        """Open another video, at its first clip without a decision."""
        with self.lock:
            if video_id not in self._index:
                raise InvalidArgumentError(f"unknown video {video_id!r}", param="video")
            self.video_index = self._index[video_id]
            todo = self._first_undecided(self.video_index, 0)
            self.goto(0 if todo is None else todo)

    def _first_undecided(self, video_index: int, start: int) -> int | None:
        v = self.videos[video_index]
        done = self.decisions[v.video_id]
        return next((i for i in range(start, v.num_clips) if i not in done), None)

    def next_unannotated(self) -> bool:
        """Move to the next clip without a decision (this video first, then the following
        videos, then from the top); ``False`` when every clip is decided."""
        with self.lock:
            order = [self.video_index] + [
                (self.video_index + k) % len(self.videos) for k in range(1, len(self.videos) + 1)
            ]
            for n, vi in enumerate(order):
                start = self.clip + 1 if n == 0 else 0
                found = self._first_undecided(vi, start)
                if found is not None:
                    self.video_index = vi
                    self.goto(found)
                    return True
            return False

    def next_unannotated_video(self) -> bool:
        """Open the next video with a clip still undecided; ``False`` when there is none."""
        with self.lock:
            for k in range(1, len(self.videos) + 1):
                vi = (self.video_index + k) % len(self.videos)
                found = self._first_undecided(vi, 0)
                if found is not None and vi != self.video_index:
                    self.video_index = vi
                    self.goto(found)
                    return True
            return False

    # -- deciding ------------------------------------------------------------------------------

    def decide(self, highlight: bool, category: str | None = None, *,
               advance: bool | None = None) -> Decision:  # fmt: skip
        """Record the current clip as a highlight (of ``category``) or not; then move on to the
        next clip when ``advance`` (default: the session's), except after a highlight without
        a category, which waits for one."""
        if category is not None and category not in CATEGORIES:
            raise InvalidArgumentError(f"unknown category {category!r}", param="category")
        with self.lock:
            if category is not None:
                highlight = True
            d = self.store.record(self.annotator, self.video.video_id, self.clip, highlight,
                                  category, app_version=self.app_version)  # fmt: skip
            self.decisions[self.video.video_id][self.clip] = d
            waits = highlight and category is None
            if (self.advance if advance is None else advance) and not waits:
                self.step(1)
            else:
                self._save_position()
            return d

    # -- how far -------------------------------------------------------------------------------

    def progress(self) -> Progress:
        with self.lock:
            done = {v.video_id: len(self.decisions[v.video_id]) for v in self.videos}
            total = sum(v.num_clips for v in self.videos)
            full = sum(done[v.video_id] >= v.num_clips for v in self.videos)
            return Progress(done[self.video.video_id], self.video.num_clips,
                            sum(done.values()), total, full, len(self.videos))  # fmt: skip

    def video_progress(self, video: AnnotationVideo) -> tuple[int, int]:
        return len(self.decisions[video.video_id]), video.num_clips

    def window(self, size: int = 15) -> range:
        """The clips the strip shows: ``size`` around the current one."""
        n = self.video.num_clips
        size = min(size, n)
        first = min(max(self.clip - size // 2, 0), n - size)
        return range(first, first + size)
