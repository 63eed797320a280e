"""Shot detectors on the real Big Buck Bunny trailer: time, shots, edit-point recall/precision.

The trailer (moviepy 2.2.1 ``trailer.py``) is cut from the film with known edits, so its
editorial boundaries are ground truth: fades through black at 10, 14 and 32 s, a hard cut at
36 s (the cut-out junction), a crossfade over 45.75-47.25 s and a title card from 52.15 s.
A detection within ``--tolerance`` of one of them is an edit hit (the crossfade counts when a
detection falls inside it). The film's own cuts inside the reused spans are not errors: they
are found by running the detectors on the film's spans and mapped into trailer time, and a
detection near one counts as a film cut ("extra boundary", a shorter shot, harmless for
alignment). Anything else is unexplained.

Edit recall matters most: a missed edit makes a shot that spans two source spans; the
film-to-film edits (all but the title card) matter most of all. Wall times depend on the load
of the machine (printed): torch's thread pool slows down far more than PyAV under contention.

    python benchmarks/bench_shots.py [--tolerance 0.5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

from tvhighlights.build.shots import detect_boundaries, shots_from_boundaries
from tvhighlights.samples import sample_path
from tvhighlights.video import probe

# (trailer start, trailer end, film start, speed): trailer t = start + (film - film start) / speed
SEGMENTS = [
    (0.0, 10.0, 1.0, 1.0),
    (10.0, 14.0, 16.0, 1.0),
    (14.0, 32.0, 37.0, 1.0),
    (32.0, 36.0, 214.75, 1.0),
    (36.0, 47.25, 224.75, 1.0),
    (45.75, 52.15, 281.5, 0.5),
]
EDIT_POINTS = [10.0, 14.0, 32.0, 36.0, 52.15]
CROSSFADES = [(45.75, 47.25)]
TITLE_CARD = 52.15
"""Film footage to a title card: not a film-to-film edit, so the least harmful to miss (the
title card aligns with nothing)."""
FADES = [
    (0.0, 1.0),
    (9.0, 11.0),
    (13.0, 15.0),
    (31.0, 33.0),
    (45.75, 48.75),  # the sepia clip's 1.5 s cross-fade-in, slowed 0.5x
    (50.15, 52.15),  # its 1 s fade-out, slowed 0.5x
]
"""Fades in/out of the trailer's clips: a detection inside one, away from an edit point, marks
the transition's interior rather than its edit point."""

# name, method, detect_fades
CONFIGS = [
    ("adaptive (no fade detector)", "adaptive", False),
    ("adaptive + fades", "adaptive", True),
    ("content (no fade detector)", "content", False),
    ("content + fades", "content", True),
    ("hash + fades", "hash", True),
    ("transnet", "transnet", True),
]
REFERENCE_METHODS = ("transnet", "content")
"""Detectors whose union on the film spans gives the film's own cuts."""


def film_cuts_in_trailer_time(film: Path) -> list[float]:
    """The film's own cuts inside each reused span, mapped to trailer time."""
    out: set[float] = set()
    for ts, te, fs, speed in SEGMENTS:
        fe = fs + (te - ts) * speed
        for method in REFERENCE_METHODS:
            cuts = detect_boundaries(film, method=method, start=max(0.0, fs - 1), end=fe + 1)
            for c in cuts:
                if fs + 0.1 < c < fe - 0.1:
                    out.add(round(ts + (c - fs) / speed, 3))
    return sorted(out)


def near(t: float, targets: list[float], tol: float) -> bool:
    return any(abs(t - x) <= tol for x in targets)


