"""LTV-HD (LTRM + MIL) as a transformers model: ``LTVHDConfig`` and ``LTVHDModel``.

Importing this package registers both with ``AutoConfig`` / ``AutoModel`` and marks them for
``save_pretrained`` to write ``auto_map`` and copy the two files beside the weights, so a saved
folder also loads with ``AutoModel.from_pretrained(folder, trust_remote_code=True)`` where
``tvhighlights`` is not installed.
"""

from __future__ import annotations

from transformers import AutoConfig, AutoModel

from .configuration_ltvhd import LTVHDConfig
from .modeling_ltvhd import LTVHDModel, LTVHDOutput, LTVHDPreTrainedModel, mil_video_scores

AutoConfig.register("ltvhd", LTVHDConfig, exist_ok=True)
AutoModel.register(LTVHDConfig, LTVHDModel, exist_ok=True)
LTVHDConfig.register_for_auto_class()
LTVHDModel.register_for_auto_class("AutoModel")

__all__ = ["LTVHDConfig", "LTVHDModel", "LTVHDOutput", "LTVHDPreTrainedModel", "mil_video_scores"]
