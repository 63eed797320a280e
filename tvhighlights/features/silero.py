"""Silero VAD (speech activity), the optional speech cue of the handcrafted extractor.

The TorchScript model ships inside the ``silero-vad`` wheel: nothing is downloaded.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

__all__ = ["SileroVad", "try_silero"]


class SileroVad:
    """The TorchScript Silero VAD shipped inside the ``silero-vad`` wheel, run on CPU.

    Its package sets torch's global thread count to 1 on import; that is undone, and the
    model runs with one thread only while it runs (a small LSTM: more threads only contend).
    """

    def __init__(self) -> None:
        import torch  # only this path needs torch

        threads = torch.get_num_threads()
        try:
            import silero_vad
            from silero_vad import load_silero_vad

            with warnings.catch_warnings():  # importlib.resources.path, torch.jit.load
                warnings.simplefilter("ignore", DeprecationWarning)
                self.model = load_silero_vad()  # the model file inside the wheel, no download
        finally:
            torch.set_num_threads(threads)
        self.version = str(getattr(silero_vad, "__version__", "unknown"))
        self._torch = torch
        self._lock = threading.Lock()  # the model keeps LSTM state between calls

    def probabilities(self, audio: np.ndarray, rate: int) -> np.ndarray:
        """``(B, windows)`` speech probabilities of 512-sample windows (16 kHz)."""
        torch = self._torch
        if audio.shape[1] < 512:
            audio = np.pad(audio, ((0, 0), (0, 512 - audio.shape[1])))
        x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        with self._lock, torch.inference_mode():
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                probs = self.model.audio_forward(x, rate)
            finally:
                torch.set_num_threads(threads)
        return probs.detach().cpu().numpy().astype(np.float32)


def try_silero() -> tuple[SileroVad | None, str, bool]:
    """The Silero model, or ``None``, why not, and whether it is installed but broken."""
    try:
        return SileroVad(), "", False
    except ImportError as e:
        return None, f"not importable ({e})", False
    except Exception as e:  # a broken install or model file: fall back, say why
        return None, f"failed to load ({type(e).__name__}: {e})", True
