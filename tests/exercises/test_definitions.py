"""Exercise definitions as data: the shipped tables, user overrides and new exercises."""

from __future__ import annotations

import pytest

from itbcoach.config import load_config
from itbcoach.config.schema import CountRange, Range
from itbcoach.errors import ConfigError
from itbcoach.exercises import build_counters, exercise_ids, get_exercise

PROGRAMME = ("asmr-itb", "psoas-activator", "tibial-rotation", "monster-walk",
             "midline-hinge", "lunge-twist", "glute-iso", "heel-taps")
GENERAL = ("squat", "lateral-lunge", "split-squat", "knee-lift", "side-step", "side-tap",
           "single-leg-hinge")


def test_every_programme_and_general_exercise_is_defined() -> None:
    cfg = load_config(use_user_file=False)
    assert set(exercise_ids(cfg)) == set(PROGRAMME + GENERAL)
    kinds = {}
    for task in exercise_ids(cfg):
        ex = get_exercise(cfg, task)
        groups = build_counters(ex)
        assert next(iter(groups)) == ex.primary
        kinds[task] = ex.primary
    assert kinds["asmr-itb"] == "timer" and "rep" in build_counters(get_exercise(cfg,
                                                                                "asmr-itb"))
    assert {kinds[t] for t in ("psoas-activator", "tibial-rotation", "glute-iso")} == {"hold"}
    assert kinds["monster-walk"] == kinds["side-step"] == "step"
    assert kinds["heel-taps"] == "stepdown"


def test_programme_prescriptions_follow_the_seed() -> None:
    cfg = load_config(use_user_file=False)
    p = {t: cfg.exercises[t].prescription for t in PROGRAMME}
    assert (p["asmr-itb"].sets, p["asmr-itb"].time_per_side_s) == (1, Range(60.0, 120.0))
    assert (p["psoas-activator"].sets, p["psoas-activator"].reps,
            p["psoas-activator"].hold_s, p["psoas-activator"].per_side) == \
        (2, CountRange(3, 5), Range(5.0, 10.0), True)
    assert (p["tibial-rotation"].reps.to_json(), p["tibial-rotation"].hold_s.to_json()) == \
        ([3, 5], [5.0, 5.0])
    assert (p["monster-walk"].reps, p["monster-walk"].per_side) == (CountRange(4, 6), True)
    assert p["midline-hinge"].reps.max == 5 and p["lunge-twist"].reps.min == 4
    assert (p["glute-iso"].sets, p["glute-iso"].hold_s.min, p["glute-iso"].hold_s.max) == \
        (3, 30.0, 45.0)
    assert p["heel-taps"].reps == CountRange(8, 10)


def test_prescription_ranges_are_checked_when_loaded() -> None:
    with pytest.raises(ConfigError, match=r"hold_s': must be \[min, max\] with 0 <= min"):
        load_config(use_user_file=False,
                    overrides={"exercises.glute-iso.prescription.hold_s": [45.0, 30.0]})
    with pytest.raises(ConfigError, match=r"hold_s' must be an array of 2 items"):
        load_config(use_user_file=False,
                    overrides={"exercises.glute-iso.prescription.hold_s": 30.0})
    with pytest.raises(ConfigError, match=r"reps.max' must be a whole number"):
        load_config(use_user_file=False,
                    overrides={"exercises.squat.prescription.reps": [8, 12.5]})


def test_views_per_exercise() -> None:
    cfg = load_config(use_user_file=False)
    views = {t: cfg.exercises[t].view for t in exercise_ids(cfg)}
    assert views["split-squat"] == views["single-leg-hinge"] == "side"
    assert views["monster-walk"] == views["side-step"] == views["glute-iso"] == "frontal"
    assert views["squat"] == "either"


def test_unknown_task_lists_the_known_ones() -> None:
    cfg = load_config(use_user_file=False)
    with pytest.raises(ConfigError) as err:
        get_exercise(cfg, "lunges")
    assert str(err.value).startswith("unknown task 'lunges' (known: stepdown, asmr-itb, ")


