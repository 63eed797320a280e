"""Models of the toolkit, laid out as transformers lays out a model folder."""

from __future__ import annotations

from .ltvhd import LTVHDConfig, LTVHDModel, LTVHDOutput

__all__ = ["LTVHDConfig", "LTVHDModel", "LTVHDOutput"]
