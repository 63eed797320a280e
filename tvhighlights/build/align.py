"""Map each derivative (a short re-upload) back to the source-film span(s) it reuses.

:func:`align_derivative` looks up each valid derivative frame's hash columns (the picture,
its mirror image, a picture-in-picture window, centred zooms on every few frames, the windows
of an off-centre crop when :mod:`.crops` found some) in the :class:`~.index.HashIndex`
(k nearest, at most ``max_distance`` bits). Then **temporal consistency**, not per-frame
nearest hashes: a Hough vote over (source, kind of column, speed, offset) of the lines
``source_time = offset + speed * derivative_time`` (41 log-spaced speeds in [0.5, 2] plus
exactly 1), each derivative frame voting at most once per line; columns of one kind (all
plain zooms, all mirrored ones) pool their votes, since neighbouring zooms see the same line.
The accumulator is built once and spent votes are subtracted from it. The peak line is
refitted by least squares, its offset tuned frame-for-frame, and it is *verified* against the
source's own hash track with the column that cast most of its votes: every derivative frame
is compared with the source frame the line predicts, which recovers frames the index missed
and gives exact span ends. Peaks repeat on the unspent votes; finally each frame goes to the
verified line that explains it best and runs of such frames (gaps up to ``max_gap``) become
:class:`SpanMatch` rows, so one derivative yields several reused spans. Shots, when given,
cut the rows at shot boundaries; the vote itself runs over the whole derivative, so a short
shot still gets the evidence of its neighbours.

``benchmarks/bench_alignment.py`` grades it on the real trailer (recall and precision of the
reused clips 1.000 / 1.000) and on re-uploads from two independent generators.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .fingerprint import Fingerprint
from .index import HashIndex
from .phash import hamming

logger = logging.getLogger(__name__)

__all__ = ["AlignParams", "SpanMatch", "align_derivative", "candidate_votes"]


@dataclass(frozen=True)
class SpanMatch:
    """One reused span: derivative ``[deriv_start, deriv_end)`` shows source
    ``[source_start, source_end)`` at ``speed`` (mirrored when ``flipped``)."""

    derivative_id: str
    shot_index: int
    deriv_start: float
    deriv_end: float
    source_id: str
    source_start: float
    source_end: float
    speed: float
    flipped: bool
    confidence: float
    num_frames: int
    """Derivative frames verified against the source along the line."""
    mean_distance: float
    """Mean Hamming distance (bits of 64) of those frames to their source frames."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlignParams:
    """Knobs of :func:`align_derivative` (defaults tuned on the trailer and the simulations).

    Random 64-bit pHash pairs lie at 32 +- 4 bits; reused frames at a median 0-6 on the
    trailer, so 14 bits for votes and 20 for verification keep chance matches rare (about
    0.2 % of random pairs are within 20 bits) while surviving captions and colour grading.
    14 rather than 16 bits for votes lost no clip on either generator's re-uploads and cut
    the votes of a 1,000-h index by 2.7x (``benchmarks/bench_index.py``)."""

    k: int = 32
    max_distance: int = 14
    """Index neighbours further than this (bits) are not votes."""
    verify_distance: int = 20
    """A derivative frame confirms a line when its source frame is at most this far."""
    min_speed: float = 0.5
    max_speed: float = 2.0
    num_speeds: int = 41
    offset_bin: float = 0.5
    """Seconds of source time per Hough offset bin."""
    inlier_tol: float = 0.6
    min_votes: float = 2.5
    """Hough score (sum of vote weights) a line needs to be examined."""
    min_hits: int = 3
    """Index hits (distinct frames) a span needs."""
    min_frames: int = 4
    """Verified frames a span needs (1 s at 4 fps)."""
    max_gap: float = 1.0
    """Seconds of unverified frames that end a run."""
    max_lines: int = 40
    zoom_stride: int = 4
    """Zoom columns are looked up on every ``zoom_stride``-th frame only (staggered by
    column): they seed lines, and verification compares every frame anyway."""


def _speeds(p: AlignParams) -> np.ndarray:
    v = np.geomspace(p.min_speed, p.max_speed, p.num_speeds)
    return np.unique(np.concatenate([v, [1.0]]))


