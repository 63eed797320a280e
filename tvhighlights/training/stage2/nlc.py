"""NLC: noisy-label cleaning by label refurbishment (PENCIL, Yi & Wu 2019), as the seed uses it.

Each training clip's label is a learnable two-bin distribution ``y^d = softmax(ỹ)`` trained
together with the model. ``ỹ`` starts at ``log [1 - y_n, y_n]``, so ``y^d`` equals the noisy
label exactly at the start (PENCIL's ``K * onehot`` would sharpen soft labels before any
training). The losses, per clip and averaged over the labelled clips:

- ``L_cls = KL(f || y^d) = sum f (log f - log y^d)``, the model's distribution first;
- ``L_cp = -sum y_n log y^d`` (the paper's formula; PENCIL's code applies
  ``CrossEntropyLoss`` to ``softmax(ỹ)``, a quirk not copied here), weight ``lambda_cp``;
- ``L_s = -sum f log f``, the entropy of the model's output, weight ``lambda_s``.

As in PENCIL, training has three phases (``Stage2Config.label_start`` / ``label_stop``): the
labels stay at ``Y_n`` while the model warms up, then learn, then stay fixed while the model
settles. ``ỹ`` is updated by plain SGD with its own, much larger learning rate, applied to
each clip's own loss (not the batch mean), so the rate does not depend on how many clips
share a batch.
PENCIL uses 600 on the batch mean of 128 images, about 4.7 per image; the default here is
:data:`DEFAULT_LABEL_LR`. A collapse check stops the labels (not the model) when they drift to
one value; the labels then go back to ``Y_n`` and stay there.

The fixed point of the labels' update is ``y^d = (f + lambda_cp * y_n) / (1 + lambda_cp)``:
about 91 % the model's output at the paper's weights. The benchmark shows what that costs: a
model that starts uninformed pulls its labels towards its own guesses.
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "DEFAULT_LABEL_LR",
    "LabelCollapse",
    "collapse_problem",
    "init_label_logits",
    "nlc_loss",
    "two_bins",
]

DEFAULT_LABEL_LR = 1.0
"""SGD rate of ``ỹ`` on a clip's own loss: a label can travel most of the way to the model's
prediction in a few epochs, but not in one step (PENCIL's per-image rate is about 4.7)."""

_EPS = 1e-6


def two_bins(p: torch.Tensor) -> torch.Tensor:
    """``(..., )`` probabilities of "highlight" -> ``(..., 2)`` distributions ``[1 - p, p]``."""
    p = p.clamp(_EPS, 1 - _EPS)
    return torch.stack([1 - p, p], dim=-1)


def init_label_logits(y_n: torch.Tensor) -> torch.Tensor:
    """``ỹ = log [1 - y_n, y_n]``: ``softmax(ỹ)`` is ``y_n`` exactly (up to 1e-6 clamping)."""
    return two_bins(y_n.float()).log()


def nlc_loss(
    logits: torch.Tensor,
    label_logits: torch.Tensor,
    y_n: torch.Tensor,
    weight: torch.Tensor,
    *,
    lambda_cp: float = 0.1,
    lambda_s: float = 0.4,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The NLC objective over a batch's clips.

    Args:
        logits: ``(n,)`` the model's clip logits.
        label_logits: ``(n, 2)`` the clips' learnable ``ỹ``.
        y_n: ``(n,)`` the noisy labels in [0, 1].
        weight: ``(n,)`` 1 for clips that have a label, 0 for the rest (left out).

    Returns:
        ``(total, parts)``: ``total`` summed over clips (divide for a mean; the model's step
        uses the mean, the labels' step the sum), ``parts`` the three means for the log.
    """
    logp = torch.stack([_logsigmoid(-logits), _logsigmoid(logits)], dim=-1)  # (n, 2)
    f = logp.exp()
    log_yd = torch.log_softmax(label_logits.float(), dim=-1)
    l_cls = (f * (logp - log_yd)).sum(-1)
    yn = two_bins(y_n.float())
    l_cp = -(yn * log_yd).sum(-1)
    l_s = -(f * logp).sum(-1)
    per_clip = (l_cls + lambda_cp * l_cp + lambda_s * l_s) * weight
    n = weight.sum().clamp(min=1)
    with torch.no_grad():
        parts = {
            "cls": float((l_cls * weight).sum() / n),
            "cp": float((l_cp * weight).sum() / n),
            "entropy": float((l_s * weight).sum() / n),
        }
    return per_clip.sum(), parts


def _logsigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.logsigmoid(x.float())


class LabelCollapse(RuntimeError):
    """The refurbished labels drifted to (almost) one value."""


def collapse_problem(
    labels: torch.Tensor, initial_positive_share: float, *, min_std: float = 0.02
) -> str | None:
    """Why the labels ``(n,)`` (P(highlight)) look collapsed, or ``None``.

    Collapsed: their spread fell under ``min_std``, or the share of clips above 0.5 moved to
    under a fifth of (or over four times, capped at 0.95) what it was at the start."""
    if labels.numel() < 2:
        return None
    std = float(labels.float().std())
    share = float((labels > 0.5).float().mean())
    if std < min_std:
        return f"the labels' spread fell to {std:.4f}"
    lo = initial_positive_share / 5
    hi = min(0.95, max(4 * initial_positive_share, initial_positive_share + 0.05))
    if initial_positive_share > 0 and share < lo:
        return (
            f"the share of highlight labels fell from {initial_positive_share:.3f} to {share:.3f}"
        )
    if share > hi and not math.isclose(share, initial_positive_share):
        return (
            f"the share of highlight labels rose from {initial_positive_share:.3f} to {share:.3f}"
        )
    return None
