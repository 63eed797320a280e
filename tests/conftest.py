"""Shared fixtures: real sample media from the local cache (tests never download anything)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tvhighlights import samples
from tvhighlights.errors import SampleFetchError

FETCH_HINT = (
    "The tests use real sample media from the cache. Fetch it once with "
    "`tvhighlights fetch-samples` (the Makefile does this before pytest), or "
    '`python -c "from tvhighlights.samples import fetch_samples; fetch_samples()"`.'
)


def sample_file(name: str) -> Path:
    """Path of a cached sample; FAILS the calling test (never skips) when it is missing."""
    try:
        return samples.sample_path(name)
    except SampleFetchError as e:
        message = f"{e}\n{FETCH_HINT}"
    pytest.fail(message, pytrace=False)  # outside the except: no chained traceback


@pytest.fixture(scope="session")
def sample() -> Callable[[str], Path]:
    """``sample(name) -> Path`` of a cached real sample (see :func:`sample_file`).

    Resolved against the real cache: do not combine with a test that points
    ``TVHIGHLIGHTS_CACHE`` elsewhere before calling it.
    """
    return sample_file


@pytest.fixture(scope="module")
def chromium():
    """Debian's chromium under Playwright (a test fails, never skips, when it is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from browser import BROWSER_ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed (apt-get install -y chromium; make test does it)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()
