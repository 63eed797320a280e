"""Recall and precision of reused 2-second source clips: our alignment vs. vPDQ and naive pHash.

Truth: a source clip counts as reused when at least 1.5 s of it is reused, as not reused when
none of it is; clips in between are ignored. Prediction: a clip is reused when the union of the
matched source spans covers at least ``--min-overlap`` seconds of it (the dataset's voting
rule). The index holds two source films, Big Buck Bunny (``bbb``) and the live-music sample
(``iscc``), so every film's clips are judged: a match on a film a derivative does not reuse is
a false positive (and makes a "wrong-film clip"); for negatives every predicted clip is one.

Evaluated on the real Big Buck Bunny trailer against the films, and on two independent sets of
re-uploads with exact ground truth, pooled per family:

* ``simulate``: our simulator (``tvhighlights.build.simulate``, PyAV + numpy);
* ``ffmpeg``: ``benchmarks/ffmpeg_reuploads.py`` (the ffmpeg CLI's filter graphs, written
  separately; issue #11), with negatives and re-uploads of the second film.

Baselines in the same run: vPDQ (Meta's video PDQ, ``pip install vpdq``; skipped with a note
when it is not installed) at 1 and 2 fps with its own frame-pair matching, and a naive
per-frame pHash (``imagehash.phash``, best match per frame, no temporal model).

Methods are a dict ``name -> callable(path) -> [(source_id, start, end), ...]`` built in
:func:`build_methods`; add an alignment variant there (e.g. ``ours(index, params=...)``).

    python benchmarks/bench_alignment.py [--generator both] [--ffmpeg-dir DIR] [--sim-dir DIR]
        [--families pip25,vertical_blur] [--no-baselines] [--markdown results.md]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

from tvhighlights.build.align import align_derivative
from tvhighlights.build.fingerprint import fingerprint_source, fingerprint_video, hamming
from tvhighlights.build.index import build_index
from tvhighlights.build.match import match_derivative
from tvhighlights.clips import span_overlap
from tvhighlights.samples import sample_path
from tvhighlights.video import probe, read_frames

TRAILER_SOURCE_SPANS = [
    (1.0, 11.0),
    (16.0, 20.0),
    (37.0, 55.0),
    (214.75, 218.75),
    (224.75, 236.0),
    (281.5, 284.7),
]
SOURCE_SAMPLES = {"bbb": "bbb", "iscc": "iscc_mp4"}  # source_id -> sample
Span = tuple[float, float]
Pred = tuple[str, float, float]
"""A predicted reuse: (source_id, source start, source end)."""
Method = Callable[[Path], list[Pred]]


def clip_counts(
    truth: Sequence[Span], pred: Sequence[Span], duration: float, min_overlap: float
) -> tuple[int, int, int]:
    """(true positives, predicted among the judged clips, positives) for one derivative."""
    t = span_overlap(truth, duration)
    pos, neg = t >= 1.5 - 1e-9, t <= 1e-9
    p = span_overlap(pred, duration) >= min_overlap - 1e-9 if pred else np.zeros(len(t), bool)
    return int((p & pos).sum()), int((p & (pos | neg)).sum()), int(pos.sum())


def ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


# --------------------------------------------------------------------------------------------
# Scoring over several source films


@dataclass
class Tally:
    """Clip counts of one derivative or a pool of them."""

    clips: int = 0
    tp: int = 0
    pred: int = 0
    pos: int = 0
    fp_clips: int = 0
    """Derivatives with at least one false-positive source clip."""
    wrong_clips: int = 0
    """Derivatives with a predicted clip on a film they do not reuse."""

    def __iadd__(self, o: Tally) -> Tally:
        for k in ("clips", "tp", "pred", "pos", "fp_clips", "wrong_clips"):
            setattr(self, k, getattr(self, k) + getattr(o, k))
        return self

    def cells(self) -> list[str]:
        return [
            str(self.clips),
            f"{ratio(self.tp, self.pos):.3f}",
            f"{ratio(self.tp, self.pred):.3f}",
            str(self.fp_clips),
            str(self.wrong_clips),
        ]


def score(
    truth: dict[str, list[Span]],
    pred: Sequence[Pred],
    durations: dict[str, float],
    min_overlap: float,
    ignore: Sequence[str] = (),
) -> Tally:
    """One derivative: ``truth`` maps the films it reuses to their source spans; every film of
    ``durations`` not in ``ignore`` is judged."""
    t = Tally(clips=1)
    for sid, dur in durations.items():
        if sid in ignore:
            continue
        tp, npred, npos = clip_counts(
            truth.get(sid, []), [(a, b) for s, a, b in pred if s == sid], dur, min_overlap
        )
        t.tp, t.pred, t.pos = t.tp + tp, t.pred + npred, t.pos + npos
        if sid not in truth and npred:
            t.wrong_clips = 1
    t.fp_clips = int(t.pred > t.tp)
    return t


# --------------------------------------------------------------------------------------------
# Tables, printed and optionally written as Markdown


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    align: str = ""
    """``l``/``r`` per column (default: the first left, the others right)."""

    def _align(self) -> str:
        return (self.align or "l").ljust(len(self.columns), "r")

    def text(self) -> str:
        w = [max([len(c), *(len(r[i]) for r in self.rows)]) for i, c in enumerate(self.columns)]

        al = self._align()

        def line(cells: Sequence[str]) -> str:
            return " ".join(
                c.ljust(w[i]) if al[i] == "l" else c.rjust(w[i]) for i, c in enumerate(cells)
            ).rstrip()

        out = [f"\n== {self.title} ==", line(self.columns), *map(line, self.rows)]
        return "\n".join(out + self.notes)

    def markdown(self) -> str:
        head = "| " + " | ".join(self.columns) + " |"
        rule = "|" + "|".join(":---" if a == "l" else "---:" for a in self._align()) + "|"
        body = ["| " + " | ".join(r) + " |" for r in self.rows]
        notes = [f"\n{n.strip()}" for n in self.notes]
        return "\n".join([f"### {self.title}", "", head, rule, *body, *notes, ""])


class Report:
    def __init__(self) -> None:
        self.tables: list[Table] = []

    def emit(self, table: Table) -> None:
        print(table.text(), flush=True)
        self.tables.append(table)

    def write_markdown(self, path: Path, machine: dict[str, str], argv: Sequence[str]) -> None:
        cmd = " ".join(["python benchmarks/bench_alignment.py", *argv])
        head = [
            "## Alignment benchmark",
            "",
            f"`{cmd}`",
            "",
            "machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()),
            "",
        ]
        path.write_text("\n".join(head + [t.markdown() for t in self.tables]), encoding="utf-8")
        print(f"\nmarkdown tables: {path}")


# --------------------------------------------------------------------------------------------
# Methods: each maps (derivative path) -> predicted (source_id, start, end)


def ours(index: Any, shots_method: str | None = None, **match_kwargs: Any) -> Method:
    """Our alignment as the build runs it (:func:`match_derivative`: the derivative's
    fingerprint, matches cut at its shots, the off-centre crop search); ``shots_method`` cuts
    at that detector's shots instead; ``match_kwargs`` (``params``, ``crop_search``) make
    variants."""

    def run(path: Path) -> list[Pred]:
        shots = None
        if shots_method:
            from tvhighlights.build.shots import detect_shots

            shots = [(s.start, s.end) for s in detect_shots(path, method=shots_method)]
        matches = match_derivative(path, index, shots=shots, **match_kwargs)
        return [(m.source_id, m.source_start, m.source_end) for m in matches]

    return run


def ours_v02(index: Any) -> Method:
    """The query of version 0.2, kept as the loser: no zooms, one PiP window for the whole
    derivative, no crop search."""

    def run(path: Path) -> list[Pred]:
        matches = align_derivative(fingerprint_video(path), index)
        return [(m.source_id, m.source_start, m.source_end) for m in matches]

    return run


def naive_phash(sources: dict[str, Path]) -> Method:
    """imagehash.phash per frame at 4 fps; each derivative frame takes its nearest source
    frame (over all films) when within 10 bits; that frame's 0.25 s counts as reused."""
    import imagehash
    from PIL import Image

    def hashes(path: Path) -> tuple[np.ndarray, np.ndarray]:
        times, frames = read_frames(path, 4, size=(128, 72), grey=True)
        hs = [int(str(imagehash.phash(Image.fromarray(f))), 16) for f in frames]
        std = frames.reshape(len(frames), -1).std(axis=1)
        keep = std >= 6  # the same uniform-frame rule, to be fair
        return times[keep], np.array(hs, dtype=np.uint64)[keep]

    parts = {sid: hashes(p) for sid, p in sources.items()}
    sids = np.concatenate([np.full(len(t), sid, dtype=object) for sid, (t, _) in parts.items()])
    st = np.concatenate([t for t, _ in parts.values()])
    sh = np.concatenate([h for _, h in parts.values()])

    def run(path: Path) -> list[Pred]:
        _, dh = hashes(path)
        if len(dh) == 0 or len(sh) == 0:
            return []
        d = hamming(dh[:, None], sh[None, :])
        j = d.argmin(axis=1)
        ok = d[np.arange(len(dh)), j] <= 10
        return [(str(sids[i]), float(st[i]), float(st[i]) + 0.25) for i in j[ok]]

    return run


