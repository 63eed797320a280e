"""Training LTV-HD: stage 1 (multiple-instance learning from video labels)."""

from __future__ import annotations

from .stage1 import Stage1Config, Stage1Result, TrainingError, evaluate_model, train_stage1

__all__ = ["Stage1Config", "Stage1Result", "TrainingError", "evaluate_model", "train_stage1"]
