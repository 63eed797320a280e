"""A corpus where the truth is known, for proving LTV-HD stage 2's mechanism without a 7B LLM.

No TVHighlights and no LLM are reachable, so everything stage 2 talks to is simulated, and
simulated so that the loop's claims can be checked against a planted truth:

- :func:`simulate_corpus` writes a real dataset folder (``write_dataset``) and a real
  :class:`~tvhighlights.features.store.FeatureStore` (extractor ``simulated``, 21 visual +
  13 audio columns, the handcrafted extractor's widths), plus ``truth.json`` beside them.
- :class:`SimulatedDescriber` turns a clip's planted cues into a short noisy text (the MLLM's
  caption), read from ``truth.json`` by ``(video_id, index)``.
- :class:`SimulatedLLM` is a :class:`~tvhighlights.llm.base.ChatBackend` that answers the
  three stage-2 prompts (``llg_score``, ``hpi_patterns``, ``hpi_correct``) by parsing their
  text only: it never sees the truth. Better patterns in its prompt lower its error.

The world (all parameters below are the module's defaults; nothing was fitted to make any
ablation row win)
----------------------------------------------------------------------------------------

**Cues.** 22 cue words, 14 visual (fast motion, rapid cutting, explosion, close-up of faces,
warm light, dark scene, sudden change, crowd, dancing, bright colours, calm scenery, tears,
weapons drawn, kiss) and 8 audio (loud, soft music, people talking, silence, laughter,
singing, scream, impacts), each with two phrasings ("fast motion" / "quick movement").

**Genres.** Seven (action, romance, horror, comedy, musical, drama, sci-fi), each with its own
rates of every cue in ordinary clips (``ORDINARY``) and in highlight clips (``HIGHLIGHT``).
Some cues mean opposite things: *loud* marks action, horror and sci-fi highlights but is the
normal state of a musical (55 % of ordinary clips, 30 % of its highlights, which are dance
and song numbers); *close-up of faces* and *people talking* are ordinary in most genres but
*close-up of faces* marks romance and drama highlights; *dark* is ordinary in horror. The
catalogue genre of a video is right 90 % of the time (else a random other genre).

**Truth.** 65 % of videos have highlights: 10-20 % of their clips, in runs of 1-4 contiguous
clips; the other 35 % have none. A highlight clip draws its cues from the genre's highlight
rates, every other clip from the ordinary rates; half the ordinary clips continue the previous
clip's scene (same cues), so ordinary stretches are locally coherent. Even a reader of the
true cues cannot be perfect (rates overlap): the Bayes-optimal per-clip AUC from the true cue
set is printed by ``bench_stage2.py`` as the ceiling.

**Features.** Per clip, the cue vector through a fixed random linear map (visual cues to 16
visual columns, audio cues to 10 audio columns; each cue's direction has norm 3), plus a
genre "style" offset (norm 1), a per-video offset (sd 0.3), AR(1) clip noise (sd 1, rho 0.5),
and nuisance columns (5 visual, 3 audio) that carry only noise and offsets. (A first draft used
norm 1.5: then even LTV-HD trained on the *true* clip labels reached only ~73 test AUC, and a
per-genre logistic regression ~79, far below what the captions allow (~89), unlike real CLIP /
SlowFast / ImageBind features; at norm 3 those are ~83 and ~88. The change was made on that
supervised ceiling; for the record, a 120-video, 30-epoch draft ablation at norm 1.5 had stage
1 at chance, test AUC 48, and the full loop below the no-stage-1 rows.) 5 % of videos have
no audio track (zeros, ``has_audio`` false).

**Train labels** (community reuse, like TVHighlights' votes): each true highlight run is
reused with probability 0.55 (its clips voted; 30 % of reused runs lose a boundary clip, 30 %
spill one clip past it, the alignment's slop); 12 % of videos also get a false run of 1-2
clips, placed with probability proportional to how generically "exciting" a clip's cues are
(popularity bias). ``labels`` = votes > 0, ``video_label`` = any. Test ``labels`` = truth
(the human annotation).

**Describer** (the MLLM caption): each true cue kept with probability 0.8 (visual) or 0.55
(audio: a frame-based captioner guesses sound from the picture), each absent cue added with
probability 0.02; 0.5 % of clips fail (``None``).

**The LLM** (``llg_score``): the clip's cue words, parsed from its description, scored as a
logit. Without patterns: a generic "editor's" prior (explosions, impacts, fast motion, loud,
rapid cutting, weapons, screams are exciting; talking, calm scenery and silence are not),
offset -1.8, plus a genre bias (action +0.6, sci-fi +0.4, musical +0.3, horror +0.2, romance
-0.3, comedy -0.4, drama -0.5) and Gaussian noise (sd 0.8). With patterns for the video's
genre: half the prior, plus 1.4 per highlight pattern matched (a pattern's share of cue words
found in the description; the sum capped at 3), minus 1.0 per non-highlight pattern matched
(capped at 3), offset -2.0. Then over-confidence (the logit times 1.8 before the sigmoid), a
random flip (score -> 1 - score) with probability 0.07, 0.1 steps. Per answer: 2 % prose
without JSON, 1.5 % cut off inside ``<think>``, 1.5 % JSON cut off mid-list (the parser repairs
the part before the cut); 60 % of the rest open with a closed ``<think>`` block, 20 % fence
the JSON. Per clip: 1 % skipped, 1 % out of range (given on a 0-10 scale), 10 % written as a
string ("0.7" or "70%"). Genre: the catalogue's with probability 0.89, a random wrong one
0.08, an unknown name ("martial-arts noir") 0.03.

**HPI** (``hpi_patterns``): per cue, its share among the confident highlight descriptions
minus its share among the confident non-highlight ones; cues ahead by >= 0.25 (and in >= 30 %
of their side) become patterns, at most 4 highlight and 3 non-highlight, the top two
highlight cues also as one combined pattern; known patterns are kept while their cues still
lean their way. The patterns are exactly as good as the model's confident clips. With
probability 0.25 a wrong highlight pattern from the generic prior is added (a hallucination);
5 % of answers are unusable. **Correction** (``hpi_correct``): drops a highlight pattern
sharing a cue with a non-highlight one, and with probability 0.3 one random pattern; 5 %
unusable.

Everything is deterministic given the seed: per-call randomness is seeded by a hash of the
prompt text, so a changed prompt (new patterns) draws new noise, as a sampled LLM would.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tvhighlights.llm.base import ChatBackend, Message, text_of
from tvhighlights.llm.describer import ClipToDescribe

__all__ = [
    "CUES",
    "GENRES",
    "LLMNoise",
    "SimulatedDescriber",
    "SimulatedLLM",
    "Truth",
    "cue_ids",
    "simulate_corpus",
]

# --------------------------------------------------------------------------------------------
# The world

CUES: dict[str, tuple[str, str, str]] = {
    # id: (modality, phrasing 1, phrasing 2)
    "fast_motion": ("visual", "fast motion", "quick movement"),
    "rapid_cuts": ("visual", "rapid cutting", "quick cuts"),
    "explosion": ("visual", "explosion", "fireball"),
    "close_faces": ("visual", "close-up of faces", "faces in close-up"),
    "warm_light": ("visual", "warm light", "golden light"),
    "dark": ("visual", "dark scene", "low light"),
    "sudden_change": ("visual", "sudden change of picture", "abrupt shift"),
    "crowd": ("visual", "crowd", "many people"),
    "dancing": ("visual", "dancing", "dance moves"),
    "bright_colours": ("visual", "bright colours", "vivid colours"),
    "calm_scenery": ("visual", "calm scenery", "still landscape"),
    "tears": ("visual", "tears", "someone crying"),
    "weapons": ("visual", "weapons drawn", "guns out"),
    "kiss": ("visual", "kiss", "embrace"),
    "loud": ("audio", "loud sound", "loud"),
    "soft_music": ("audio", "soft music", "gentle music"),
    "speech": ("audio", "people talking", "dialogue"),
    "silence": ("audio", "silence", "no sound"),
    "laughter": ("audio", "laughter", "people laughing"),
    "singing": ("audio", "singing", "a song"),
    "scream": ("audio", "scream", "shriek"),
    "impacts": ("audio", "impacts", "crashes and bangs"),
}
CUE_LIST = list(CUES)
VISUAL_CUES = [c for c in CUE_LIST if CUES[c][0] == "visual"]
AUDIO_CUES = [c for c in CUE_LIST if CUES[c][0] == "audio"]

BASE_RATE = 0.05
"""Rate of a cue in ordinary clips where the genre does not say otherwise."""

ORDINARY: dict[str, dict[str, float]] = {
    "action": {"speech": 0.5, "fast_motion": 0.2, "loud": 0.2, "weapons": 0.1},
    "romance": {"speech": 0.55, "close_faces": 0.35, "soft_music": 0.25, "warm_light": 0.2},
    "horror": {"dark": 0.6, "silence": 0.3, "speech": 0.3},
    "comedy": {"speech": 0.6, "bright_colours": 0.3, "crowd": 0.15, "laughter": 0.1},
    "musical": {
        "loud": 0.55,
        "singing": 0.35,
        "bright_colours": 0.35,
        "crowd": 0.3,
        "dancing": 0.15,
    },
    "drama": {"speech": 0.6, "calm_scenery": 0.2, "close_faces": 0.25},
    "sci-fi": {"speech": 0.4, "bright_colours": 0.3, "calm_scenery": 0.15, "dark": 0.2},
}
"""Genre-specific cue rates of ordinary clips (the rest: :data:`BASE_RATE`)."""

HIGHLIGHT: dict[str, dict[str, float]] = {
    "action": {
        "fast_motion": 0.8,
        "loud": 0.7,
        "rapid_cuts": 0.7,
        "impacts": 0.7,
        "explosion": 0.35,
        "weapons": 0.4,
        "speech": 0.2,
    },
    "romance": {
        "close_faces": 0.85,
        "soft_music": 0.7,
        "kiss": 0.55,
        "warm_light": 0.6,
        "tears": 0.2,
        "speech": 0.25,
    },
    "horror": {
        "sudden_change": 0.7,
        "scream": 0.6,
        "loud": 0.6,
        "dark": 0.7,
        "fast_motion": 0.3,
        "silence": 0.1,
    },
    "comedy": {"laughter": 0.8, "speech": 0.6, "crowd": 0.35, "fast_motion": 0.25},
    "musical": {
        "dancing": 0.8,
        "singing": 0.75,
        "crowd": 0.6,
        "bright_colours": 0.7,
        "rapid_cuts": 0.4,
        "loud": 0.3,
    },
    "drama": {
        "tears": 0.7,
        "close_faces": 0.8,
        "silence": 0.5,
        "soft_music": 0.4,
        "scream": 0.2,
        "speech": 0.3,
    },
    "sci-fi": {
        "explosion": 0.55,
        "bright_colours": 0.7,
        "sudden_change": 0.55,
        "loud": 0.65,
        "fast_motion": 0.6,
        "impacts": 0.35,
        "speech": 0.15,
    },
}
"""Genre-specific cue rates of highlight clips (the rest: the genre's ordinary rates)."""

GENRES = tuple(ORDINARY)

PRIOR: dict[str, float] = {
    "explosion": 1.6,
    "impacts": 1.0,
    "fast_motion": 1.0,
    "loud": 0.9,
    "rapid_cuts": 0.9,
    "weapons": 0.8,
    "scream": 0.8,
    "sudden_change": 0.7,
    "kiss": 0.6,
    "tears": 0.6,
    "crowd": 0.3,
    "dancing": 0.3,
    "bright_colours": 0.2,
    "laughter": 0.2,
    "singing": 0.1,
    "close_faces": 0.1,
    "dark": 0.1,
    "soft_music": -0.1,
    "silence": -0.4,
    "speech": -0.6,
    "calm_scenery": -0.8,
}
"""The LLM's generic idea of excitement (logit per cue word), right for action, wrong for
musicals and dramas."""

GENRE_BIAS = {
    "action": 0.6,
    "sci-fi": 0.4,
    "musical": 0.3,
    "horror": 0.2,
    "romance": -0.3,
    "comedy": -0.4,
    "drama": -0.5,
}
"""The LLM's genre-dependent bias (logit): action films feel exciting throughout."""

_PHRASES = sorted(((p, c) for c, (_, *ps) in CUES.items() for p in ps), key=lambda x: -len(x[0]))
_FILLERS = ("a medium shot of a room", "an interior", "a street", "a wide shot", "an office")


_PHRASE_RE = [(re.compile(r"(?<![a-z])" + re.escape(p) + r"(?![a-z])"), p, c) for p, c in _PHRASES]


@functools.lru_cache(maxsize=65536)
def _cue_ids(text: str) -> frozenset[str]:
    t = " " + text.lower() + " "
    found = set()
    for pat, phrase, cue in _PHRASE_RE:
        if phrase in t and pat.search(t):
            found.add(cue)
            t = pat.sub(" | ", t)
    return frozenset(found)


def cue_ids(text: str) -> set[str]:
    """The cue ids a text names (either phrasing, case-insensitive)."""
    return set(_cue_ids(text))


def _rng(*parts: Any) -> np.random.Generator:
    blob = "\x1f".join(str(p) for p in parts).encode()
    return np.random.default_rng(int.from_bytes(hashlib.sha256(blob).digest()[:8], "little"))


# --------------------------------------------------------------------------------------------
# The corpus


@dataclass
class Truth:
    """``truth.json``: per video its split, genres, true labels and true cue ids per clip."""

    videos: dict[str, dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> Truth:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(d["videos"], d.get("params", {}))

    def labels(self, video_id: str) -> np.ndarray:
        return np.asarray(self.videos[video_id]["truth"], dtype=np.int64)

    def cues(self, video_id: str, index: int) -> list[str]:
        return list(self.videos[video_id]["cues"][index])


def _runs(n: int, rng: np.random.Generator) -> np.ndarray:
    """Truth of a positive video: 10-20 % of clips in runs of 1-4."""
    y = np.zeros(n, dtype=np.int64)
    want = max(1, round(n * rng.uniform(0.10, 0.20)))
    for _ in range(200):
        if y.sum() >= want:
            break
        length = int(rng.integers(1, 5))
        a = int(rng.integers(0, max(1, n - length + 1)))
        lo, hi = max(0, a - 1), min(n, a + length + 1)
        if y[lo:hi].any():  # runs stay apart
            continue
        y[a : a + length] = 1
    return y


def _draw_cues(rates: Mapping[str, float], rng: np.random.Generator) -> list[str]:
    return [c for c in CUE_LIST if rng.random() < rates.get(c, BASE_RATE)]


def _clip_cues(genre: str, y: np.ndarray, rng: np.random.Generator) -> list[list[str]]:
    ordinary = ORDINARY[genre]
    highlight = {**ordinary, **HIGHLIGHT[genre]}
    out: list[list[str]] = []
    for t, label in enumerate(y):
        if label:
            out.append(_draw_cues(highlight, rng))
        elif t and not y[t - 1] and rng.random() < 0.5:
            out.append(list(out[-1]))  # the scene goes on
        else:
            out.append(_draw_cues(ordinary, rng))
    return out


def _runs_of(y: np.ndarray) -> list[tuple[int, int]]:
    out, a = [], None
    for i, v in enumerate([*y.tolist(), 0]):
        if v and a is None:
            a = i
        elif not v and a is not None:
            out.append((a, i))
            a = None
    return out


def _votes(
    y: np.ndarray, cues: list[list[str]], rng: np.random.Generator, reuse: float, false: float
) -> tuple[np.ndarray, int]:
    """Community reuse: a subset of the true runs (with the alignment's slop) and sometimes a
    false run on a generically exciting clip. Returns votes per clip and derivatives."""
    n = len(y)
    votes = np.zeros(n, dtype=np.int64)
    derivatives = 0
    for a, b in _runs_of(y):
        if rng.random() >= reuse:
            continue
        derivatives += 1
        if b - a > 1 and rng.random() < 0.3:  # lose a boundary clip
            a, b = (a + 1, b) if rng.random() < 0.5 else (a, b - 1)
        if rng.random() < 0.3:  # spill past a boundary
            a, b = (max(0, a - 1), b) if rng.random() < 0.5 else (a, min(n, b + 1))
        votes[a:b] += 1 + int(rng.poisson(1.0))
    if rng.random() < false:
        excite = np.array([sum(PRIOR.get(c, 0.0) for c in cs) for cs in cues])
        p = np.exp(excite - excite.max())
        a = int(rng.choice(n, p=p / p.sum()))
        b = min(n, a + int(rng.integers(1, 3)))
        votes[a:b] += 1
        derivatives += 1
    return votes, derivatives


def _feature_maps(seed: int, strength: float) -> dict[str, np.ndarray]:
    rng = _rng("feature-maps", seed)

    def directions(k: int, d: int, norm: float) -> np.ndarray:
        w = rng.normal(size=(k, d))
        return w / np.linalg.norm(w, axis=1, keepdims=True) * norm

    return {
        "visual": directions(len(VISUAL_CUES), 16, strength),
        "audio": directions(len(AUDIO_CUES), 10, strength),
        "style_visual": directions(len(GENRES), 21, 1.0),
        "style_audio": directions(len(GENRES), 13, 1.0),
    }


def _ar_noise(n: int, d: int, rng: np.random.Generator, rho: float = 0.5) -> np.ndarray:
    e = rng.normal(size=(n, d))
    out = np.empty_like(e)
    out[0] = e[0]
    for t in range(1, n):
        out[t] = rho * out[t - 1] + math.sqrt(1 - rho**2) * e[t]
    return out


def _features(
    genre: str, cues: list[list[str]], maps: dict[str, np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = len(cues)
    g = GENRES.index(genre)
    cv = np.array([[c in cs for c in VISUAL_CUES] for cs in cues], dtype=np.float64)
    ca = np.array([[c in cs for c in AUDIO_CUES] for cs in cues], dtype=np.float64)
    visual = np.zeros((n, 21))
    audio = np.zeros((n, 13))
    visual[:, :16] = cv @ maps["visual"]
    audio[:, :10] = ca @ maps["audio"]
    visual += maps["style_visual"][g] + rng.normal(0, 0.3, 21) + _ar_noise(n, 21, rng)
    audio += maps["style_audio"][g] + rng.normal(0, 0.3, 13) + _ar_noise(n, 13, rng)
    return visual.astype(np.float32), audio.astype(np.float32)


def simulate_corpus(
    root: str | Path,
    n_train: int,
    n_test: int,
    seed: int = 0,
    *,
    clips: int = 48,
    positive_share: float = 0.65,
    reuse: float = 0.55,
    false_run: float = 0.12,
    catalogue_accuracy: float = 0.9,
    no_audio_share: float = 0.05,
    cue_strength: float = 3.0,
) -> tuple[Path, Path, Path]:
    """Write ``root/tvh`` (dataset), ``root/features`` (store) and ``root/truth.json``; returns
    the three paths. Videos have ``clips`` +- 25 % clips; genres are drawn uniformly."""
    from tvhighlights.builders.tvhighlights import write_dataset

    from tvhighlights.features.store import FeatureStore
    from tvhighlights.fileio import write_json

    root = Path(root)
    params = {
        "n_train": n_train,
        "n_test": n_test,
        "seed": seed,
        "clips": clips,
        "positive_share": positive_share,
        "reuse": reuse,
        "false_run": false_run,
        "catalogue_accuracy": catalogue_accuracy,
        "no_audio_share": no_audio_share,
        "cue_strength": cue_strength,
    }
    key = "simulated-v1-" + hashlib.sha256(json.dumps(params).encode()).hexdigest()[:10]
    store = FeatureStore(root / "features")
    store.root.mkdir(parents=True, exist_ok=True)
    store.record_extractors(
        [
            {
                "name": "simulated",
                "version": 1,
                "key": key,
                "dims": {"visual": 21, "audio": 13},
                "settings": {},
            }
        ]
    )
    maps = _feature_maps(seed, cue_strength)
    rows: dict[str, list[dict[str, Any]]] = {"train": [], "test": []}
    entries: list[dict[str, Any]] = []
    videos: dict[str, dict[str, Any]] = {}
    for split, count in (("train", n_train), ("test", n_test)):
        for i in range(count):
            vid = f"{split[:2]}{i:05d}"
            rng = _rng("video", seed, vid)
            genre = GENRES[int(rng.integers(len(GENRES)))]
            catalogue = genre
            if rng.random() >= catalogue_accuracy:
                catalogue = str(rng.choice([g for g in GENRES if g != genre]))
            n = int(rng.integers(round(clips * 0.75), round(clips * 1.25) + 1))
            positive = rng.random() < positive_share
            y = _runs(n, rng) if positive else np.zeros(n, dtype=np.int64)
            cues = _clip_cues(genre, y, rng)
            visual, audio = _features(genre, cues, maps, rng)
            has_audio = rng.random() >= no_audio_share
            if not has_audio:
                audio[:] = 0
            if split == "train":
                votes, derivatives = _votes(y, cues, rng, reuse, false_run)
            else:
                votes, derivatives = y.copy(), len(_runs_of(y))
            labels = (votes > 0).astype(int)
            sha = hashlib.sha256(f"{key}-{vid}".encode()).hexdigest()
            store.write(
                key, sha, {"visual": visual, "audio": audio}, num_clips=n, has_audio=has_audio
            )
            path = f"/simulated/{vid}.mp4"
            entries.append(
                {
                    "video_id": vid,
                    "path": path,
                    "sha256": sha,
                    "offset": 0,
                    "num_clips": n,
                    "file_num_clips": n,
                    "has_audio": has_audio,
                    "extractors": [key],
                }
            )
            mx = max(1, int(votes.max()))
            rows[split].append(
                {
                    "video_id": vid,
                    "source_id": vid,
                    "title": f"{catalogue.title()} feature {vid}",
                    "genre": catalogue,
                    "start": 0.0,
                    "end": 2.0 * n,
                    "duration": 2.0 * n,
                    "num_clips": n,
                    "votes": votes.tolist(),
                    "scores": (votes / mx).round(4).tolist(),
                    "labels": labels.tolist(),
                    "categories": None,
                    "video_label": int(labels.any()),
                    "num_derivatives": derivatives,
                    "video_path": path,
                }
            )
            videos[vid] = {
                "split": split,
                "genre": genre,
                "catalogue_genre": catalogue,
                "truth": y.tolist(),
                "cues": cues,
            }
    # one index.json (not a part file): every load_features call re-reads the whole index
    write_json(store.root / "index.json", {e["video_id"]: e for e in entries})
    write_dataset(root / "tvh", rows)
    write_json(root / "truth.json", {"params": params, "videos": videos})
    return root / "tvh", root / "features", root / "truth.json"


def bayes_scores(truth: Truth, video_id: str) -> np.ndarray:
    """Log-odds of highlight given the clip's *true* cues and its genre (a ceiling: the best
    any reader of the true cues could do clip by clip, ignoring neighbours)."""
    v = truth.videos[video_id]
    ordinary = ORDINARY[v["genre"]]
    highlight = {**ordinary, **HIGHLIGHT[v["genre"]]}
    out = []
    for cs in v["cues"]:
        s = 0.0
        for c in CUE_LIST:
            p1, p0 = highlight.get(c, BASE_RATE), ordinary.get(c, BASE_RATE)
            s += math.log(p1 / p0) if c in cs else math.log((1 - p1) / (1 - p0))
        out.append(s)
    return np.asarray(out)


# --------------------------------------------------------------------------------------------
# The describer


class SimulatedDescriber:
    """The MLLM caption of a clip: its planted cue words with drops and spurious additions."""

    name = "simulated"

    def __init__(
        self,
        truth: Truth,
        *,
        seed: int = 0,
        keep_visual: float = 0.8,
        keep_audio: float = 0.55,
        spurious: float = 0.02,
        failure: float = 0.005,
    ) -> None:
        self.truth = truth
        self.seed = seed
        self.keep = {"visual": keep_visual, "audio": keep_audio}
        self.spurious = spurious
        self.failure = failure
        blob = json.dumps([seed, keep_visual, keep_audio, spurious, failure]).encode()
        self.version = "1-" + hashlib.sha256(blob).hexdigest()[:8]

    def words(self, video_id: str, index: int) -> list[str] | None:
        """The cue ids the caption names (``None``: the caption failed)."""
        rng = _rng("describe", self.seed, video_id, index)
        if rng.random() < self.failure:
            return None
        true = set(self.truth.cues(video_id, index))
        out = []
        for c in CUE_LIST:
            if c in true:
                if rng.random() < self.keep[CUES[c][0]]:
                    out.append(c)
            elif rng.random() < self.spurious:
                out.append(c)
        rng.shuffle(out)
        return out

    def text(self, video_id: str, index: int) -> str | None:
        words = self.words(video_id, index)
        if words is None:
            return None
        rng = _rng("phrase", self.seed, video_id, index)
        if not words:
            return str(rng.choice(_FILLERS)) + "."
        return "; ".join(CUES[c][1 + int(rng.integers(2))] for c in words) + "."

    def describe(
        self, clips: Sequence[ClipToDescribe], *, show_progress: bool = False
    ) -> list[str | None]:
        return [self.text(c.video_id, c.index) for c in clips]


# --------------------------------------------------------------------------------------------
# The LLM


@dataclass(frozen=True)
class LLMNoise:
    """The simulated LLM's failure modes (see the module docstring)."""

    offset: float = -1.8
    pattern_offset: float = -2.0
    prior_with_patterns: float = 0.5
    highlight_weight: float = 1.4
    non_highlight_weight: float = 1.0
    pattern_cap: float = 3.0
    noise_sd: float = 0.8
    overconfidence: float = 1.8
    flip: float = 0.07
    prose: float = 0.02
    cut_in_think: float = 0.015
    cut_in_json: float = 0.015
    think_block: float = 0.6
    fence: float = 0.2
    skip_clip: float = 0.01
    out_of_range: float = 0.01
    as_string: float = 0.1
    wrong_genre: float = 0.08
    unknown_genre: float = 0.03
    hpi_wrong_pattern: float = 0.25
    hpi_unusable: float = 0.05
    correct_drop_random: float = 0.3
    correct_unusable: float = 0.05


_CLIP_LINE = re.compile(r"^clip (\d+) \([^)]*\): (.*)$", re.MULTILINE)


def _bullets_after(text: str, header: str) -> list[str]:
    i = text.find(header)
    if i < 0:
        return []
    out = []
    for line in text[i + len(header) :].lstrip("\n").splitlines():
        if not line.startswith("- "):
            break
        item = line[2:].strip()
        if item and item != "(none)":
            out.append(item)
    return out


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


_HL_TEMPLATES = ("{a}", "scenes with {a}", "moments of {a}", "{a} on screen")
_NH_TEMPLATES = ("{a}", "ordinary {a}", "stretches of {a}", "plain {a}")


class SimulatedLLM(ChatBackend):
    """Answers ``llg_score``, ``hpi_patterns`` and ``hpi_correct`` from their text alone."""

    kind = "simulated"

    def __init__(self, *, seed: int = 0, noise: LLMNoise | None = None) -> None:
        self.seed = seed
        self.noise = noise or LLMNoise()
        self.model = (
            "sim-llm-"
            + hashlib.sha256(
                json.dumps([seed, self.noise.__dict__], sort_keys=True).encode()
            ).hexdigest()[:8]
        )

    def chat(
        self, messages: Sequence[Message], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> str:
        system = "\n".join(text_of(m) for m in messages if m.get("role") == "system")
        user = "\n".join(text_of(m) for m in messages if m.get("role") == "user")
        rng = _rng("chat", self.seed, system, user)
        if "Each line below describes one 2-second clip" in user:
            return self._llg(user, rng)
        if "A highlight detector is confident" in user:
            return self._patterns(user, rng)
        if "Candidate patterns" in user:
            return self._correct(user, rng)
        return "I am not sure what you are asking."

    # -- LLG ---------------------------------------------------------------------------------

    def clip_score(
        self,
        words: set[str],
        genre: str | None,
        highlight: Sequence[str],
        non_highlight: Sequence[str],
        rng: np.random.Generator,
    ) -> float:
        """P(highlight) of one clip before the answer's formatting noise."""
        nz = self.noise
        prior = sum(PRIOR.get(c, 0.0) for c in words)
        bias = GENRE_BIAS.get(genre or "", 0.0)
        if highlight or non_highlight:

            def matched(patterns: Sequence[str]) -> float:
                total = 0.0
                for p in patterns:
                    pc = cue_ids(p)
                    if pc:
                        total += len(pc & words) / len(pc)
                return min(total, nz.pattern_cap)

            logit = (
                nz.pattern_offset
                + nz.prior_with_patterns * prior
                + nz.highlight_weight * matched(highlight)
                - nz.non_highlight_weight * matched(non_highlight)
            )
        else:
            logit = nz.offset + prior
        logit += bias + rng.normal(0, nz.noise_sd)
        p = _sigmoid(nz.overconfidence * logit)
        if rng.random() < nz.flip:
            p = 1 - p
        return p

    def _llg(self, user: str, rng: np.random.Generator) -> str:
        nz = self.noise
        m = re.search(r"^Catalogue genre: (.*)$", user, re.MULTILINE)
        hint = m.group(1).strip().lower() if m else "unknown"
        highlight = _bullets_after(user, "Highlight patterns for this genre:")
        non_highlight = _bullets_after(user, "Non-highlight patterns for this genre:")
        clips = [(int(a), d) for a, d in _CLIP_LINE.findall(user)]
        u = rng.random()
        genre: str = hint
        if u < nz.unknown_genre:
            genre = "martial-arts noir"
        elif u < nz.unknown_genre + nz.wrong_genre:
            genre = str(rng.choice([g for g in GENRES if g != hint]))
        entries = []
        for i, desc in clips:
            p = self.clip_score(cue_ids(desc), hint, highlight, non_highlight, rng)
            r = rng.random()
            if r < nz.skip_clip:
                continue
            score: Any = round(p * 10) / 10
            if r < nz.skip_clip + nz.out_of_range:
                score = round(p * 10)  # a 0-10 scale
                if score <= 1:
                    score = 10 if rng.random() < 0.5 else -1
            elif r < nz.skip_clip + nz.out_of_range + nz.as_string:
                score = f"{score:.1f}" if rng.random() < 0.5 else f"{round(score * 100)}%"
            entries.append({"clip": i, "score": score})
        body = json.dumps({"genre": genre, "scores": entries})
        think = (
            f"<think>The title and the descriptions suggest {genre}. "
            "I look for the clips with the most intensity and score them.</think>\n"
        )
        u = rng.random()
        if u < nz.prose:
            return "Clips with the most action are the highlights; the rest are ordinary."
        if u < nz.prose + nz.cut_in_think:
            return think[: len(think) // 2]
        if u < nz.prose + nz.cut_in_think + nz.cut_in_json:
            return body[: int(len(body) * rng.uniform(0.2, 0.9))]
        v = rng.random()
        head = think if v < nz.think_block else "Here are the scores.\n"
        if rng.random() < nz.fence:
            return f"{head}```json\n{body}\n```"
        return head + body

    # -- HPI ---------------------------------------------------------------------------------

    def _patterns(self, user: str, rng: np.random.Generator) -> str:
        nz = self.noise
        if rng.random() < nz.hpi_unusable:
            return "<think>The highlight clips share intensity; the others do not."
        hl = [cue_ids(t) for t in _bullets_after(user, "ARE highlights:")]
        nh = [cue_ids(t) for t in _bullets_after(user, "are NOT highlights:")]
        known = _bullets_after(user, "Patterns known so far for this genre:")
        if not hl or not nh:
            return json.dumps({"highlight": [], "non_highlight": []})
        fh = {c: np.mean([c in s for s in hl]) for c in CUE_LIST}
        fn = {c: np.mean([c in s for s in nh]) for c in CUE_LIST}
        diff = {c: fh[c] - fn[c] for c in CUE_LIST}
        up = sorted(
            (c for c in CUE_LIST if diff[c] >= 0.25 and fh[c] >= 0.3), key=lambda c: -diff[c]
        )
        down = sorted(
            (c for c in CUE_LIST if diff[c] <= -0.25 and fn[c] >= 0.3), key=lambda c: diff[c]
        )

        def phrase(c: str) -> str:
            return CUES[c][1 + int(rng.integers(2))]

        new_h = [
            _HL_TEMPLATES[int(rng.integers(len(_HL_TEMPLATES)))].format(a=phrase(c)) for c in up[:4]
        ]
        if len(up) >= 2:
            new_h.append(f"{phrase(up[0])} together with {phrase(up[1])}")
        new_n = [
            _NH_TEMPLATES[int(rng.integers(len(_NH_TEMPLATES)))].format(a=phrase(c))
            for c in down[:3]
        ]
        for item in known:  # keep the known patterns whose cues still lean their way
            side, _, p = item.partition(": ")
            pc = cue_ids(p)
            if not pc:
                continue
            lean = float(np.mean([diff[c] for c in pc]))
            if side == "highlight" and lean > 0:
                new_h.append(p)
            elif side == "not a highlight" and lean < 0:
                new_n.append(p)
        if rng.random() < nz.hpi_wrong_pattern:
            wrong = [c for c in sorted(PRIOR, key=lambda c: -PRIOR[c])[:7] if c not in up]
            if wrong:
                new_h.append(f"scenes with {phrase(str(rng.choice(wrong)))}")
        body = json.dumps({"highlight": new_h, "non_highlight": new_n})
        return "<think>I compare what the two groups share.</think>\n" + body

    def _correct(self, user: str, rng: np.random.Generator) -> str:
        nz = self.noise
        if rng.random() < nz.correct_unusable:
            return "All of these look reasonable to me."
        items = re.findall(r"^([HN]\d+)\. (.*)$", user, re.MULTILINE)
        if not items:
            return json.dumps({"keep": []})
        n_cues: set[str] = set()
        for lab, p in items:
            if lab.startswith("N"):
                n_cues |= cue_ids(p)
        keep = [lab for lab, p in items if not (lab.startswith("H") and cue_ids(p) & n_cues)]
        if len(keep) > 1 and rng.random() < nz.correct_drop_random:
            keep.remove(keep[int(rng.integers(len(keep)))])
        if not keep:
            keep = [lab for lab, _ in items]
        return "<think>Checking each pattern.</think>\n" + json.dumps({"keep": keep})


def llm_error(
    truth: Truth,
    y: Mapping[str, Sequence[float | None]],
    threshold: float = 0.5,
    *,
    top_share: float | None = None,
) -> dict[str, float]:
    """Error rate, kappa (percent), coverage and positive share (percent) of scores ``y``
    (None: no score) against the truth, over the clips that have a score, at ``threshold``,
    or, with ``top_share``, calling the top ``top_share`` of the scored clips positive (a
    kappa that ignores calibration)."""
    from tvhighlights.evaluation.metrics import cohen_kappa

    t, s, total = [], [], 0
    for vid, ys in y.items():
        lab = truth.labels(vid)
        for i, v in enumerate(ys):
            total += 1
            if v is not None and not (isinstance(v, float) and math.isnan(v)):
                t.append(int(lab[i]))
                s.append(float(v))
    if not t:
        return {"error": math.nan, "kappa": math.nan, "coverage": 0.0, "positive_share": math.nan}
    ta, sa = np.asarray(t), np.asarray(s)
    if top_share is not None:
        order = np.argsort(-sa, kind="stable")
        pa = np.zeros(len(sa), dtype=np.int64)
        pa[order[: round(top_share * len(sa))]] = 1
    else:
        pa = (sa >= threshold).astype(np.int64)
    return {
        "error": float(np.mean(ta != pa)) * 100,
        "kappa": float(cohen_kappa(ta, pa)),
        "coverage": len(t) / max(total, 1) * 100,
        "positive_share": float(pa.mean()) * 100,
    }