def vpdq_method(sources: dict[str, Path], fps: int) -> Method | None:
    """vPDQ: 256-bit PDQ per frame at ``fps``; a derivative frame matches a source frame at
    distance <= 31 (vPDQ's default) and quality >= 50; each matched source frame's 1/fps
    seconds count as reused (vPDQ has no temporal alignment of its own)."""
    try:
        import vpdq
    except ImportError:
        return None

    def hashes(path: Path) -> list[Any]:
        return [f for f in vpdq.computeHash(str(path), seconds_per_hash=1 / fps) if f.quality >= 50]

    def bits(fs: list[Any]) -> np.ndarray:
        if not fs:
            return np.zeros((0, 32), np.uint8)
        return (
            np.array([bytes.fromhex(f.hex) for f in fs], dtype="S32").view(np.uint8).reshape(-1, 32)
        )

    src = {sid: hashes(p) for sid, p in sources.items()}
    sb = np.concatenate([bits(fs) for fs in src.values()])
    st = np.array([f.timestamp for fs in src.values() for f in fs])
    sids = [sid for sid, fs in src.items() for _ in fs]

    def run(path: Path) -> list[Pred]:
        db = bits(hashes(path))
        if len(db) == 0 or len(sb) == 0:
            return []
        x = np.bitwise_xor(db[:, None, :], sb[None, :, :])
        d = np.unpackbits(x, axis=2).sum(axis=2)
        j = d.argmin(axis=1)
        ok = d[np.arange(len(db)), j] <= 31
        return [(sids[i], float(st[i]), float(st[i]) + 1.0 / fps) for i in j[ok]]

    return run


