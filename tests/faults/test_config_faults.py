"""Fault matrix, configuration: every number checked once, with its range and unit."""

from __future__ import annotations

import math
import tomllib

import pytest
from fault_helpers import one_line

from itbcoach.cli.main import main
from itbcoach.config import default_toml_text, load_config, range_of
from itbcoach.config.loader import declared_ranges, parse_override

#: (key, TOML value, the allowed range the message must name) - the cases of issue 19.
BAD = [
    ("stepdown.metric_window_s", "nan", "(0, 5] s"),
    ("smoothing.offline_cutoff_hz", "0", "(0, 100] Hz"),
    ("stepdown.settle_s", "-1", "(0, 10] s"),
    ("stepdown.pelvic_drop_deg", "-5", "(0, 45] deg"),
    ("stepdown.pelvic_drop_deg", "inf", "(0, 45] deg"),
    ("stepdown.reps_per_side", "0", "[1, 50] reps"),
    ("stepdown.reps_per_side", "-3", "[1, 50] reps"),
    ("pose.min_visibility", "2.0", "[0, 1]"),
    ("pose.min_visibility", "-inf", "[0, 1]"),
    ("exercises.squat.rep.debounce_s", "-0.1", "[0, 3600] s"),
    ("exercises.squat.prescription.reps", "[8, -1]", "[0, 1000] reps"),
    ("exercises.monster-walk.step.close_fraction", "1.5", "(0, 1] share"),
]


def _shown(value: str) -> str:
    parsed = tomllib.loads(f"v = {value}")["v"]
    return value if isinstance(parsed, list) else f"{parsed}"


@pytest.mark.parametrize("key, value, allowed", BAD, ids=[f"{k}={v}" for k, v, _ in BAD])
def test_config_check_refuses_with_key_value_and_range(tmp_path, capsys, key, value,
                                                       allowed) -> None:
    section, _, name = key.rpartition(".")
    if section.startswith("exercises."):
        ex, _, sub = section.removeprefix("exercises.").partition(".")
        header = f'[exercises."{ex}".{sub}]' if "-" in ex else f"[exercises.{ex}.{sub}]"
    else:
        header = f"[{section}]"
    bad = tmp_path / "bad.toml"
    bad.write_text(f"{header}\n{name} = {value}\n")
    assert main(["config", "check", str(bad)]) == 2
    line = one_line(capsys.readouterr().err)
    assert line == (f"itbcoach: {bad}: '{key}' = {_shown(value)} is out of range; "
                    f"allowed: {allowed}")


@pytest.mark.parametrize("key, value, allowed", BAD[:8], ids=[f"{k}={v}" for k, v, _ in BAD[:8]])
def test_every_command_refuses_before_any_work(stepdown_npz, capsys, key, value,
                                               allowed) -> None:
    assert main(["--set", f"{key}={value}", "score", str(stepdown_npz), "--task",
                 "stepdown", "--no-progress"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"itbcoach: --set: '{key}' = ") and line.endswith(allowed)


def test_every_number_of_the_fixed_sections_has_a_range() -> None:
    data = tomllib.loads(default_toml_text())
    missing = [f"{section}.{k}" for section in ("pose", "smoothing", "framing", "stepdown",
                                                "live", "report", "exercise_cues")
               for k, v in data[section].items()
               if isinstance(v, int | float) and not isinstance(v, bool)
               and range_of(f"{section}.{k}") is None]
    assert missing == []
    exact, patterns = declared_ranges()
    keyed = [ln for ln in default_toml_text().splitlines()
             if not ln.startswith("#") and "# range:" in ln]
    assert len(exact) == len(keyed) and len(patterns) == 11  # every annotation parsed
    for key in exact:  # no range for a key that does not exist
        section, name = key.split(".")
        assert name in data[section], key
    # every exercise number is covered by a pattern, and the defaults lie inside
    for ex_id, ex in data["exercises"].items():
        if ex_id == "__open__":
            continue
        for sub in ("prescription", "rep", "hold", "step", "timer"):
            for k, v in (ex.get(sub) or {}).items():
                if k.endswith("_s") or k in ("sets", "reps", "open") or "fraction" in k:
                    rng = range_of(f"exercises.{ex_id}.{sub}.{k}")
                    assert rng is not None, (ex_id, sub, k)
                    for x in (v if isinstance(v, list) else [v]):
                        assert math.isfinite(x) and x in rng, (ex_id, sub, k, x)
    load_config(use_user_file=False)  # the shipped defaults pass their own check


def test_set_example_names_a_real_key(capsys) -> None:
    with pytest.raises(Exception, match=r"e\.g\. stepdown\.reps_per_side=3") as info:
        parse_override("no-equals-sign")
    key, value = str(info.value).split("e.g. ")[1].split(")")[0].split("=")
    assert load_config(overrides={key: int(value)}, use_user_file=False).stepdown \
        .reps_per_side == 3
