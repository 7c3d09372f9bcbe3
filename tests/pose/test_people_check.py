"""The second-person check: a two-person video (two real people side by side) is refused
with one line and exit 4 by `landmarks`, `score` and a batch, `--allow-multiple` follows
the larger person, a one-person video is unaffected; plus the check's schedule and
threshold, and stderr silencing from several threads."""

from __future__ import annotations

import json
import os
import re
import threading

import cv2
import numpy as np

from itbcoach.cli.main import main
from itbcoach.config import load_config
from itbcoach.errors import ExitCode
from itbcoach.landmarks import Landmark as L
from itbcoach.landmarks import load_npz, load_npz_processing
from itbcoach.pose.people import PeopleCheck, people_message

CONFIG = load_config(use_user_file=False)
#: The two-person video is 5.2 s: frames would be checked at 0, 1, ..., 5 s; once 3 show
#: two people the refusal is certain (3 >= 0.3 x 7 possible checks) and reading stops.
REFUSAL = re.compile(r"^itbcoach: 2 people in view in ([3-5]) of ([3-5]) checked seconds "
                     r"\(stopped at [2-4] s of 5 s\); film one person at a time \(or pass "
                     r"--allow-multiple to follow the largest person\)$")


def run(args: list[str], capfd) -> tuple[int, str, str]:
    code = main(args)
    out, err = capfd.readouterr()
    return code, out, err


def test_landmarks_refuses_two_people_with_one_line(two_people_video, model_path, tmp_path,
                                                    capfd):
    out = tmp_path / "two.npz"
    code, _, err = run(["landmarks", str(two_people_video), "-o", str(out), "--model",
                        str(model_path), "--no-progress"], capfd)
    assert code == ExitCode.NO_RESULT == 4
    assert len(err.strip().splitlines()) == 1, err
    assert REFUSAL.match(err.strip()), err
    assert not out.exists()


def test_allow_multiple_follows_the_larger_person(two_people_video, model_path, tmp_path,
                                                  capfd):
    out, meta = tmp_path / "two.npz", tmp_path / "meta.json"
    code, _, err = run(["landmarks", str(two_people_video), "-o", str(out), "--model",
                        str(model_path), "--no-progress", "--allow-multiple", "--json",
                        str(meta)], capfd)
    assert code == 0, err
    info = json.loads(meta.read_text())
    assert info["num_poses"] == 2 and info["people_check"] is None
    assert info["frames"] == 52 and info["multi_person_frames"] >= 45
    assert err.startswith("itbcoach: warning: 2 people in view in")
    # the squatting man on the left (0.7 of the frame height, nearer the centre) is kept
    hips = load_npz(out).landmarks[:, [L.LEFT_HIP, L.RIGHT_HIP], 0].mean(axis=1)
    assert np.isfinite(hips).all() and hips.max() < 0.5
    # without --smooth the file says it holds the raw model output
    assert load_npz_processing(out) == {"masked": False, "smoothed": False}


def test_score_and_batch_refuse_two_people(two_people_video, model_path, tmp_path, capfd):
    code, _, err = run(["score", str(two_people_video), "--task", "squat", "--model",
                        str(model_path), "--no-progress", "--no-history"], capfd)
    assert code == 4 and REFUSAL.match(err.strip()), err
    out = tmp_path / "batch"
    code, stdout, err = run(["score", str(two_people_video), "--task", "squat",
                             "--report-dir", str(out), "--model", str(model_path),
                             "--no-progress", "--no-history"], capfd)
    assert code == ExitCode.FAILURE, stdout + err
    assert "0 scored, 0 already done (skipped), 1 failed" in stdout
    (line,) = [ln for ln in stdout.splitlines() if "FAILED" in ln]
    assert str(two_people_video) in line
    assert re.search(r"2 people in view in [3-5] of [3-5] checked seconds \(stopped at [2-4] s "
                     r"of 5 s\); film one person", line)


def test_one_image_with_two_people(two_people_video, model_path, tmp_path, capfd):
    cap = cv2.VideoCapture(str(two_people_video))
    for _ in range(11):  # frame 10 (IMAGE mode finds both people in 48 of the 52 frames)
        ok, img = cap.read()
        assert ok
    cap.release()
    still = tmp_path / "two.png"
    cv2.imwrite(str(still), img)
    code, _, err = run(["landmarks", str(still), "-o", str(tmp_path / "a.npz"), "--model",
                        str(model_path)], capfd)
    assert code == 4
    assert err.strip() == ("itbcoach: 2 people in view in the picture; film one person at a "
                           "time (or pass --allow-multiple to follow the largest person)")
    code, _, err = run(["landmarks", str(still), "-o", str(tmp_path / "a.npz"), "--model",
                        str(model_path), "--allow-multiple"], capfd)
    assert code == 0 and "2 people in view in 1 of 1 frames" in err