def build_methods(
    index: Any, sources: dict[str, Path], args: argparse.Namespace
) -> tuple[dict[str, Method | None], set[str]]:
    """(methods by name, the names that are baselines). Add alignment variants here."""
    methods: dict[str, Method | None] = {
        "ours (the build's)": ours(index),
        # the losers stay in the table
        "ours without the crop search": ours(index, crop_search=None),
        "ours, the 0.2 query (no zooms, one PiP window)": ours_v02(index),
    }
    for method in filter(None, args.shots.split(",")):
        methods[f"ours, cut at {method} shots"] = ours(index, method)
    # e.g. methods["ours, k=64"] = ours(index, params=AlignParams(k=64))
    baselines: set[str] = set()
    if not args.no_baselines:
        t = time.perf_counter()
        baselines.add("naive pHash (imagehash, best frame)")
        methods["naive pHash (imagehash, best frame)"] = naive_phash(sources)
        for f in (1, 2):
            baselines.add(f"vPDQ {f} fps")
            methods[f"vPDQ {f} fps"] = vpdq_method(sources, f)
        print(f"baselines' source hashes: {time.perf_counter() - t:.1f} s")
    if args.methods:
        wanted = [w.strip().lower() for w in args.methods.split(",") if w.strip()]
        methods = {k: v for k, v in methods.items() if any(w in k.lower() for w in wanted)}
    return methods, baselines


# --------------------------------------------------------------------------------------------
# The generated sets: rows with absolute paths, ``family``, ``source_id``, ``segments``


