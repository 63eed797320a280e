"""Feature extraction speed on the sample film: decode time vs compute time, per extractor.

For each extractor (``--extractors``, default ``handcrafted,transnet``; any registered name
works) and in the same run:

(a) decode: iterating :func:`tvhighlights.video.iter_clips` with exactly the extractor's frame
    views and audio rate, computing nothing (the clips are kept for (b));
(b) compute: the sum of ``extract(batch)`` times over the film, batches of the extractor's
    ``batch_size`` as the runner makes them (one warm-up batch first, untimed);
(c) the realtime factor, film seconds / (decode + compute), and the shares of decode and
    compute. The goal is to be **decode-bound: compute < decode**, so the runner's decode
    workers, not the model, set the pace.

With more than one extractor, a last row decodes the union of their views once, as
``tvhighlights extract`` does (identical views shared), to compare with the sum of the
separate decodes. CPU seconds (``time.process_time``) are printed beside wall seconds with the
load average: on a shared machine, torch's thread pool slows down far more than FFmpeg.

On a CUDA device (``--device cuda``), every extractor also reports frames/s and
``torch.cuda.max_memory_allocated``, GPU utilisation is sampled during compute
(``torch.cuda.utilization()``, else ``nvidia-smi``), and extractors that take a ``dtype``
(``clip``: ``--model PATH`` for a local checkpoint) run once per ``--dtypes`` entry.

    python benchmarks/bench_features.py [--extractors handcrafted,transnet] [--seconds N]
        [--device cpu|cuda] [--batch-size B] [--model PATH] [--dtypes bf16,fp16] [--json F]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_machine

from tvhighlights.errors import TVHighlightsError
from tvhighlights.features import FeatureExtractor, get_extractor
from tvhighlights.features.extract import to_clip_inputs
from tvhighlights.samples import sample_path
from tvhighlights.video import Clip, FrameView, iter_clips, probe


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def clips_until(
    path: Path, views: dict[str, FrameView], rates: Sequence[int], seconds: float | None
) -> Iterator[Clip]:
    """``iter_clips`` stopped after the clips that start before ``seconds`` (decoding stops)."""
    it = iter_clips(path, views=views, audio_rates=list(rates))
    try:
        for clip in it:
            if seconds is not None and clip.start >= seconds:
                break
            yield clip
    finally:
        it.close()


class GpuSampler:
    """Samples GPU utilisation (percent) every ``period`` seconds in a background thread."""

    def __init__(self, device_index: int, period: float = 0.1) -> None:
        self.index = device_index
        self.period = period
        self.samples: list[float] = []
        self.source = "none"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> float | None:
        import torch

        if self.source in ("none", "torch"):
            try:
                value = float(torch.cuda.utilization(self.index))
                self.source = "torch"
                return value
            except Exception:  # pynvml missing, or no NVML
                if self.source == "torch":
                    return None
        if shutil.which("nvidia-smi"):
            cmd = [
                "nvidia-smi",
                "--query-gpu=utilization.gpu",
                "--format=csv,noheader,nounits",
                "-i",
                str(self.index),
            ]
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=5, check=True)
                self.source = "nvidia-smi"
                return float(out.stdout.strip().splitlines()[0])
            except (OSError, subprocess.SubprocessError, ValueError, IndexError):
                return None
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            value = self._read()
            if value is None and self.source == "none":
                return
            if value is not None:
                self.samples.append(value)
            self._stop.wait(self.period)

    def __enter__(self) -> GpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {"gpu_util_source": self.source, "gpu_util_mean": None, "gpu_util_max": None}
        return {
            "gpu_util_source": self.source,
            "gpu_util_mean": round(float(np.mean(self.samples)), 1),
            "gpu_util_max": round(float(np.max(self.samples)), 1),
        }


def build(name: str, args: argparse.Namespace, **extra: Any) -> tuple[FeatureExtractor, float]:
    """The extractor with the run's device/batch size (and ``--model`` where it takes one)."""
    options: dict[str, Any] = {"device": args.device, **extra}
    if args.batch_size:
        options["batch_size"] = args.batch_size
    if args.model and name in ("clip", "motion", "audio"):
        options["model"] = args.model
    t0 = time.perf_counter()
    ext = get_extractor(name, **options)
    return ext, time.perf_counter() - t0


def takes_dtype(ext: FeatureExtractor) -> bool:
    return "dtype" in inspect.signature(type(ext).__init__).parameters