def _query_columns(fp: Fingerprint) -> list[int]:
    """Derivative hash columns to look up: the picture, the inset window, the centred zooms,
    the windows of an off-centre crop (:mod:`.crops`), and their mirror images."""
    return [
        j
        for j, n in enumerate(fp.variants)
        if n in ("full", "flip", "inset", "inset_flip") or n.startswith(("zoom", "crop"))
    ]


def _column_kinds(variants: list[str]) -> np.ndarray:
    """The kind of each column, for the Hough vote: the picture, its mirror, the inset and
    its mirror, then the plain zooms, the mirrored zooms, each crop window and its mirror."""
    names = {"full": 0, "flip": 1, "inset": 2, "inset_flip": 3}
    out = []
    for v in variants:
        if v in names:
            out.append(names[v])
        elif v.startswith("zoom"):
            out.append(5 if v.endswith("_flip") else 4)
        else:  # crop windows: one kind each (their geometries differ)
            out.append(6 + len(out))
    return np.asarray(out, np.int64)


def candidate_votes(
    fp: Fingerprint, index: HashIndex, p: AlignParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vote pairs ``(deriv frame, group, source time, weight)``; a group is one (source,
    derivative column) pair, ``source * ncols + column``."""
    qf = np.flatnonzero(fp.valid)
    ncols = len(fp.variants)
    out: list[tuple[np.ndarray, ...]] = []
    for col in _query_columns(fp):
        name = fp.variants[col]
        frames = qf
        if name.startswith("inset"):  # skip frames whose window is the whole picture
            base = fp.variants.index(name.replace("inset", "full").replace("full_flip", "flip"))
            frames = qf[fp.hashes[qf, col] != fp.hashes[qf, base]]
        elif name.startswith("zoom"):  # zooms seed lines on every few frames; verify does the rest
            frames = qf[(qf % p.zoom_stride) == (col % p.zoom_stride)]
        if len(frames) == 0:
            continue
        d, rows = index.search(fp.hashes[frames, col], p.k)
        ok = (rows >= 0) & (d <= p.max_distance)
        qi = np.broadcast_to(frames[:, None], d.shape)[ok]
        frame = index.row_frame[rows[ok]]
        group = index.frame_source[frame].astype(np.int64) * ncols + col
        w = 1.0 - d[ok] / (p.max_distance + 1.0)
        out.append((qi, group, index.frame_times[frame], w))
    if not out:
        z = np.zeros(0)
        return z.astype(np.int64), z.astype(np.int64), z, z
    return tuple(np.concatenate(x) for x in zip(*out, strict=True))  # type: ignore[return-value]


class _Hough:
    """The Hough accumulator over (speed, group, offset bin), built once.

    Every vote pair is entered once per speed, in two grids shifted by half a bin; within a
    cell a derivative frame counts once (its heaviest vote). Spending votes subtracts their
    entries, so each peak after the first costs a pass over the entries, not a rebuild."""

    def __init__(
        self,
        t: np.ndarray,
        q: np.ndarray,
        g: np.ndarray,
        s: np.ndarray,
        w: np.ndarray,
        speeds: np.ndarray,
        p: AlignParams,
    ) -> None:
        self.speeds = speeds
        self.offset_bin = p.offset_bin
        self.prior = 1.0 - 0.02 * np.abs(np.log2(speeds))  # ties go to the speed nearest 1
        self.ngroups = int(g.max()) + 1 if len(g) else 1
        self.tables: list[dict[str, Any]] = []
        if len(t) == 0:
            return
        vote = np.broadcast_to(np.arange(len(t))[None, :], (len(speeds), len(t))).ravel()
        vi = np.broadcast_to(np.arange(len(speeds))[:, None], (len(speeds), len(t))).ravel()
        gg, qq, ww = g[vote], q[vote], w[vote]
        for shift in (0.0, 0.5):
            a = s[None, :] - speeds[:, None] * t[None, :]  # (V, P)
            b = np.floor(a / p.offset_bin - shift).astype(np.int64).ravel()
            b_min = int(b.min())
            nb = int(b.max()) - b_min + 1
            key = (vi.astype(np.int64) * self.ngroups + gg) * nb + (b - b_min)
            order = np.lexsort((-ww, qq, key))
            k, f = key[order], qq[order]
            first = np.ones(len(k), bool)
            first[1:] = (k[1:] != k[:-1]) | (f[1:] != f[:-1])
            uk, inv = np.unique(k[first], return_inverse=True)
            entry_w = ww[order][first]
            self.tables.append(
                {
                    "shift": shift,
                    "b_min": b_min,
                    "nb": nb,
                    "keys": uk,
                    "inv": inv,
                    "vote": vote[order][first],
                    "w": entry_w,
                    "live": np.ones(len(inv), bool),
                    "score": np.bincount(inv, weights=entry_w, minlength=len(uk)),
                }
            )

    def spend(self, dead: np.ndarray) -> None:
        """Remove the entries of the votes ``dead`` (bool over the vote pairs)."""
        for tb in self.tables:
            sel = tb["live"] & dead[tb["vote"]]
            if sel.any():
                tb["score"] -= np.bincount(tb["inv"][sel], tb["w"][sel], len(tb["keys"]))
                tb["live"] &= ~sel

    def peak(self) -> tuple[float, int, float, float] | None:
        """The strongest line ``(score, group, speed, offset)``, or None."""
        best: tuple[float, int, float, float] | None = None
        for tb in self.tables:
            per = self.ngroups * tb["nb"]
            v_of = tb["keys"] // per
            score = tb["score"] * self.prior[v_of]
            j = int(np.argmax(score))
            if best is None or score[j] > best[0]:
                rest = int(tb["keys"][j] % per)
                group, bin_ = rest // tb["nb"], rest % tb["nb"] + tb["b_min"]
                offset = (bin_ + tb["shift"] + 0.5) * self.offset_bin
                best = (float(score[j]), group, float(self.speeds[v_of[j]]), float(offset))
        return best


def _refine(
    t: np.ndarray, s: np.ndarray, w: np.ndarray, speed: float, offset: float, p: AlignParams
) -> tuple[float, float, np.ndarray]:
    """Least-squares line through the inliers (when long enough); returns its inlier mask."""
    inl = np.abs(s - (offset + speed * t)) <= p.inlier_tol
    if inl.sum() >= 3 and np.ptp(t[inl]) >= 2.0:
        v, _ = np.polyfit(t[inl], s[inl], 1, w=w[inl])
        if p.min_speed * 0.95 <= v <= p.max_speed * 1.05:
            speed = 1.0 if abs(v - 1.0) < 0.03 else float(v)
    if inl.any():  # the offset from the median residual: robust to static scenes
        offset = float(np.median(s[inl] - speed * t[inl]))
    inl = np.abs(s - (offset + speed * t)) <= p.inlier_tol
    return speed, offset, inl


def _rows_at(index: HashIndex, source_id: str, src_times: np.ndarray) -> np.ndarray:
    """Row (within the source's track) of the frame sampled at each time, -1 where none."""
    info = index.sources[source_id]
    grid = index.source_grid(source_id)
    k = np.rint(src_times * info.fps).astype(np.int64)
    pos = np.searchsorted(grid, k)
    posc = np.clip(pos, 0, max(len(grid) - 1, 0))
    ok = (pos < len(grid)) & (grid[posc] == k) if len(grid) else np.zeros(len(k), bool)
    return np.where(ok, posc, -1)


def _tune_offset(
    fp: Fingerprint,
    index: HashIndex,
    source_id: str,
    col: int,
    speed: float,
    offset: float,
    frames: np.ndarray,
    cap: int,
) -> float:
    """Shift the offset (within +-0.5 s) to where the voting frames match their source frames
    best, frame for frame: medians of k-NN votes drift in static scenes."""
    if len(frames) == 0:
        return offset
    info, codes, valid = index.source_track(source_id)
    if info.count == 0:
        return offset
    h = fp.hashes[frames, col]
    best, best_cost = offset, math.inf
    for delta in sorted(np.arange(-4, 5) / 8.0, key=abs):
        rows = _rows_at(index, source_id, offset + delta + speed * fp.times[frames])
        kk = np.maximum(rows, 0)
        near = hamming(h[:, None], codes[kk]).min(axis=1)  # the nearest indexed variant
        d = np.where((rows >= 0) & valid[kk], np.minimum(near, cap), cap)
        cost = float(d.sum())
        if cost < best_cost - 1e-9:
            best, best_cost = offset + delta, cost
    return best


def _verify(
    fp: Fingerprint,
    index: HashIndex,
    source_id: str,
    col: int,
    speed: float,
    offset: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every derivative frame to the source frames the line predicts (65 where
    there is nothing to compare: an invalid frame on either side, or outside the source)."""
    info, codes, valid = index.source_track(source_id)
    n = len(fp)
    best = np.full(n, 65, dtype=np.int32)
    neutral = ~fp.valid.copy()
    st = offset + speed * fp.times
    any_valid = np.zeros(n, bool)
    for dk in (-1, 0, 1):
        if info.count == 0:
            break
        rows = _rows_at(index, source_id, st + dk / info.fps)
        jj = np.maximum(rows, 0)
        ok = (rows >= 0) & valid[jj]
        any_valid |= ok
        d = hamming(fp.hashes[:, col][:, None], codes[jj]).min(axis=1)
        best = np.where(ok, np.minimum(best, d), best)
    neutral |= ~any_valid
    best[neutral] = 65
    return best, neutral


def _runs(
    times: np.ndarray, good: np.ndarray, bad: np.ndarray, max_gap: float
) -> list[tuple[int, int]]:
    """Index ranges ``[i, j]`` from a good frame to a good frame, broken by more than
    ``max_gap`` seconds of bad frames (neutral frames neither extend nor break a run)."""
    runs: list[tuple[int, int]] = []
    start = last = None
    bad_since: float | None = None
    for i in range(len(times)):
        if good[i]:
            if start is None:
                start = i
            last = i
            bad_since = None
        elif bad[i] and start is not None:
            if bad_since is None:
                bad_since = times[i]
            if times[i] - bad_since + 1e-9 >= max_gap:
                runs.append((start, last))
                start = last = None
                bad_since = None
    if start is not None:
        runs.append((start, last))
    return runs


def _good_runs(
    times: np.ndarray, good: np.ndarray, bad: np.ndarray, hits: np.ndarray, p: AlignParams
) -> list[tuple[int, int]]:
    """Runs of verified frames long enough, and seeded by enough index hits, to be spans."""
    out = []
    for i, j in _runs(times, good, bad, p.max_gap):
        if good[i : j + 1].sum() >= p.min_frames and hits[i : j + 1].sum() >= p.min_hits:
            out.append((i, j))
    return out


def _segments(
    fp: Fingerprint, shots: Sequence[tuple[float, float]] | None
) -> list[tuple[float, float]]:
    if not shots:
        return [(0.0, max(fp.duration, float(fp.times[-1]) + 1 / fp.fps if len(fp) else 0.0))]
    return sorted((float(a), float(b)) for a, b in shots)


def align_derivative(
    fingerprint: Fingerprint,
    index: HashIndex,
    *,
    shots: Sequence[tuple[float, float]] | None = None,
    derivative_id: str = "",
    params: AlignParams | None = None,
) -> list[SpanMatch]:
    """Source spans reused by the derivative whose fingerprint is given (empty when none).

    ``shots`` are ``(start, end)`` seconds of the derivative (e.g. from
    :func:`tvhighlights.shots.detect_shots`); every match is cut at shot boundaries and reports
    the shot it lies in. Without shots the whole derivative is one segment (it may still reuse
    several spans).
    """
    p = params or AlignParams()
    fp = fingerprint
    index.check_fingerprint(fp, derivative_id or "derivative", variants=False)
    if len(fp) == 0 or index.ntotal == 0:
        return []
    q, g_col, s, w = candidate_votes(fp, index, p)
    ncols = len(fp.variants)
    col_of = g_col % ncols
    # the Hough vote pools the columns of one kind (all plain zooms, all mirrored ones...):
    # neighbouring zooms see the same line, and each is looked up on few frames
    kinds = _column_kinds(fp.variants)
    nkinds = int(kinds.max()) + 1
    g = (g_col // ncols) * nkinds + kinds[col_of]
    t = fp.times[q]
    speeds = _speeds(p)
    sids = index.source_ids
    alive = np.ones(len(q), bool)
    hough = _Hough(t, q, g, s, w, speeds, p)
    # 1. lines: Hough peaks, refined and verified against the source's hash track
    lines: list[tuple[str, bool, float, float, np.ndarray, np.ndarray, np.ndarray]] = []
    for _ in range(p.max_lines):
        if alive.sum() < p.min_hits:
            break
        m = alive
        peak = hough.peak()
        if peak is None or peak[0] < p.min_votes:
            break
        _, group, speed, offset = peak
        gm = m & (g == group)
        speed, offset, inl_g = _refine(t[gm], s[gm], w[gm], speed, offset, p)
        inl = np.zeros(len(q), bool)
        inl[np.flatnonzero(gm)[inl_g]] = True
        if not inl.any():  # the peak's own votes: spend them so the loop moves on
            cell = np.abs(s - (offset + speed * t)) <= p.offset_bin
            inl = gm & cell
            if not inl.any():
                break
        alive &= ~inl  # the line's votes are spent either way
        hough.spend(inl)
        # the line is verified with the column of its kind that cast most of its votes
        source_id = sids[group // nkinds]
        col = int(np.bincount(col_of[inl], weights=w[inl], minlength=ncols).argmax())
        offset = _tune_offset(
            fp, index, source_id, col, speed, offset, np.unique(q[inl]), p.verify_distance
        )
        dist, neutral = _verify(fp, index, source_id, col, speed, offset)
        hits = np.zeros(len(fp), bool)
        hits[q[inl]] = True
        good = dist <= p.verify_distance
        runs = _good_runs(fp.times, good, ~good & ~neutral, hits, p)
        if not runs:
            logger.debug("line %s speed %.2f offset %.2f not verified", source_id, speed, offset)
            continue
        flipped = fp.variants[col].endswith("flip")
        lines.append((source_id, flipped, speed, offset, dist, neutral, hits))
        # frames this line explains well vote no more
        strong = np.zeros(len(fp), bool)
        for i, j in runs:
            strong[i : j + 1] = dist[i : j + 1] <= p.verify_distance // 2
        explained = alive & strong[q]
        alive &= ~explained
        hough.spend(explained)
    if not lines:
        return []
    # 2. every frame goes to the line that explains it best (ties: the stronger line)
    dist_all = np.stack([ln[4] for ln in lines])
    owner = np.argmin(dist_all, axis=0)
    found: list[tuple[int, int, str, bool, float, float, np.ndarray, np.ndarray]] = []
    for li, (source_id, flipped, speed, offset, dist, neutral, hits) in enumerate(lines):
        good = (owner == li) & (dist <= p.verify_distance)
        bad = ~good & ~neutral
        for i, j in _good_runs(fp.times, good, bad, hits, p):
            span_good = np.zeros(len(fp), bool)
            span_good[i : j + 1] = good[i : j + 1]
            found.append((i, j, source_id, flipped, speed, offset, span_good, dist))
    return _to_matches(fp, index, found, _segments(fp, shots), derivative_id)


def _to_matches(
    fp: Fingerprint,
    index: HashIndex,
    found: list[tuple[int, int, str, bool, float, float, np.ndarray, np.ndarray]],
    segments: list[tuple[float, float]],
    derivative_id: str,
) -> list[SpanMatch]:
    step = 1.0 / fp.fps
    out: list[SpanMatch] = []
    for i, j, source_id, flipped, speed, offset, good, dist in found:
        src_dur = index.sources[source_id].duration
        for si, (a, b) in enumerate(segments):
            sel = good & (fp.times >= a - 1e-9) & (fp.times < b - 1e-9)
            sel[:i] = False
            sel[j + 1 :] = False
            if not sel.any():
                continue
            idx = np.flatnonzero(sel)
            d0 = max(a, float(fp.times[idx[0]]))
            d1 = min(b, float(fp.times[idx[-1]]) + step, fp.duration)
            s0 = float(min(max(offset + speed * d0, 0.0), src_dur))
            s1 = float(min(max(offset + speed * d1, 0.0), src_dur))
            if s1 <= s0:
                continue
            n = int(sel.sum())
            mean_d = float(dist[sel].mean())
            span_frames = int(((fp.times >= d0) & (fp.times < d1) & fp.valid).sum()) or n
            ratio = n / span_frames
            conf = ratio * (1.0 - mean_d / 32.0) * min(1.0, n / 8.0)
            out.append(
                SpanMatch(
                    derivative_id=derivative_id,
                    shot_index=si,
                    deriv_start=round(d0, 4),
                    deriv_end=round(d1, 4),
                    source_id=source_id,
                    source_start=round(s0, 4),
                    source_end=round(s1, 4),
                    speed=round(speed, 4),
                    flipped=flipped,
                    confidence=round(float(np.clip(conf, 0.0, 1.0)), 4),
                    num_frames=n,
                    mean_distance=round(mean_d, 3),
                )
            )
    out.sort(key=lambda m: (m.deriv_start, m.source_id))
    return out