def simulate_rows(
    sim_dir: Path, film: Path, per_family: int, families: set[str] | None
) -> list[dict[str, Any]]:
    from tvhighlights.build.simulate import FAMILIES, read_ground_truth, simulate_derivatives

    gt = sim_dir / "ground_truth.jsonl"
    if not gt.exists():
        fams = [f for f in FAMILIES if not families or f in families]
        off = 3 if not families or "off-topic" in families else 0
        print(f"simulating {per_family} derivatives per family into {sim_dir} ...", flush=True)
        simulate_derivatives(
            {"bbb": film},
            sim_dir,
            families=fams,
            per_family=per_family,
            seed=1,
            num_workers=2,
            off_topic=off,
        )
    rows = read_ground_truth(gt)
    for r in rows:
        r["path"] = sim_dir / r["path"]
        if not r.get("source_id"):
            r["family"] = "off-topic"
        # The simulator cuts off-topic clips and picture-in-picture backgrounds from iscc_mp4,
        # the second indexed film, without its spans in the truth: iscc is not judged there.
        if not r.get("source_id") or "iscc" in json.dumps(r.get("params", {})):
            r["ignore"] = ["iscc"]
    return rows


def ffmpeg_rows(ff_dir: Path, seed: int, families: set[str] | None) -> list[dict[str, Any]]:
    import ffmpeg_reuploads

    fams = None if not families else [f for f in ffmpeg_reuploads.FAMILIES if f in families]
    if fams == []:
        return []
    t = time.perf_counter()
    print(f"ffmpeg re-uploads in {ff_dir} (made when missing) ...", flush=True)
    rows = ffmpeg_reuploads.make_reuploads(ff_dir, seed=seed, families=fams, verbose=True)
    print(f"ffmpeg set ready: {len(rows)} clips, {time.perf_counter() - t:.1f} s")
    for r in rows:
        r["path"] = ff_dir / r["path"]
    return rows