def test_user_file_overrides_one_threshold_and_set_overrides(tmp_path) -> None:
    user = tmp_path / "c.toml"
    user.write_text("[exercises.squat.rep]\nenter = 0.2\n\n"
                    "[exercises.monster-walk.prescription]\nsets = 3\n")
    cfg = load_config(user, {"exercises.knee-lift.rep.exit": 0.1})
    assert cfg.exercises["squat"].rep.enter == 0.2
    assert cfg.exercises["squat"].rep.exit == 0.05  # untouched
    assert cfg.exercises["monster-walk"].prescription.sets == 3
    assert cfg.exercises["knee-lift"].rep.exit == 0.1
    assert len(cfg.exercises) == len(PROGRAMME + GENERAL)


def test_user_adds_an_exercise_by_extending_one(tmp_path) -> None:
    user = tmp_path / "c.toml"
    user.write_text(
        '[exercises.sumo-squat]\nextends = "squat"\nname = "Sumo squat"\n\n'
        "[exercises.sumo-squat.prescription]\nsets = 4\n\n"
        "[[exercises.sumo-squat.cues]]\nname = \"deep\"\ntext = \"Go deeper\"\n"
        'when = ""\non = "rep_rejected:incomplete"\n')
    cfg = load_config(user)
    ex = get_exercise(cfg, "sumo-squat")
    assert ex.name == "Sumo squat" and ex.config.prescription.sets == 4
    assert ex.config.rep == cfg.exercises["squat"].rep  # copied
    assert [c.name for c in ex.cues] == ["deep"]  # arrays of tables are replaced whole
    assert ex.cues[0].min_show_s == cfg.exercise_cues.min_show_s  # [exercise_cues] timing
    assert "sumo-squat" in exercise_ids(cfg) and "squat" in exercise_ids(cfg)


def test_user_adds_a_complete_new_exercise(tmp_path) -> None:
    user = tmp_path / "c.toml"
    user.write_text("""
[exercises.calf-raise]
name = "Calf raise"
instruction = "Rise onto your toes"
view = "side"
posture = "standing"
primary = "rep"
cues = []
[exercises.calf-raise.prescription]
sets = 2
reps = [10, 15]
per_side = false
hold_s = [0.0, 0.0]
time_per_side_s = [0.0, 0.0]
rest_s = 45.0
set_gap_s = 10.0
[exercises.calf-raise.rep]
metric = "-mean(ankle_y_left, ankle_y_right) * body_scale"
enter = -300.0
exit = -310.0
direction = "up"
min_duration_s = 0.3
max_duration_s = 10.0
debounce_s = 0.05
max_gap_s = 0.5
side_by = ""
side_pick = "max"
checks = []
fast_s = 0.0
""")
    ex = get_exercise(load_config(user), "calf-raise")
    assert ex.primary == "rep" and ex.config.prescription.reps == CountRange(10, 15)


@pytest.mark.parametrize(("text", "message"), [
    ('[exercises.squat.rep]\nentr = 0.2\n',
     "unknown key 'exercises.squat.rep.entr' (did you mean 'exercises.squat.rep.enter'?)"),
    ('[exercises.squat.rep]\nmetric = "knee_flexon_left"\n',
     "rep.metric: 'knee_flexon_left': unknown metric 'knee_flexon_left' (did you mean "
     "'knee_flexion_left'?)"),
    ('[exercises.squat.rep]\nexit = 0.5\n', "rep.exit (0.5) must be below rep.enter (0.1)"),
    ('[exercises.squat]\nprimary = "hold"\n', "primary counter 'hold' has no [hold] table"),
    ('[exercises.squat]\nview = "top"\n', "'exercises.squat.view' must be one of"),
    ('[exercises.my-squat]\nextends = "sqaut"\n',
     "'exercises.my-squat.extends' must name an existing entry"),
    ('[exercises.my-squat]\nname = "x"\n', "missing key 'exercises.my-squat.instruction'"),
    ('[[exercises.squat.cues]]\nname = "x"\ntext = "y"\nwhen = "hip_y > 1"\n'
     'on = "rep"\n', "give exactly one of 'when'"),
])
def test_bad_exercise_config_names_the_key(tmp_path, text: str, message: str) -> None:
    from itbcoach.tasks import load_config as load_checked

    user = tmp_path / "bad.toml"
    user.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_checked(user)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
