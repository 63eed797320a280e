"""Training checkpoints without pickle: tensors in safetensors, everything else in JSON.

A checkpoint folder holds the model's weights, the optimizer's state (its tensors flattened
to ``state.<param>.<name>`` keys, its scalars and param groups in JSON), the random number
generators and the loop's own state (epoch, best score, history). It is written beside its
final place and renamed over it, so a run killed at any moment resumes from the last whole
checkpoint, and loading one never executes anything.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ..errors import CheckpointError
from ..fileio import write_json

__all__ = ["CheckpointError", "load_checkpoint", "save_checkpoint", "save_model_folder"]


def _optimizer_parts(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for name, value in st.items():
            if torch.is_tensor(value):
                tensors[f"state.{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[name] = value
    return tensors, {"scalars": scalars, "param_groups": sd["param_groups"]}


def save_checkpoint(
    folder: str | Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
    rng: np.random.Generator | None = None,
) -> Path:
    """Write a whole checkpoint to ``folder`` (atomically: built beside it, then renamed)."""
    folder = Path(folder)
    tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(tmp / "model.safetensors"))
    opt_tensors, opt_json = _optimizer_parts(optimizer)
    opt_tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            opt_tensors[f"rng.cuda.{i}"] = s
    save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
    py_state = random.getstate()
    write_json(
        tmp / "state.json",
        {
            **state,
            "optimizer": opt_json,
            "rng": {
                "python": [py_state[0], list(py_state[1]), py_state[2]],
                "numpy": rng.bit_generator.state if rng is not None else None,
            },
        },
    )
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def load_checkpoint(
    folder: str | Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator | None = None,
) -> dict[str, Any]:
    """Restore model, optimizer and RNGs from ``folder``; returns the loop's saved state."""
    folder = Path(folder)
    try:
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        weights = load_file(str(folder / "model.safetensors"))
        opt_tensors = load_file(str(folder / "optimizer.safetensors"))
    except Exception as e:  # missing files, bad JSON, a corrupt safetensors header
        raise CheckpointError(f"{folder}: not a readable training checkpoint ({e})") from e
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"{folder}: checkpoint does not fit the model (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})"
        )
    opt_json = state.pop("optimizer")
    opt_state: dict[int, dict[str, Any]] = {}
    for key, value in opt_tensors.items():
        if key.startswith("state."):
            _, pid, name = key.split(".", 2)
            opt_state.setdefault(int(pid), {})[name] = value
    for pid, values in opt_json["scalars"].items():
        opt_state.setdefault(int(pid), {}).update(values)
    try:
        optimizer.load_state_dict({"state": opt_state, "param_groups": opt_json["param_groups"]})
    except (ValueError, KeyError) as e:
        raise CheckpointError(f"{folder}: optimizer state does not fit ({e})") from e
    torch.set_rng_state(opt_tensors["rng.torch"])
    cuda = [opt_tensors[k] for k in sorted(opt_tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    rng_state = state.pop("rng")
    py = rng_state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    if rng is not None and rng_state["numpy"] is not None:
        rng.bit_generator.state = rng_state["numpy"]
    return state


def save_model_folder(model: Any, out: str | Path) -> Path:
    """``save_pretrained`` into a temporary folder, then move its files over ``out``'s."""
    from transformers.utils import logging as hf_logging

    out = Path(out)
    tmp = out.parent / f".{out.name}.model-tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # one bar per epoch's save is noise
    try:
        model.save_pretrained(tmp, safe_serialization=True)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    out.mkdir(parents=True, exist_ok=True)
    for f in tmp.iterdir():
        os.replace(f, out / f.name)
    shutil.rmtree(tmp, ignore_errors=True)
    return out
