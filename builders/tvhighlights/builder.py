"""``TVHighlightsBuilder``: the TVHighlights dataset as a ``datasets.GeneratorBasedBuilder``.

`datasets` 5 no longer runs loading scripts through ``load_dataset``, but a builder class can
still be made and prepared directly::

    from tvhighlights.builders.tvhighlights import TVHighlightsBuilder
    from tvhighlights.build import BuildConfig
    b = TVHighlightsBuilder(sources="sources.csv", derivatives=["derivatives.csv"],
                            build=BuildConfig(window=20))
    b.download_and_prepare()
    ds = b.as_dataset()                       # DatasetDict: train (votes), test when labelled

The configs: ``default`` (one row per source, or per ``window`` of one), ``windowed`` (the
same rows cut into 120-second windows unless ``build`` says otherwise), ``matches`` (every
aligned derivative shot) and ``features`` (each default row's per-clip features, from
``features_dir``). Preparing runs the build pipeline (:func:`tvhighlights.build.run_build`),
whose work units are cached in ``work_dir``. :meth:`TVHighlightsBuilder.write_folder` writes the
published folder (Parquet + card) from the same pipeline, schema and card: what
``tvhighlights build`` does, and what ``load_dataset(folder)`` reads with nothing of ours.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import datasets

from tvhighlights.build.pipeline import BuildConfig, BuildOutput, run_build
from tvhighlights.errors import InvalidArgumentError

from .folder import features_table, write_dataset
from .schema import CONFIG_FEATURES

__all__ = ["TVHighlightsBuilder", "TVHighlightsConfig"]

_DESCRIPTION = (
    "Highlight labels for movies and TV dramas without human labels: every short re-upload "
    "of a film votes for the 2-second clips it reuses (TVHighlights / LTV-HD)."
)


@dataclasses.dataclass
class TVHighlightsConfig(datasets.BuilderConfig):
    """One configuration of the builder: its name, the manifests and the build's options."""

    sources: str | None = None
    """Sources manifest (CSV/JSONL): ``video_id, path, title[, genre]``."""
    derivatives: Sequence[str] | str | None = None
    """Derivatives manifest(s): ``clip_id, path, title[, platform, engagement]``."""
    build: BuildConfig = dataclasses.field(default_factory=BuildConfig)
    """Everything that decides the content (label rule, window, title filter, shots, ...)."""
    work_dir: str | None = None
    """Cache of the build's work units (fingerprints, alignments); default: beside the
    builder's cache."""
    features_dir: str | None = None
    """Feature folder (``tvhighlights extract``) of the ``features`` config."""
    extractors: Sequence[str] | None = None
    """Extractor outputs of the ``features`` config (default: all stored ones)."""
    show_progress: bool = False


class TVHighlightsBuilder(datasets.GeneratorBasedBuilder):
    """Builds TVHighlights from long sources and their short re-uploads (see the module doc)."""

    BUILDER_CONFIG_CLASS = TVHighlightsConfig
    BUILDER_CONFIGS = [  # noqa: RUF012 - the datasets API names this class attribute
        TVHighlightsConfig(name="default", description="one row per source (or window)"),
        TVHighlightsConfig(
            name="windowed",
            description="rows of 120-second windows of the sources",
            build=BuildConfig(window=120.0),
        ),
        TVHighlightsConfig(name="matches", description="every aligned derivative shot"),
        TVHighlightsConfig(name="features", description="per-clip features of each row"),
    ]
    DEFAULT_CONFIG_NAME = "default"
    VERSION = datasets.Version("1.0.0")

    config: TVHighlightsConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("dataset_name", "tvhighlights")
        super().__init__(*args, **kwargs)
        self._output: BuildOutput | None = None

    # -- datasets' interface ---------------------------------------------------------------

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            features=CONFIG_FEATURES[self.config.name],
            license="other",
        )

    def _split_generators(self, dl_manager: Any) -> list[datasets.SplitGenerator]:
        output = self.build_output()
        if self.config.name == "features" and not self.config.features_dir:
            raise InvalidArgumentError(
                "the features config needs features_dir (a `tvhighlights extract` folder)",
                param="features_dir",
            )
        parts = {"train": output.matches} if self.config.name == "matches" else output.splits
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"rows": rows})
            for split, rows in parts.items()
            if rows
        ]

    def _generate_examples(self, rows: Sequence[dict[str, Any]]) -> Iterator[tuple[int, dict]]:
        names = list(CONFIG_FEATURES[self.config.name])
        if self.config.name == "features":
            table = features_table(
                [r["video_id"] for r in rows], self.config.features_dir, self.config.extractors
            )
            yield from enumerate(table.to_pylist())
            return
        for i, row in enumerate(rows):
            yield i, {k: row.get(k) for k in names}

    # -- the build -------------------------------------------------------------------------

    def build_output(self) -> BuildOutput:
        """Run the build pipeline once for this builder (cached work units make reruns cheap)."""
        if self._output is None:
            cfg = self.config
            if not cfg.sources or not cfg.derivatives:
                raise InvalidArgumentError(
                    "TVHighlightsBuilder needs sources= and derivatives= manifests",
                    param="sources",
                )
            work = Path(cfg.work_dir) if cfg.work_dir else Path(self._cache_dir_root) / "work"
            self._output = run_build(
                cfg.sources,
                [cfg.derivatives] if isinstance(cfg.derivatives, str | Path) else cfg.derivatives,
                cfg.build,
                work,
                show_progress=cfg.show_progress,
            )
        return self._output

    def write_folder(self, out_dir: str | Path) -> Path:
        """Write the published folder: the default config's rows (by split), ``matches``, the
        card, the build report and the figures; ``load_dataset(out_dir)`` reads it."""
        from tvhighlights.build.plots import plot_vote_histogram, plot_vote_timelines

        output = self.build_output()
        timelines = output.timelines
        images = {
            "votes_timeline.png": lambda p: plot_vote_timelines(timelines, p),
            "votes_histogram.png": lambda p: plot_vote_histogram([t[1] for t in timelines], p),
        }
        return write_dataset(
            out_dir,
            output.splits,
            matches=output.matches,
            report=output.report,
            images=images,
            config=self.config.build,
        )
