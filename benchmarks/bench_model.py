"""LTV-HD speed and memory: forward pass against film length, and training throughput.

Forward: the default model scoring one film of N clips (3,600 = a 2-hour film) — goal < 20 ms
on CPU — and the peak memory of that pass (the rise of the resident set above its level
before the pass, in a fresh Linux process per N, peak reset through ``/proc/self/clear_refs``):
the local attention window keeps it linear in N. The baseline in the same run is the same
width with *global* self-attention (``nn.TransformerEncoderLayer``), whose time and memory
grow quadratically.

Training: stage-1 steps per second on synthetic features of the paper's size (1,368 videos of
~1,800 clips; ``--videos`` / ``--clips`` to change), on CPU or ``--device cuda`` with
``--mixed-precision bf16``; one epoch's time and the GPU's peak memory when there is one.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

_MEMORY_PROBE = """
import sys, torch
from torch import nn
from tvhighlights.models.ltvhd import LTVHDConfig, LTVHDModel
n, kind = int(sys.argv[1]), sys.argv[2]
torch.manual_seed(0)
cfg = LTVHDConfig()
if kind == "ltvhd":
    m = LTVHDModel(cfg).eval()
    run = lambda v, a: m(v, a)
else:
    m = nn.TransformerEncoderLayer(cfg.hidden_size, cfg.num_heads, cfg.intermediate_size,
                                   batch_first=True).eval()
    proj = nn.Linear(cfg.visual_dim, cfg.hidden_size)
    run = lambda v, a: [m(proj(v)) for _ in range(cfg.num_layers)]
v, a = torch.randn(1, n, cfg.visual_dim), torch.randn(1, n, cfg.audio_dim)
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
with torch.inference_mode():
    run(v[:, :8], a[:, :8])
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak resident set size (VmHWM) to the current one
    before = status("VmRSS:")
    run(v, a)
    after = status("VmHWM:")
print((after - before) / 1024)
"""


def forward_times(lengths: list[int], device: str, repeats: int) -> list[dict]:
    import torch
    from torch import nn

    from tvhighlights.models.ltvhd import LTVHDConfig, LTVHDModel

    torch.manual_seed(0)
    cfg = LTVHDConfig()
    model = LTVHDModel(cfg).eval().to(device)
    layer = nn.TransformerEncoderLayer(
        cfg.hidden_size, cfg.num_heads, cfg.intermediate_size, batch_first=True
    ).eval().to(device)  # fmt: skip
    proj = nn.Linear(cfg.visual_dim, cfg.hidden_size).to(device)

    def timed(fn) -> float:
        ts = []
        for _ in range(repeats):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t = time.perf_counter()
            fn()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1000

    rows = []
    for n in lengths:
        v = torch.randn(1, n, cfg.visual_dim, device=device)
        a = torch.randn(1, n, cfg.audio_dim, device=device)
        with torch.inference_mode():
            for _ in range(3):
                model(v, a)
            ours = timed(lambda v=v, a=a: model(v, a))
            glob = timed(lambda v=v: [layer(proj(v)) for _ in range(cfg.num_layers)])
        row = {"clips": n, "ltvhd_ms": round(ours, 2), "global_attention_ms": round(glob, 2)}
        if device == "cpu":
            for kind in ("ltvhd", "global"):
                res = subprocess.run(
                    [sys.executable, "-c", _MEMORY_PROBE, str(n), kind],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                row[f"{kind}_peak_mib"] = round(float(res.stdout.strip().splitlines()[-1]), 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def training_throughput(
    videos: int, clips: int, device: str, mixed_precision: str, batch_size: int, steps: int
) -> dict:
    import numpy as np
    import torch
    from accelerate import Accelerator

    from tvhighlights.models.ltvhd import LTVHDConfig, LTVHDModel
    from tvhighlights.training.data import VideoExample, collate

    rng = np.random.default_rng(0)
    cfg = LTVHDConfig()
    examples = [
        VideoExample(
            video_id=f"v{i}",
            visual=rng.normal(size=(clips, cfg.visual_dim)).astype(np.float32),
            audio=rng.normal(size=(clips, cfg.audio_dim)).astype(np.float32),
            has_audio=True,
            labels=(rng.random(clips) < 0.05).astype(np.int64),
            video_label=int(i % 2),
        )
        for i in range(min(videos, batch_size * steps))
    ]
    model = LTVHDModel(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    acc = Accelerator(cpu=not device.startswith("cuda"), mixed_precision=mixed_precision)
    model, opt = acc.prepare(model, opt)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    model.train()
    times = []
    for s in range(steps):
        group = examples[(s * batch_size) % len(examples) :][:batch_size]
        batch = collate(group, 1024, rng)
        t = time.perf_counter()
        out = model(
            visual_features=batch["visual_features"].to(acc.device),
            audio_features=batch["audio_features"].to(acc.device),
            attention_mask=batch["attention_mask"].to(acc.device),
            audio_mask=batch["audio_mask"].to(acc.device),
            video_labels=batch["video_labels"].to(acc.device),
        )
        opt.zero_grad()
        acc.backward(out.loss)
        opt.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    step = statistics.median(times[1:] or times)
    clips_per_step = batch_size * min(clips, 1024)
    res = {
        "device": device,
        "mixed_precision": mixed_precision,
        "batch": f"{batch_size} videos x {min(clips, 1024)} clips",
        "step_s": round(step, 4),
        "clips_per_s": round(clips_per_step / step),
        "epoch_s_for": f"{videos} videos",
        "epoch_s": round(step * videos / batch_size, 1),
    }
    if device.startswith("cuda"):
        res["gpu"] = torch.cuda.get_device_name()
        res["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
    print(json.dumps(res), flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", default="900,1800,3600,7200", help="film lengths in clips")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--videos", type=int, default=1368, help="training set size for epoch time")
    ap.add_argument("--clips", type=int, default=1800)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--mixed-precision", default="no")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    machine = print_machine()
    lengths = [int(x) for x in args.lengths.split(",")]
    print(f"\nforward pass, one film, device {args.device} (median of {args.repeats}):")
    fwd = forward_times(lengths, args.device, args.repeats)
    print("\nclips   LTV-HD ms   global-attention ms   LTV-HD peak MiB   global peak MiB")
    for r in fwd:
        print(
            f"{r['clips']:>5}   {r['ltvhd_ms']:>9.2f}   {r['global_attention_ms']:>19.2f}   "
            f"{r.get('ltvhd_peak_mib', float('nan')):>15.1f}   "
            f"{r.get('global_peak_mib', float('nan')):>15.1f}"
        )
    goal = next((r for r in fwd if r["clips"] == 3600), None)
    if goal:
        verdict = "meets" if goal["ltvhd_ms"] < 20 else "misses"
        print(f"3,600 clips: {goal['ltvhd_ms']:.1f} ms ({verdict} the < 20 ms goal on CPU)")
    print("\ntraining (stage 1 MIL steps):")
    train = training_throughput(
        args.videos, args.clips, args.device, args.mixed_precision, args.batch_size, args.steps
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"peak RSS of this process: {rss} MiB")
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine, "forward": fwd, "training": train}, indent=2)
        )


if __name__ == "__main__":
    main()