def evaluate(
    report: Report,
    generator: str,
    rows: list[dict[str, Any]],
    methods: dict[str, Method | None],
    durations: dict[str, float],
    args: argparse.Namespace,
) -> None:
    cols = ["family", "clips", "recall", "precision", "false+ clips", "wrong-film clips"]
    for name, fn in methods.items():
        if fn is None:
            continue
        fams: dict[str, Tally] = {}
        per_clip = Table(
            f"{generator} re-uploads, per clip: {name}",
            ["clip", "family", "recall", "precision", "false+", "wrong film", "predicted spans"],
            align="llrrrll",
        )
        t0 = time.perf_counter()
        for r in rows:
            truth: dict[str, list[Span]] = {}
            if r.get("source_id"):
                truth[r["source_id"]] = [
                    (s["source_start"], s["source_end"]) for s in r["segments"]
                ]
            pred = fn(Path(r["path"]))
            t = score(truth, pred, durations, args.min_overlap, r.get("ignore", ()))
            acc = fams.setdefault(r["family"], Tally())
            acc += t
            spans = ", ".join(f"{s} {a:.1f}-{b:.1f}" for s, a, b in sorted(pred)[:6])
            per_clip.rows.append(
                [
                    r["clip_id"],
                    r["family"],
                    f"{ratio(t.tp, t.pos):.2f}",
                    f"{ratio(t.tp, t.pred):.2f}",
                    str(t.pred - t.tp),
                    "yes" if t.wrong_clips else "",
                    spans + (" ..." if len(pred) > 6 else ""),
                ]
            )
        dt = time.perf_counter() - t0
        table = Table(f"{generator} re-uploads: {name}", cols)
        pooled = Tally()
        for fam, t in fams.items():
            table.rows.append([fam, *t.cells()])
            pooled += t
        table.rows.append(["pooled", *pooled.cells()])
        ignored = sum(bool(r.get("ignore")) for r in rows)
        table.notes.append(
            f"({len(rows)} clips, {dt:.1f} s; min overlap {args.min_overlap} s; "
            f"index: {', '.join(durations)}"
            + (f"; iscc not judged on {ignored} clips that use it untracked)" if ignored else ")")
        )
        report.emit(table)
        if args.per_clip:
            report.emit(per_clip)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--generator",
        choices=("simulate", "ffmpeg", "both"),
        default="both",
        help="which re-upload set(s) to evaluate besides the trailer (default both)",
    )
    ap.add_argument("--per-family", type=int, default=5, help="simulated clips per family")
    ap.add_argument("--sim-dir", type=Path, help="reuse/keep simulated derivatives here")
    ap.add_argument("--ffmpeg-dir", type=Path, help="reuse/keep the ffmpeg re-uploads here")
    ap.add_argument("--ffmpeg-seed", type=int, default=0, help="seed of the ffmpeg set")
    ap.add_argument(
        "--families", default="", help="comma-separated families to evaluate (both generators)"
    )
    ap.add_argument("--no-sim", action="store_true", help="only the real trailer")
    ap.add_argument("--no-trailer", action="store_true", help="skip the real trailer")
    ap.add_argument(
        "--no-baselines", action="store_true", help="skip naive pHash and vPDQ (faster)"
    )
    ap.add_argument("--baselines-on-sim", action="store_true", help="also run baselines there")
    ap.add_argument("--methods", default="", help="comma-separated substrings of method names")
    ap.add_argument("--min-overlap", type=float, default=1.0)
    ap.add_argument(
        "--shots", default="", help="comma-separated shot detectors to compare (e.g. hash,transnet)"
    )
    ap.add_argument("--fp-cache", type=Path, help="cache the source fingerprints here")
    ap.add_argument("--per-clip", action="store_true", help="also print a per-clip table")
    ap.add_argument("--markdown", type=Path, help="also write the tables to this Markdown file")
    args = ap.parse_args(argv)
    machine = print_machine()
    report = Report()
    families = {f.strip() for f in args.families.split(",") if f.strip()} or None

    sources = {sid: sample_path(name) for sid, name in SOURCE_SAMPLES.items()}
    film, trailer = sources["bbb"], sample_path("bbb_trailer")
    durations = {sid: probe(p).duration for sid, p in sources.items()}
    t0 = time.perf_counter()
    fps = {sid: fingerprint_source(p, cache_dir=args.fp_cache) for sid, p in sources.items()}
    index = build_index(fps)
    print(f"source fingerprints + index: {time.perf_counter() - t0:.1f} s, {index.ntotal} rows")

    methods, baselines = build_methods(index, sources, args)

    if not args.no_trailer:
        trailer_table = Table(
            f"real trailer (min overlap {args.min_overlap} s)",
            ["method", "recall", "precision", "time s"],
        )
        for name, fn in methods.items():
            if fn is None:
                trailer_table.rows.append([name, "-", "-", "-"])
                trailer_table.notes.append(f"{name}: vpdq not installed (pip install vpdq)")
                continue
            t = time.perf_counter()
            pred = fn(trailer)
            s = score({"bbb": TRAILER_SOURCE_SPANS}, pred, durations, args.min_overlap)
            dt = time.perf_counter() - t
            trailer_table.rows.append(
                [name, f"{ratio(s.tp, s.pos):.3f}", f"{ratio(s.tp, s.pred):.3f}", f"{dt:.1f}"]
            )
        report.emit(trailer_table)

    if not args.no_sim:
        on_sets = {k: v for k, v in methods.items() if args.baselines_on_sim or k not in baselines}
        gens = ("simulate", "ffmpeg") if args.generator == "both" else (args.generator,)
        with tempfile.TemporaryDirectory() as tmp:
            for gen in gens:
                if gen == "simulate":
                    try:
                        import tvhighlights.build.simulate  # noqa: F401
                    except ImportError:
                        print("\ntvhighlights.build.simulate not available: simulate skipped")
                        continue
                    sim_dir = args.sim_dir or Path(tmp) / "simulate"
                    rows = simulate_rows(sim_dir, film, args.per_family, families)
                else:
                    if shutil.which("ffmpeg") is None:
                        print("\nno ffmpeg on PATH (apt-get install ffmpeg): ffmpeg set skipped")
                        continue
                    ff_dir = args.ffmpeg_dir or Path(tmp) / "ffmpeg"
                    rows = ffmpeg_rows(ff_dir, args.ffmpeg_seed, families)
                if families:
                    rows = [r for r in rows if r["family"] in families]
                if not rows:
                    print(f"\n{gen}: no clips of families {sorted(families or [])}")
                    continue
                evaluate(report, gen, rows, on_sets, durations, args)
    if args.markdown:
        report.write_markdown(args.markdown, machine, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