def score(cuts: list[float], film_cuts: list[float], tol: float) -> dict[str, Any]:
    """Edit recall and the split of detections into edit / film cut / unexplained."""
    found = [p for p in EDIT_POINTS if near(p, cuts, tol)]
    found += [f"{a}-{b}" for a, b in CROSSFADES if any(a <= c <= b for c in cuts)]
    n_edits = len(EDIT_POINTS) + len(CROSSFADES)
    edit, film, fade, unexplained = [], [], [], []
    for c in cuts:
        if near(c, EDIT_POINTS, tol) or any(a <= c <= b for a, b in CROSSFADES):
            edit.append(c)
        elif near(c, film_cuts, tol):
            film.append(c)
        elif any(a <= c <= b for a, b in FADES):
            fade.append(c)
        else:
            unexplained.append(c)
    n = len(cuts)
    film_edits = [f for f in found if f != TITLE_CARD]
    return {
        "edit_recall": len(found) / n_edits,
        "film_edit_recall": len(film_edits) / (n_edits - 1),
        "edits_found": found,
        "edits_missed": [p for p in EDIT_POINTS if p not in found]
        + [f"{a}-{b}" for a, b in CROSSFADES if f"{a}-{b}" not in found],
        "edit_precision": len(edit) / n if n else 0.0,
        "precision": (len(edit) + len(film)) / n if n else 0.0,
        "film_cuts": film,
        "in_fade": fade,
        "unexplained": unexplained,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tolerance", type=float, default=0.5, help="seconds (default 0.5)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args()
    tol = args.tolerance

    machine = print_machine()
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    trailer, film = sample_path("bbb_trailer"), sample_path("bbb")
    info = probe(trailer)
    print(f"trailer: {info.duration:.2f} s, {info.num_frames} frames at {info.fps:g} fps")

    # warm the TransNetV2 model so its 2 s load is not charged to the first run
    detect_boundaries(trailer, method="transnet", end=2.0)
    t0 = time.perf_counter()
    film_cuts = film_cuts_in_trailer_time(film)
    print(
        f"film's own cuts in the reused spans ({'+'.join(REFERENCE_METHODS)} on the film, "
        f"{time.perf_counter() - t0:.1f} s): {[round(c, 2) for c in film_cuts]}"
    )
    print(f"editorial boundaries: {EDIT_POINTS} + crossfade {CROSSFADES}; tolerance ±{tol} s\n")

    rows: list[dict[str, Any]] = []
    for name, method, fades in CONFIGS:
        t0 = time.perf_counter()
        raw = detect_boundaries(trailer, method=method, detect_fades=fades)
        seconds = time.perf_counter() - t0
        # score what the pipeline sees: the shots' boundaries after min_shot_seconds
        shots = shots_from_boundaries(raw, 0.0, info.duration)
        cuts = [s.start for s in shots[1:]]
        row = {
            "detector": name,
            "method": method,
            "detect_fades": fades,
            "seconds": seconds,
            "x_realtime": info.duration / seconds,
            "shots": len(shots),
            "cuts": [round(c, 3) for c in cuts],
            **score(cuts, film_cuts, tol),
        }
        rows.append(row)

    header = (
        f"{'detector':30s} {'time s':>6s} {'x rt':>5s} {'shots':>5s} {'edit R':>6s} "
        f"{'edit P':>6s} {'P':>5s} {'film':>4s} {'fade':>4s} {'unexp':>5s}  missed edits"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['detector']:30s} {r['seconds']:6.2f} {r['x_realtime']:5.1f} {r['shots']:5d} "
            f"{r['edit_recall']:6.2f} {r['edit_precision']:6.2f} {r['precision']:5.2f} "
            f"{len(r['film_cuts']):4d} {len(r['in_fade']):4d} {len(r['unexplained']):5d}  "
            f"{r['edits_missed']}"
        )
    print()
    for r in rows:
        print(f"{r['detector']}: cuts {r['cuts']}; in a fade {r['in_fade']}")

    def key(r: dict[str, Any]) -> tuple[float, ...]:
        return (r["film_edit_recall"], r["edit_recall"], r["precision"], -r["seconds"])

    best = max(rows, key=key)
    best_fast = max((r for r in rows if r["method"] != "transnet"), key=key)
    print(
        f"\nbest edit points: {best['method']} ({best['detector']}): edit recall "
        f"{best['edit_recall']:.2f} (film-to-film edits {best['film_edit_recall']:.2f}), "
        f"precision {best['precision']:.2f}, {best['seconds']:.1f} s; best torch-free: "
        f"{best_fast['detector']} (edit recall {best_fast['edit_recall']:.2f}, film-to-film "
        f"{best_fast['film_edit_recall']:.2f}, {best_fast['seconds']:.1f} s)"
    )
    from tvhighlights.build.shots import DEFAULT_METHOD

    print(
        f"library default: {DEFAULT_METHOD} (the build's alignment is the same with every "
        "detector on the trailer; see benchmarks/bench_alignment.py --shots hash,transnet)"
    )
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine, "film_cuts": film_cuts, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    main()
