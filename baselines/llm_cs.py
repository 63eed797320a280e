"""LLM clip scoring ("CS" in seed 000's main table): describe every clip, let an LLM score it.

Seed 000 compares LTV-HD with MLLMs prompted to score every clip (Qwen-vl-max 88.40 AUC /
47.42 AP, Gemini-2.5-flash 87.52 / 46.10 on TVHighlights). This row is the same idea with the
stage-2 parts and no training: the describer turns each 2-second clip into words
(:func:`tvhighlights.llm.describer.describe_videos`; ``signals`` offline from the handcrafted
cues, or a vision-language model over any chat backend) and the LLM scores them with LLG's
chain-of-thought prompt and no patterns (:func:`tvhighlights.training.stage2.llg.llg_scores`),
``clips_per_call`` clips per call at 0.1 steps.

What differs from the seed's CS rows: the seed gives one MLLM the frames; here a describer
gives a text-only LLM words (with ``signals``, only measured loudness, motion and cuts, so the
LLM cannot see who or what is on screen). The default, SmolLM2-135M from a PyPI wheel, runs
offline on a CPU and is a test model: its judgement is weak. Any OpenAI-compatible server
(``openai:http://127.0.0.1:8000/v1``) can take its place.

A clip no answer scores (a failed call, an unusable answer) gets its video's median score
(0.5 where none of the video's clips has one) and is counted in :attr:`problems`; when no
call succeeds at all, scoring stops with :class:`~tvhighlights.errors.BaselineInputError`
naming the server and its error (the leaderboard skips the row with that reason).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tvhighlights.errors import BaselineInputError
from tvhighlights.llm.describer import describe_videos, row_clips

from .base import Baseline, BaselineData, BaselineVideo, PaperFigure

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_LLM", "LLMClipScoringBaseline"]

DEFAULT_LLM = "transformers:smollm2"
"""The packaged SmolLM2-135M-Instruct: offline, CPU, no download."""


class LLMClipScoringBaseline(Baseline):
    description = "LLM clip scoring: the stage-2 describer and LLM score every clip"
    paper = "seed 000: LTV-HD (TVHighlights), MLLM clip-scoring baselines"
    paper_figures = (
        PaperFigure("TVHighlights", "AUC", 88.40, "seed 000, main results: Qwen-vl-max (CS)"),
        PaperFigure("TVHighlights", "AP", 47.42, "seed 000, main results: Qwen-vl-max (CS)"),
        PaperFigure("TVHighlights", "AUC", 87.52, "seed 000, main results: Gemini-2.5-flash"),
        PaperFigure("TVHighlights", "AP", 46.10, "seed 000, main results: Gemini-2.5-flash"),
    )

    def __init__(
        self,
        llm: str = DEFAULT_LLM,
        describer: str = "signals",
        *,
        clips_per_call: int = 12,
        max_tokens: int = 1024,
        timeout: float = 60.0,
        retries: int = 2,
        concurrency: int = 2,
        cache: str | Path | None = None,
        device: str = "cpu",
        client: Any = None,
    ) -> None:
        self.llm = llm
        self.describer_spec = describer
        self.clips_per_call = int(clips_per_call)
        self.max_tokens = int(max_tokens)
        self.options = {"timeout": float(timeout), "retries": int(retries),
                        "concurrency": int(concurrency), "device": device}  # fmt: skip
        self.cache = cache
        self.requires = ("handcrafted",) if describer == "signals" else ()
        self._client = client
        self._describer: Any = None
        self.problems: Counter = Counter()
        """What the last :meth:`score_many` met: failed calls, unscored clips, answers that
        came from the call cache (a rerun's score time is then not the LLM's)."""

    @property
    def client(self) -> Any:
        """The LLM client (its ``stats`` count calls, retries and failures); None before fit."""
        return self._client

    def fit(
        self, train: BaselineData, *, work_dir: Path | None = None, show_progress: bool = False
    ) -> Baseline:
        """Nothing is learned: makes the LLM client and the describer (no call yet)."""
        self._setup(work_dir)
        return self

    def _setup(self, work_dir: Path | None = None) -> None:
        from tvhighlights.llm.cache import CallCache
        from tvhighlights.llm.registry import get_describer, get_llm

        if self._client is not None and self._describer is not None:
            return
        path = self.cache or (Path(work_dir) / "llm-calls.jsonl" if work_dir else None)
        cache = CallCache(path) if path else None
        if self._client is None:
            self._client = get_llm(self.llm, cache=cache, max_tokens=self.max_tokens,
                                   **self.options)  # fmt: skip
        self._describer = get_describer(self.describer_spec, cache=cache, **self.options)

    def score(self, video: BaselineVideo) -> np.ndarray:
        return self.score_many([video])[video.video_id]

    def score_many(
        self, videos: Sequence[BaselineVideo], *, show_progress: bool = False
    ) -> dict[str, np.ndarray]:
        """All videos' clips in one batch of calls (``concurrency`` at once)."""
        from tvhighlights.features.handcrafted import AUDIO_FEATURES, VISUAL_FEATURES
        from tvhighlights.training.stage2.llg import GENRES, LLGVideo, llg_scores

        self._setup()
        names = {"visual": [n for n, _ in VISUAL_FEATURES], "audio": [n for n, _ in AUDIO_FEATURES]}
        clips = []
        for v in videos:
            self.check(v)
            cues: dict[str, np.ndarray] = {}
            block = v.features.get("handcrafted", {})
            for modality, cols in names.items():
                arr = block.get(modality)
                if arr is not None and (modality == "visual" or v.has_audio):
                    cues.update({c: arr[:, j] for j, c in enumerate(cols[: arr.shape[1]])})
            clips.append(row_clips(v.video_id, v.num_clips, start=v.start,
                                   video_path=v.video_path, title=v.title, cues=cues))  # fmt: skip
        texts, failed = describe_videos(self._describer, clips, show_progress=show_progress)
        genres = list(dict.fromkeys([*GENRES, *sorted({v.genre.lower() for v in videos
                                                       if v.genre})]))  # fmt: skip
        requests = [
            LLGVideo(v.video_id, v.title or v.video_id, v.genre, v.start, texts[v.video_id])
            for v in videos
        ]
        stats = self._client.stats
        before, cached0 = stats.failures.copy(), stats.cached
        res = llg_scores(self._client, requests, genres, clips_per_call=self.clips_per_call,
                         max_tokens=self.max_tokens, show_progress=show_progress,
                         desc=f"score {self.name}")  # fmt: skip
        self.problems = Counter(res.problems)
        cached = stats.cached - cached0
        if cached:  # the score time then is not the LLM's
            self.problems["answers from the call cache"] += cached
        if failed:
            self.problems["clips not described"] += failed
        calls = sum(-(-v.num_clips // self.clips_per_call) for v in videos)
        if calls and res.problems.get("LLG call failed", 0) == calls:
            new = stats.failures - before
            why = f" ({', '.join(f'{k}: {n}' for k, n in new.items())})" if new else ""
            raise BaselineInputError(
                f"baseline {self.name!r}: every call to the LLM {self.llm!r} failed{why}"
            )
        out = {}
        for v in videos:
            s = np.asarray(res.scores[v.video_id], dtype=np.float64)
            missing = np.isnan(s)
            if missing.any():
                self.problems["clips without an LLM score"] += int(missing.sum())
                s[missing] = float(np.nanmedian(s)) if (~missing).any() else 0.5
            out[v.video_id] = self.checked_scores(v, s)
        if self.problems:
            logger.warning("%s: %s", self.name, dict(self.problems))
        return out
