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


def test_voice_settings_are_validated_with_the_key_named() -> None:
    from itbcoach.config import load_config
    from itbcoach.errors import ConfigError

    config = load_config(use_user_file=False)
    assert (config.voice.voice, config.voice.rate_wpm, config.voice.volume,
            config.voice.mute) == ("en-us", 150, 100, False)
    for key, value, words in (("voice.rate_wpm", 20, "rate_wpm must be in 80..450"),
                              ("voice.volume", 300, "volume must be in 0..200"),
                              ("voice.voice", "en us; rm", "espeak-ng voice name")):
        with pytest.raises(ConfigError, match=words):
            load_config(use_user_file=False, overrides={key: value})


def test_engine_command_carries_voice_rate_and_volume(monkeypatch) -> None:
    from itbcoach.config.schema import VoiceConfig
    from itbcoach.feedback.voice import find_engine

    monkeypatch.setattr("shutil.which", lambda exe: f"/usr/bin/{exe}" if exe == "espeak-ng"
                        else None)
    cmd = find_engine(VoiceConfig("en-gb+f3", 140, 80, False))
    assert cmd == ["/usr/bin/espeak-ng", "-v", "en-gb+f3", "-s", "140", "-a", "80"]


@needs_espeak
def test_unknown_voice_is_a_usage_error() -> None:
    from itbcoach.errors import UserError
    from itbcoach.feedback.voice import check_voice

    check_voice(["espeak-ng", "-v", "en-us"], "en-us")  # known: no error
    with pytest.raises(UserError, match=r"'xx-nope' is not an espeak-ng voice") as exc:
        check_voice(["espeak-ng", "-v", "xx-nope"], "xx-nope")
    assert exc.value.exit_code == 2


@needs_espeak
def test_speech_log_lines_and_time_aligned_wav(tmp_path) -> None:
    from itbcoach.feedback.voice import SpeechLog

    log = SpeechLog(tmp_path / "said.txt", tmp_path / "said.wav", ["espeak-ng"])
    log.add(0.0, "one")
    log.add(4.0, "two")
    assert (tmp_path / "said.txt").read_text() == "0.00\tone\n4.00\ttwo\n"  # flushed at once
    log.close()
    with wave.open(str(tmp_path / "said.wav")) as w:
        rate = w.getframerate()
        audio = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    loud = np.flatnonzero(np.abs(audio) > 500) / rate
    assert loud[0] < 0.3  # "one" starts at 0 s
    gap = loud[np.argmax(np.diff(loud))]  # "one" ends, silence until "two" at 4 s
    assert gap < 1.0 and 3.95 <= loud[np.argmax(np.diff(loud)) + 1] <= 4.3
    assert 4.2 < len(audio) / rate < 5.5