def test_one_person_video_is_checked_and_unaffected(video_landmarks):
    seq, meta = video_landmarks("squat_front_01.mp4")  # 12.2 s, one person
    check = meta["people_check"]
    assert check["checked"] == 13 and check["multi_person"] == 0
    assert check["max_people"] == 1 and check["own_model"] is True
    assert check["ms_per_check"] > 0
    assert meta["num_poses"] == 1 and len(seq) == 365 and meta["detection_rate"] == 1.0


def test_schedule_and_threshold_without_a_model():
    check = PeopleCheck("unused.task", CONFIG.pose, (640, 360), own_model=False)
    times = range(0, 10_000, 33)  # a 30 fps recording, 10 s
    for ts in times:
        if check.due(ts):
            check.record(2 if check.checked in (3, 7, 8) else 1, ts)
    assert check.times_ms == [0, 1023, 2013, 3003, 4026, 5016, 6006, 7029, 8019, 9009]
    assert (check.checked, check.multi, check.max_people) == (10, 3, 2)
    assert check.problem() == people_message(2, 3, 10, 1.0)  # 30% >= 0.3
    assert check.problem().startswith("2 people in view in 3 of 10 checked seconds; film")
    check.record(1, 10_000)  # 3 of 11 = 27%: below the share, a passer-by is tolerated
    assert check.problem() is None
    # A frame arriving more than an interval late restarts the cadence from itself.
    late = PeopleCheck("unused.task", CONFIG.pose, (640, 360), own_model=False)
    for ts in (0, 500, 3500, 4000, 4499, 4500):
        if late.due(ts):
            late.record(1, ts)
    assert late.times_ms == [0, 3500, 4500]
    assert people_message(2, 1, 4, 0.5) == (
        "2 people in view in 1 of 4 checked frames (one every 0.5 s); film one person at a "
        "time (or pass --allow-multiple to follow the largest person)")


def test_refusal_settles_as_soon_as_it_is_certain():
    # 60 s at 30 fps, one check a second: at most 62 checks, so 19 with two people
    # (>= 0.3 x 62) refuse the video whatever the remaining checks would see
    check = PeopleCheck("unused.task", CONFIG.pose, (640, 360), own_model=False)
    settled_at = None
    for ts in range(0, 60_000, 33):
        if check.due(ts):
            check.record(2 if check.checked % 4 else 1, ts)  # every 4th check: one person
            if check.settled(ts, 60_000.0):
                settled_at = ts
                break
    assert (check.checked, check.multi) == (26, 19) and settled_at == 25_014
    assert check.problem() == (
        "2 people in view in 19 of 26 checked seconds (stopped at 25 s of 60 s); film one "
        "person at a time (or pass --allow-multiple to follow the largest person)")
    # one check short of it: not settled; unknown length: never settled early
    short = PeopleCheck("unused.task", CONFIG.pose, (640, 360), own_model=False)
    for k in range(18):
        short.record(2, 1000 * k)
    assert not short.settled(17_000, 60_000.0) and short.stopped is None
    short.record(2, 18_000)
    assert not short.settled(18_000, 0.0) and short.settled(18_000, 60_000.0)
    # a container that understates its length (2 s stated, 10 checks so far): the total
    # is unknown, so nothing is decided early even at 3 of 10 (30%)
    long = PeopleCheck("unused.task", CONFIG.pose, (640, 360), own_model=False)
    for k in range(10):
        long.record(2 if k < 3 else 1, 1000 * k)
    assert not long.settled(9000, 2000.0) and long.problem() is not None
    long.record(1, 10_000)
    assert long.problem() is None  # 3 of 11 checked: a later check changed the verdict


def test_stderr_silencing_from_two_threads_always_restores_fd2():
    from itbcoach.pose.landmarker import _quiet_native_stderr, _StderrSilencer

    before = os.fstat(2)
    inside = threading.Event()
    release = threading.Event()

    def worker() -> None:
        with _quiet_native_stderr():
            inside.set()
            release.wait(5)

    silencer = _StderrSilencer()
    silencer.start()  # the live landmarker silences first...
    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(5)  # ...the check's worker silences too...
    silencer.stop()  # ...the landmarker stops first (its first pose arrived)
    release.set()
    t.join()
    assert os.path.samestat(os.fstat(2), before)  # not left pointing at /dev/null
