"""Voice cues: real espeak-ng to a wav file, never blocking the caller."""

from __future__ import annotations

import shutil
import time
import wave

import numpy as np
import pytest

from itbcoach.feedback.voice import Voice

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng not installed (apt-get install espeak-ng)")


@needs_espeak
def test_speaks_to_a_wav_file(tmp_path) -> None:
    out = tmp_path / "cue.wav"
    with Voice(["espeak-ng", "-w", str(out)]) as voice:
        voice.say("switch legs")
        deadline = time.time() + 20
        while not voice.spoken and time.time() < deadline:
            time.sleep(0.05)
    assert voice.spoken == ["switch legs"]
    with wave.open(str(out)) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), np.int16)
        duration = w.getnframes() / w.getframerate()
    assert 0.3 < duration < 3.0
    assert np.abs(frames).max() > 1000  # not silence


@needs_espeak
def test_newest_cue_wins_when_speech_lags(tmp_path) -> None:
    with Voice(["espeak-ng", "-w", str(tmp_path / "x.wav")]) as voice:
        for word in ("one", "two", "three", "four", "five", "six"):
            voice.say(word)
        deadline = time.time() + 20
        while (not voice.spoken or voice.spoken[-1] != "six") and time.time() < deadline:
            time.sleep(0.05)
    assert voice.spoken[-1] == "six"
    assert len(voice.spoken) < 6  # stale cues were dropped, not queued


def test_say_returns_while_the_engine_is_still_speaking(tmp_path) -> None:
    """The engine here cannot finish until the test lets it: say() must not wait."""
    gate = tmp_path / "go"
    engine = ["sh", "-c", f'while [ ! -e "{gate}" ]; do sleep 0.02; done', "engine"]
    with Voice(engine) as voice:
        voice.say("three")
        voice.say("four")  # returns too, replacing "three" if not yet started
        assert voice.spoken == []  # nothing finished: say() did not block on it
        gate.touch()
        deadline = time.time() + 20
        while (not voice.spoken or voice.spoken[-1] != "four") and time.time() < deadline:
            time.sleep(0.02)
    assert voice.spoken[-1] == "four"


def test_muted_or_missing_engine_is_silent() -> None:
    muted = Voice(["espeak-ng"], enabled=False)
    muted.say("hello")
    muted.close()
    assert muted.spoken == []
    broken = Voice(["/nonexistent/tts-engine"])
    broken.say("hello")
    deadline = time.time() + 5
    while broken.enabled and time.time() < deadline:
        time.sleep(0.01)
    broken.close()
    assert broken.spoken == [] and not broken.enabled
