"""TVHighlights clip-level highlight metrics for the Hugging Face `evaluate` library.

A thin wrapper: every number comes from :func:`tvhighlights.evaluation.metrics.clip_auc_ap`,
the same function behind ``tvhighlights eval``. Load it with ``evaluate.load("eval/tvhighlights")``.
"""

import datasets
import evaluate

from tvhighlights.evaluation.metrics import clip_auc_ap

_DESCRIPTION = """\
Clip-level highlight detection metrics of the TVHighlights benchmark, in percent: ROC-AUC and
average precision pooled over every 2-second clip of every video, and their means over videos
(videos with no positive or no negative clip are skipped and counted).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: one list of per-clip scores (floats) per video.
    references: one list of per-clip 0/1 labels per video, of the same lengths.
    genres (optional): one genre string per video, for a per-genre breakdown.
Returns:
    pooled_auc, pooled_ap, video_auc, video_ap (percent), num_videos, num_clips,
    num_positive, num_videos_scored, num_videos_skipped, and per_genre when genres are given.
Examples:
    >>> metric = evaluate.load("eval/tvhighlights")
    >>> metric.compute(predictions=[[0.1, 0.9, 0.2]], references=[[0, 1, 0]])["pooled_auc"]
    100.0
"""

_CITATION = """\
@inproceedings{tvhighlights2026,
  title     = {TVHighlights: LLM-Guided Human-Free Collaborative Training for Video Highlight
               Detection in Movies and TV Dramas},
  booktitle = {CVPR},
  year      = {2026}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class TVHighlights(evaluate.Metric):
    """ROC-AUC / AP of per-clip highlight scores, pooled and per video."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float64")),
                    "references": datasets.Sequence(datasets.Value("int32")),
                }
            ),
            reference_urls=["https://github.com/jayleicn/moment_detr"],
        )

    def _compute(self, predictions, references, genres=None):
        return clip_auc_ap(references, predictions, genres=genres)
