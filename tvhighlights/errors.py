"""The project's exceptions: one small hierarchy whose messages name the input at fault."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class TVHighlightsError(Exception):
    """Base class of every error this library raises on purpose.

    The CLI prints ``str(error)`` as one line and exits non-zero; anything else is a bug.
    """


class VideoOpenError(TVHighlightsError):
    """A file could not be opened, probed or decoded as a video."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: cannot read video: {reason}")


class SampleFetchError(TVHighlightsError):
    """A sample asset could not be fetched, verified or unpacked."""


class InputFormatError(TVHighlightsError):
    """A JSONL/CSV/JSON input is malformed; the message lists every problem found.

    ``problems`` holds one string per problem, each naming the file and the line or field.
    """

    def __init__(self, path: str | Path, problems: Iterable[str], what: str = "input") -> None:
        self.path = str(path)
        self.problems = list(problems)
        self.what = what
        n = len(self.problems)
        shown = self.problems[:20]
        more = f"\n  ... and {n - len(shown)} more" if n > len(shown) else ""
        body = "\n".join(f"  {p}" for p in shown)
        super().__init__(
            f"{self.path}: invalid {what} ({n} problem{'s' if n != 1 else ''}):\n{body}{more}"
        )


class SubmissionError(InputFormatError):
    """A submission file is invalid; it is never scored in part."""

    def __init__(self, path: str | Path, problems: Iterable[str]) -> None:
        super().__init__(path, problems, what="submission")


class ReferencesError(InputFormatError):
    """A reference-labels file is invalid."""

    def __init__(self, path: str | Path, problems: Iterable[str]) -> None:
        super().__init__(path, problems, what="references")


class ManifestError(InputFormatError):
    """A sources or derivatives manifest cannot be used (missing columns, unreadable)."""

    def __init__(self, path: str | Path, problems: Iterable[str]) -> None:
        super().__init__(path, problems, what="manifest")


class BuildError(TVHighlightsError):
    """The dataset build cannot go on (e.g. no usable source at all)."""


class ExtractorError(TVHighlightsError):
    """A feature extractor cannot be built or run (unknown name, missing weights, out of
    memory); the message names the extractor and what to do."""


class FeatureStoreError(TVHighlightsError):
    """A feature folder, file or index entry is missing, corrupt or inconsistent."""
