"""The project's exceptions: one small hierarchy whose messages name the input at fault.

Every error the library raises on purpose is a :class:`TVHighlightsError`; the command line
(:mod:`tvhighlights.cli`) is the only place that turns one into a one-line message and an exit
status. Messages name the file, line, field or *parameter* at fault, never a command-line
flag: the CLI knows which flag sets which parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class TVHighlightsError(Exception):
    """Base class of every error this library raises on purpose.

    The CLI prints ``str(error)`` as one line and exits non-zero; anything else is a bug.
    ``param`` names the library parameter at fault when there is one (``"batch_size"``,
    ``"clip.model"`` for the ``model`` option of the ``clip`` extractor), so the CLI can name
    the flag that sets it.
    """

    def __init__(self, *args: object, param: str | None = None) -> None:
        super().__init__(*args)
        self.param = param


class InvalidArgumentError(TVHighlightsError, ValueError):
    """A value passed to a library function is outside what it accepts (a negative count, an
    unknown name, arrays of different lengths); the message names the parameter.

    Also a :class:`ValueError`, as Python and scikit-learn raise for bad arguments.
    """


# --------------------------------------------------------------------------------------------
# Files and their contents


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
    """A reference-labels file (or a dataset split used as references) is invalid."""

    def __init__(self, path: str | Path, problems: Iterable[str]) -> None:
        super().__init__(path, problems, what="references")


class ManifestError(InputFormatError):
    """A sources or derivatives manifest cannot be used (missing columns, unreadable)."""

    def __init__(self, path: str | Path, problems: Iterable[str]) -> None:
        super().__init__(path, problems, what="manifest")


# --------------------------------------------------------------------------------------------
# Dataset construction


class BuildError(TVHighlightsError):
    """The dataset build cannot go on (e.g. no usable source at all)."""


class EngineError(TVHighlightsError):
    """An engine (the local process pool, a Ray cluster) cannot run the work: Ray missing or
    unreachable, a work unit whose worker died more often than it may be retried."""


class IndexFileError(TVHighlightsError):
    """A fingerprint index file is missing, unreadable or built with other parameters."""


class SimulationError(InvalidArgumentError):
    """Bad input to the re-upload simulator (a span, a family, a size); the message names the
    argument."""


class LLMResponseError(TVHighlightsError):
    """An LLM's answer could not be used; the message says what was wrong with it."""


class LLMCallError(TVHighlightsError):
    """An LLM call failed after its retries (server down, timeout, HTTP error, bad backend
    spec); the message names the backend, its URL or path, and the model."""

    def __init__(self, message: str, *, retryable: bool = False, param: str | None = None):
        super().__init__(message, param=param)
        self.retryable = retryable


# --------------------------------------------------------------------------------------------
# Annotation


class AnnotationStoreError(InputFormatError):
    """An annotator's decisions file cannot be used (a line that is not JSON, an unknown video
    or clip, a bad field); every problem names the file and its line."""

    def __init__(self, path: str | Path, problems: Iterable[str]) -> None:
        super().__init__(path, problems, what="annotations")


class AnnotatorsFileError(InputFormatError):
    """The file of annotators (names and password hashes) is unreadable or malformed."""

    def __init__(self, path: str | Path, problems: Iterable[str]) -> None:
        super().__init__(path, problems, what="annotators file")


# --------------------------------------------------------------------------------------------
# Features, models, training, prediction


class ExtractorError(TVHighlightsError):
    """A feature extractor cannot be built or run (unknown name, missing weights, out of
    memory); the message names the extractor and what to do."""


class FeatureStoreError(TVHighlightsError):
    """A feature folder, file or index entry is missing, corrupt or inconsistent."""


class TrainingError(TVHighlightsError):
    """Training cannot start or go on (unusable data, invalid settings, a checkpoint of another
    run)."""


class CheckpointError(TVHighlightsError):
    """A training checkpoint is missing, corrupt or does not fit the model."""


class PredictionError(TVHighlightsError):
    """A model or a video cannot be used for prediction; the message names the file at fault."""


class BaselineInputError(TVHighlightsError):
    """A baseline cannot run on the inputs it was given (a modality or an extractor's features
    it needs, titles, enough videos); the message names the baseline and what is missing."""