def run_one(ext: FeatureExtractor, path: Path, seconds: float | None, cuda: bool) -> dict[str, Any]:
    """(a) decode with the extractor's own views, (b) compute over those clips."""
    rate = ext.audio_rate
    rates = [rate] if rate else []
    views = dict(ext.views) or {"_": FrameView(0.5, (16, 16), grey=True)}  # the runner's dummy

    w0, c0 = time.perf_counter(), time.process_time()
    clips = list(clips_until(path, views, rates, seconds))
    inputs = to_clip_inputs(clips, ext, has_audio=bool(clips and clips[0].audios))
    decode_s, decode_cpu = time.perf_counter() - w0, time.process_time() - c0
    media = inputs[-1].end if inputs else 0.0
    frames = sum(len(f) for c in inputs for f in c.frames.values())

    batches = [inputs[i : i + ext.batch_size] for i in range(0, len(inputs), ext.batch_size)]
    if batches:
        ext.extract(batches[0])  # warm-up: lazy init and kernel selection, untimed
    sampler = None
    if cuda:
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        idx = torch.device(ext.device).index
        sampler = GpuSampler(torch.cuda.current_device() if idx is None else idx)
        sampler.__enter__()
    compute_s, compute_cpu = 0.0, 0.0
    try:
        for batch in batches:
            w, c = time.perf_counter(), time.process_time()
            out = ext.extract(batch)
            if cuda:
                torch.cuda.synchronize()
            compute_s += time.perf_counter() - w
            compute_cpu += time.process_time() - c
            for modality, width in ext.dims.items():
                if out[modality].shape != (len(batch), width):
                    raise RuntimeError(f"{ext.key}: {modality} {out[modality].shape}")
    finally:
        if sampler is not None:
            sampler.__exit__()

    total = decode_s + compute_s
    row: dict[str, Any] = {
        "extractor": ext.name,
        "key": ext.key,
        "dims": dict(ext.dims),
        "batch_size": ext.batch_size,
        "clips": len(inputs),
        "media_seconds": round(media, 2),
        "view_frames": frames,
        "decode_s": round(decode_s, 2),
        "decode_cpu_s": round(decode_cpu, 2),
        "compute_s": round(compute_s, 2),
        "compute_cpu_s": round(compute_cpu, 2),
        "realtime_x": round(media / total, 2) if total else None,
        "decode_share": round(decode_s / total, 3) if total else None,
        "compute_share": round(compute_s / total, 3) if total else None,
        "decode_bound": compute_s < decode_s,
        "frames_per_s": round(frames / compute_s, 1) if compute_s else None,
    }
    if cuda:
        row["max_memory_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        row.update(sampler.summary() if sampler else {})
    return row


def shared_decode(
    extractors: Sequence[FeatureExtractor], path: Path, seconds: float | None
) -> dict[str, Any]:
    """One decode for all, as the runner does: identical views decoded once."""
    views: dict[FrameView, str] = {}
    for ext in extractors:
        for view in ext.views.values():
            views.setdefault(view, f"v{len(views)}")
    rates = sorted({e.audio_rate for e in extractors if e.audio_rate})
    want = {name: view for view, name in views.items()} or {"_": FrameView(0.5, (16, 16), True)}
    w0, c0 = time.perf_counter(), time.process_time()
    n = sum(1 for _ in clips_until(path, want, rates, seconds))
    return {
        "views": len(want),
        "audio_rates": rates,
        "clips": n,
        "decode_s": round(time.perf_counter() - w0, 2),
        "decode_cpu_s": round(time.process_time() - c0, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--extractors",
        default="handcrafted,transnet",
        help="comma-separated registered names (default handcrafted,transnet)",
    )
    ap.add_argument("--video", type=Path, help="file to extract (default: the bbb sample film)")
    ap.add_argument("--seconds", type=float, help="only the first N seconds (a quick run)")
    ap.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1, ...")
    ap.add_argument("--batch-size", type=int, help="default: each extractor's own")
    ap.add_argument("--model", help="checkpoint (folder or Hub id) for clip/motion/audio")
    ap.add_argument(
        "--dtypes", default="bf16,fp16", help="on CUDA, for extractors that take a dtype"
    )
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args()
    if args.seconds is not None and args.seconds <= 0:
        ap.error("--seconds must be > 0")

    machine = print_machine()
    names = [n.strip() for n in args.extractors.split(",") if n.strip()]
    cuda = args.device.startswith("cuda")
    if cuda or "clip" in names:
        try:
            import torch

            machine["torch"] = torch.__version__
            if torch.cuda.is_available():
                machine["gpu"] = torch.cuda.get_device_name()
        except ImportError:
            pass
    if cuda and "gpu" not in machine:
        ap.error("--device cuda asked for, but CUDA is not available here")
    print(f"load average at start: {load()}")

    path = args.video or sample_path("bbb")
    info = probe(path)
    span = f"first {args.seconds:g} s of " if args.seconds else ""
    print(
        f"video: {span}{path} ({info.duration:.1f} s, {info.width}x{info.height} "
        f"{info.video_codec} {info.fps:.2f} fps, audio {info.audio_codec or 'none'})\n"
    )

    rows: list[dict[str, Any]] = []
    built: list[FeatureExtractor] = []
    for name in names:
        try:
            ext, load_s = build(name, args)
        except (TVHighlightsError, ImportError, TypeError) as e:
            print(f"{name}: skipped ({type(e).__name__}: {e})")
            rows.append({"extractor": name, "skipped": str(e)})
            continue
        variants: list[tuple[str, FeatureExtractor, float]] = [("", ext, load_s)]
        if cuda and takes_dtype(ext):
            variants = []
            for dt in (d.strip() for d in args.dtypes.split(",") if d.strip()):
                try:
                    v, v_load = build(name, args, dtype=dt)
                except (TVHighlightsError, TypeError) as e:
                    print(f"{name} {dt}: skipped ({type(e).__name__}: {e})")
                    rows.append({"extractor": name, "dtype": dt, "skipped": str(e)})
                    continue
                variants.append((dt, v, v_load))
        for dt, v, v_load in variants:
            label = f"{name} {dt}".strip()
            print(f"{label}: {v.key}, dims {v.dims}, batch {v.batch_size}, built in {v_load:.1f} s")
            row = run_one(v, path, args.seconds, cuda)
            row.update({"label": label, "build_s": round(v_load, 2), "load_avg": load()})
            rows.append(row)
            built.append(v)
            print(
                f"  decode {row['decode_s']:.1f} s, compute {row['compute_s']:.1f} s, "
                f"{row['realtime_x']}x realtime (load {row['load_avg']})",
                flush=True,
            )

    done = [r for r in rows if "skipped" not in r]
    shared = shared_decode(built, path, args.seconds) if len(built) > 1 else None

    print()
    header = (
        f"{'extractor':16} {'clips':>5} {'decode s':>8} {'(cpu)':>7} {'compute s':>9} "
        f"{'(cpu)':>7} {'x realtime':>10} {'decode %':>8} {'compute %':>9} {'frames/s':>8}  "
        f"decode-bound: compute < decode"
    )
    print(header)
    print("-" * len(header))
    for r in done:
        fps = f"{r['frames_per_s']:.0f}" if r["frames_per_s"] else "-"
        print(
            f"{r['label']:16} {r['clips']:5d} {r['decode_s']:8.1f} {r['decode_cpu_s']:7.1f} "
            f"{r['compute_s']:9.1f} {r['compute_cpu_s']:7.1f} {r['realtime_x']:10.2f} "
            f"{100 * r['decode_share']:8.0f} {100 * r['compute_share']:9.0f} {fps:>8}  "
            f"{'yes' if r['decode_bound'] else 'NO'} "
            f"(compute/decode = {r['compute_s'] / max(r['decode_s'], 1e-9):.2f})"
        )
    if cuda:
        print()
        for r in done:
            print(
                f"{r['label']}: {r['frames_per_s']} frames/s, max memory allocated "
                f"{r.get('max_memory_allocated_mib')} MiB, GPU utilisation mean "
                f"{r.get('gpu_util_mean')}% max {r.get('gpu_util_max')}% "
                f"({r.get('gpu_util_source')})"
            )
    if shared is not None:
        separate = sum(r["decode_s"] for r in done)
        compute = sum(r["compute_s"] for r in done)
        media = max(r["media_seconds"] for r in done)
        print(
            f"\none decode for all {len(built)} ({shared['views']} views, audio "
            f"{shared['audio_rates']}): {shared['decode_s']:.1f} s "
            f"(cpu {shared['decode_cpu_s']:.1f}) vs {separate:.1f} s decoding separately; "
            f"with every extractor's compute: "
            f"{media / (shared['decode_s'] + compute):.2f}x realtime on one process"
        )
    print(f"load average at end: {load()}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "machine": machine,
            "video": info.to_dict(),
            "seconds": args.seconds,
            "device": args.device,
            "results": rows,
            "shared_decode": shared,
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
