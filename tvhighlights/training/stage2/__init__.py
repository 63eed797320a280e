"""Stage 2 of LTV-HD: LLG (:mod:`.llg`) -> NLC (:mod:`.nlc`) -> HPI (:mod:`.hpi`) rounds,
run by :mod:`.loop` and reported by :mod:`.report`."""

from __future__ import annotations

from .loop import Stage2Config, Stage2Result, train_stage2

__all__ = ["Stage2Config", "Stage2Result", "train_stage2"]
