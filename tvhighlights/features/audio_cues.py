"""Audio cues of a clip from mono audio, vectorised over clips in numpy (no weights).

Level (RMS dB), LUFS-like K-weighted loudness, spectral flux, onsets, centroid, flatness, band
shares, zero-crossing rate and a heuristic speech ratio; every column is named and described in
:data:`AUDIO_FEATURES`. The handcrafted extractor (:mod:`.handcrafted`) and the baselines use
them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ExtractorError

__all__ = ["AUDIO_FEATURES", "DB_FLOOR", "audio_features", "heuristic_speech_ratio"]


AUDIO_FEATURES: tuple[tuple[str, str], ...] = (
    ("rms_db_mean", "mean of the 50 ms frames' RMS level, dB re full scale (floor -100)"),
    ("rms_db_max", "max of the 50 ms frames' RMS level, dB"),
    ("rms_db_std", "std of the 50 ms frames' RMS level, dB"),
    ("silence_ratio", "fraction of 50 ms frames below -60 dB"),
    ("lufs", "K-weighted loudness of the clip, LUFS-like, ungated (floor -100)"),
    ("spectral_flux", "mean rectified increase of log1p(1000*|X|) per bin between STFT frames"),
    ("onset_rate", "peaks of the spectral flux per second"),
    ("centroid_khz", "power-weighted spectral centroid, kHz (0 on silence)"),
    ("flatness", "spectral flatness (geometric / arithmetic mean power), power-weighted"),
    ("low_share", "share of power below 250 Hz"),
    ("speech_band_share", "share of power within 300-3400 Hz"),
    ("zcr", "fraction of consecutive samples that change sign"),
    ("speech_ratio", "fraction of the clip judged speech (Silero VAD or the heuristic)"),
)
"""Audio columns, in order: (name, meaning)."""

DB_FLOOR = -100.0
"""Level given to silence: the dB floor of every level column."""

_POWER_FLOOR = 10.0 ** (DB_FLOOR / 10.0)
_EPS = 1e-12
_RMS_FRAME_SECONDS = 0.05
_N_FFT = 512
_HOP = 256
_SILENCE_DB = -60.0


_FLUX_GAIN = 1000.0
_ONSET_RATIO, _ONSET_DELTA = 1.5, 0.1
"""A flux peak counts as an onset above ``1.5 * median + 0.1`` of the clip's flux (stationary
white noise peaks at about ``1.35 * median``; a click over silence reaches about 1.6)."""
_ONSET_HALF_WINDOW = 2
"""A flux peak is the largest within +-2 hops (+-32 ms at 16 kHz)."""


# --------------------------------------------------------------------------------------------
# Audio


@functools.lru_cache(maxsize=8)
def _k_weighting_power(rate: int, n_fft: int) -> np.ndarray:
    """``|H(f)|^2`` of the K-weighting filters at the rfft bin frequencies.

    The two biquads of pyloudnorm's BS.1770 approximation (RBJ cookbook): a high shelf of
    +4 dB at 1500 Hz (Q 1/sqrt 2) and a 38 Hz high-pass (Q 0.5), designed for ``rate``.
    """
    w = 2.0 * np.pi * np.fft.rfftfreq(n_fft, 1.0 / rate) / rate
    z = np.exp(-1j * w)

    def response(b: Sequence[float], a: Sequence[float]) -> np.ndarray:
        num = b[0] + b[1] * z + b[2] * z * z
        den = a[0] + a[1] * z + a[2] * z * z
        return np.abs(num / den) ** 2

    # high shelf
    gain_db, q, fc = 4.0, 1.0 / math.sqrt(2.0), 1500.0
    amp = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * fc / rate
    alpha = math.sin(w0) / (2.0 * q)
    cw, sa = math.cos(w0), 2.0 * math.sqrt(amp) * alpha
    shelf = response(
        (
            amp * ((amp + 1) + (amp - 1) * cw + sa),
            -2 * amp * ((amp - 1) + (amp + 1) * cw),
            amp * ((amp + 1) + (amp - 1) * cw - sa),
        ),
        (
            (amp + 1) - (amp - 1) * cw + sa,
            2 * ((amp - 1) - (amp + 1) * cw),
            (amp + 1) - (amp - 1) * cw - sa,
        ),
    )
    # high-pass
    q, fc = 0.5, 38.0
    w0 = 2.0 * math.pi * fc / rate
    alpha = math.sin(w0) / (2.0 * q)
    cw = math.cos(w0)
    highpass = response(((1 + cw) / 2, -(1 + cw), (1 + cw) / 2), (1 + alpha, -2 * cw, 1 - alpha))
    return (shelf * highpass).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _hann(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)


def _db(power: np.ndarray) -> np.ndarray:
    """``10*log10(power)`` with the :data:`DB_FLOOR` floor (no -inf on silence)."""
    return 10.0 * np.log10(np.maximum(power, _POWER_FLOOR))


def _stft_power(audio: np.ndarray) -> np.ndarray:
    """``(B, T, n_fft/2+1)`` power spectra of Hann-windowed frames (T >= 2)."""
    length = audio.shape[1]
    need = max(_N_FFT + _HOP, length)
    if need > length:
        audio = np.pad(audio, ((0, 0), (0, need - length)))
    frames = sliding_window_view(audio, _N_FFT, axis=1)[:, ::_HOP, :]
    spec = np.fft.rfft(frames * _hann(_N_FFT), axis=2)
    return (spec.real**2 + spec.imag**2).astype(np.float32)


def audio_features(audio: np.ndarray, rate: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Audio columns (:data:`AUDIO_FEATURES`, speech ratio left 0) of ``B`` equal-length clips.

    Returns the ``(B, Da)`` float32 array and the intermediates the speech heuristic reuses
    (``power``: the STFT power, ``freqs``: its bin frequencies).
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2:
        raise ExtractorError(f"expected audio (B, samples), got shape {audio.shape}")
    b, length = audio.shape
    out = np.zeros((b, len(AUDIO_FEATURES)), dtype=np.float32)
    seconds = max(length, 1) / rate

    # level over 50 ms frames
    flen = max(1, round(_RMS_FRAME_SECONDS * rate))
    nfr = max(1, length // flen)
    x = audio[:, : nfr * flen] if length >= flen else np.pad(audio, ((0, 0), (0, flen - length)))
    frame_db = _db((x.reshape(b, nfr, flen).astype(np.float64) ** 2).mean(axis=2))
    out[:, 0] = frame_db.mean(axis=1)
    out[:, 1] = frame_db.max(axis=1)
    out[:, 2] = frame_db.std(axis=1)
    out[:, 3] = (frame_db < _SILENCE_DB).mean(axis=1)

    power = _stft_power(audio)  # (B, T, K)
    win = _hann(_N_FFT)
    bins = np.full(power.shape[2], 2.0, dtype=np.float32)
    bins[0] = bins[-1] = 1.0
    scale = bins / np.float32(_N_FFT * float((win**2).sum()))  # Parseval: mean square
    kpow = (power * (scale * _k_weighting_power(rate, _N_FFT))).sum(axis=2).mean(axis=1)
    out[:, 4] = np.maximum(-0.691 + _db(kpow), DB_FLOOR)

    amp = np.sqrt(power) * np.float32(2.0 / float(win.sum()))
    logamp = np.log1p(_FLUX_GAIN * amp)
    flux = np.maximum(np.diff(logamp, axis=1), 0.0).mean(axis=2)  # (B, T-1)
    out[:, 5] = flux.mean(axis=1)
    out[:, 6] = _count_peaks(flux) / seconds

    freqs = np.fft.rfftfreq(_N_FFT, 1.0 / rate).astype(np.float32)
    frame_power = power.sum(axis=2)  # (B, T)
    total = frame_power.sum(axis=1)
    has = total > _EPS
    safe_total = np.where(has, total, 1.0)
    out[:, 7] = np.where(has, (power @ freqs).sum(axis=1) / safe_total / 1000.0, 0.0)
    flat = np.exp(np.log(power + _EPS).mean(axis=2)) / (power.mean(axis=2) + _EPS)
    out[:, 8] = np.where(has, (flat * frame_power).sum(axis=1) / safe_total, 0.0)
    low = freqs < 250.0  # DC included: an offset is low-frequency power too
    band = (freqs >= 300.0) & (freqs <= 3400.0)
    out[:, 9] = np.where(has, power[:, :, low].sum(axis=(1, 2)) / safe_total, 0.0)
    out[:, 10] = np.where(has, power[:, :, band].sum(axis=(1, 2)) / safe_total, 0.0)
    if length > 1:
        sign = np.signbit(audio)
        out[:, 11] = (sign[:, 1:] != sign[:, :-1]).mean(axis=1)
    return out, {"power": power, "freqs": freqs}


def _count_peaks(flux: np.ndarray) -> np.ndarray:
    """Onsets per clip: flux maxima within +-2 hops that stand well above the clip's median."""
    b = flux.shape[0]
    k = _ONSET_HALF_WINDOW
    padded = np.pad(flux, ((0, 0), (k, k)), constant_values=-np.inf)
    local_max = sliding_window_view(padded, 2 * k + 1, axis=1).max(axis=2)
    # ties (flat plateaus) count once: only the first position of a plateau is a peak
    first = np.concatenate([np.ones((b, 1), bool), flux[:, 1:] != flux[:, :-1]], axis=1)
    threshold = _ONSET_RATIO * np.median(flux, axis=1, keepdims=True) + _ONSET_DELTA
    return ((flux >= local_max) & first & (flux > threshold)).sum(axis=1)


