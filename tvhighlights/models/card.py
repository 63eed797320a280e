"""The model card (README.md) written beside LTV-HD weights: what it is, how it was trained,
what it scored, and how to load it with or without this package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..fileio import atomic_write

__all__ = ["model_card", "write_model_card"]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if v != v else f"{v:.2f}"
    return str(v)


def model_card(config: Any) -> str:
    """Markdown with a YAML header (library, tags) for ``config`` (an ``LTVHDConfig``)."""
    s = config.training_summary or {}
    metrics = s.get("validation_metrics", {})
    rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in metrics.items())
    hp = s.get("hyperparameters", {})
    trained = (
        f"Stage {s.get('stage')} ({s.get('method')}) on `{s.get('dataset')}` with the features "
        f"in `{s.get('features')}`: {s.get('train_videos')} training videos, validation on "
        f"{s.get('validation')}; best epoch {s.get('epoch')}."
        if s
        else "Not trained yet (random initialisation)."
    )
    return f"""---
library_name: transformers
pipeline_tag: video-classification
tags:
- video-highlight-detection
- tvhighlights
- ltv-hd
- custom_code
---

# LTV-HD (LTRM + MIL)

Per-clip highlight scores for films and TV episodes on the 2-second grid, from per-clip
features of the extractors `{", ".join(config.extractors)}` (visual width {config.visual_dim},
audio width {config.audio_dim}). Architecture: modality encoders, {config.num_bottleneck_tokens}
bottleneck tokens for cross-modal fusion, {config.num_layers} local temporal relation layers
(window {config.window_size} clips), hidden size {config.hidden_size}; video score = mean of
the top-{config.top_k} clip scores.

## How it was trained

{trained}

| validation metric | value |
|---|---|
{rows or "| none | |"}

{f"Command: `{s['command']}`" if s.get("command") else ""}

Hyper-parameters:

```json
{json.dumps(hp, indent=2, default=str)}
```

## Use

```python
from tvhighlights import LTVHDModel                 # with the tvhighlights package
model = LTVHDModel.from_pretrained("THIS_FOLDER_OR_REPO")

from transformers import AutoModel                  # without it
model = AutoModel.from_pretrained("THIS_FOLDER_OR_REPO", trust_remote_code=True)
```

```bash
tvhighlights predict film.mp4 --model THIS_FOLDER_OR_REPO --out film.highlights.json \\
    --plot film.png --reel film.reel.mp4
```
"""


def write_model_card(folder: str | Path, config: Any) -> Path:
    """Write ``folder/README.md`` (atomically) for the model whose config is ``config``."""
    path = Path(folder) / "README.md"
    with atomic_write(path) as fh:
        fh.write(model_card(config))
    return path
