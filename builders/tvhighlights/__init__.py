"""The TVHighlights dataset builder: the ``datasets.GeneratorBasedBuilder``, its one schema and
its card, and the published folder written from them.

* :mod:`.builder` - :class:`TVHighlightsBuilder` (configs ``default``, ``windowed``, ``matches``,
  ``features``): ``b.download_and_prepare(); b.as_dataset()``;
* :mod:`.schema` - a ``datasets.Features`` per config, from which the Parquet schema and the
  card's YAML are derived;
* :mod:`.card` + ``card_template.md`` - the dataset card, rendered with ``DatasetCard``;
* :mod:`.folder` - the published folder (``tvhighlights build``) and its ``features`` config
  (``tvhighlights extract --add-to-dataset``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tvhighlights.build.pipeline import BuildConfig

from .builder import TVHighlightsBuilder, TVHighlightsConfig
from .folder import add_features_config, features_table, write_dataset
from .schema import CONFIG_FEATURES, FEATURE_ROWS, MATCH_ROWS, VIDEO_ROWS

__all__ = [
    "CONFIG_FEATURES",
    "FEATURE_ROWS",
    "MATCH_ROWS",
    "VIDEO_ROWS",
    "BuildResult",
    "TVHighlightsBuilder",
    "TVHighlightsConfig",
    "add_features_config",
    "build_dataset",
    "features_table",
    "write_dataset",
]


@dataclass
class BuildResult:
    """What :func:`build_dataset` wrote: the folder and the build report."""

    out_dir: Path
    report: dict[str, Any]


def build_dataset(
    sources_manifest: str | Path,
    derivatives_manifest: str | Path | list[str | Path],
    out_dir: str | Path,
    config: BuildConfig | None = None,
    *,
    show_progress: bool = True,
) -> BuildResult:
    """Build a TVHighlights folder from the manifests (the ``tvhighlights build`` job).

    Work units are cached in ``config.cache_dir``, by default ``<out_dir>.cache`` beside the
    output, so a rerun (or a rerun after a crash) resumes where it stopped.
    """
    config = config or BuildConfig()
    out = Path(out_dir)
    work = Path(config.cache_dir) if config.cache_dir else out.parent / f"{out.name}.cache"
    derivatives = (
        [str(derivatives_manifest)]
        if isinstance(derivatives_manifest, str | Path)
        else [str(d) for d in derivatives_manifest]
    )
    builder = TVHighlightsBuilder(
        cache_dir=str(work / "datasets"),
        sources=str(sources_manifest),
        derivatives=derivatives,
        build=config,
        work_dir=str(work),
        show_progress=show_progress,
    )
    output = builder.build_output()
    return BuildResult(builder.write_folder(out), output.report)