def heuristic_speech_ratio(power: np.ndarray, freqs: np.ndarray, rate: int) -> np.ndarray:
    """Speech ratio without a model: why a heuristic, and which one.

    A frame (32 ms, hop 16 ms) is speech-like when it is active (above -50 dB), most of its
    power lies in the telephone band 300-3400 Hz (share > 0.6) and it is not noise-like
    (in-band spectral flatness < 0.3: voiced speech is harmonic). The clip's fraction of such
    frames is then weighted by its syllabic modulation: the share of the in-band level
    envelope's modulation power within 2.5-8 Hz (syllable rates, above most musical beats)
    among 1-16 Hz, mapped linearly from 0.25 (weight 0) to 0.6 (weight 1). Steady tones and
    noise get little; music with vocals can score. It is a rough cue, not a detector; Silero
    VAD replaces it when installed.
    """
    t = power.shape[1]
    win = _hann(_N_FFT)
    scale = np.float32(2.0 / (_N_FFT * float((win**2).sum())))
    band = (freqs >= 300.0) & (freqs <= 3400.0)
    total = power.sum(axis=2)
    band_power = power[:, :, band]
    in_band = band_power.sum(axis=2)
    active = _db(total * scale) > -50.0
    share = in_band / np.maximum(total, _EPS)
    flat = np.exp(np.log(band_power + _EPS).mean(axis=2)) / (band_power.mean(axis=2) + _EPS)
    voiced = active & (share > 0.6) & (flat < 0.3)
    frac = voiced.mean(axis=1)

    env = _db(in_band * scale)  # (B, T) dB envelope at rate / hop frames per second
    env = env - env.mean(axis=1, keepdims=True)
    mod = np.abs(np.fft.rfft(env, axis=1)) ** 2
    mfreq = np.fft.rfftfreq(t, _HOP / rate)
    syll = mod[:, (mfreq >= 2.5) & (mfreq <= 8.0)].sum(axis=1)
    wide = mod[:, (mfreq >= 1.0) & (mfreq <= 16.0)].sum(axis=1)
    share_mod = np.where(wide > _EPS, syll / np.maximum(wide, _EPS), 0.0)
    weight = np.clip((share_mod - 0.25) / 0.35, 0.0, 1.0)
    return (frac * weight).astype(np.float32)
