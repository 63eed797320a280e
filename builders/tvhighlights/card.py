"""The dataset card: YAML that `load_dataset` reads (configs, features), then Markdown for people.

The YAML's ``dataset_info`` comes from the one schema (:mod:`.schema`); the text is the
template ``card_template.md`` beside this file, rendered with ``huggingface_hub``'s
``DatasetCard.from_template``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from huggingface_hub import DatasetCard, DatasetCardData

from tvhighlights.data.folder import DataFiles, data_files_yaml

from .schema import dataset_infos

__all__ = ["TEMPLATE", "render_card"]

TEMPLATE = Path(__file__).with_name("card_template.md")

_TAGS = ["video-highlight-detection", "movies", "tv-dramas", "weak-supervision"]


def render_card(
    files: DataFiles,
    *,
    config: Any = None,
    report: Mapping[str, Any] | None = None,
    rows: Mapping[str, int] | None = None,
    annotation: Mapping[str, Any] | None = None,
) -> str:
    """The card of a folder holding ``files`` (``{config: {split: path}}``).

    ``config`` (the build's :class:`~tvhighlights.build.BuildConfig`) adds the label rule,
    ``report`` (the build report) the statistics, ``rows`` (rows per split of the default
    config) the row counts, ``annotation`` (the summary of
    :func:`tvhighlights.annotate.aggregate.write_test_split`) how the test split was labelled.
    """
    data = DatasetCardData(
        pretty_name="TVHighlights",
        license="other",
        task_categories=["video-classification"],
        tags=list(_TAGS),
        configs=[data_files_yaml(c, f, default=c == "default") for c, f in files.items()],
    )
    dataset_infos(files).to_dataset_card_data(data)
    card = DatasetCard.from_template(
        data,
        template_path=str(TEMPLATE),
        config=config,
        report=report,
        rows=dict(rows or {}),
        annotation=annotation,
    )
    return str(card)
