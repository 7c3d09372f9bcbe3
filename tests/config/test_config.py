"""Configuration: defaults, user files, overrides, validation messages."""

from __future__ import annotations

import tomllib

import pytest

from itbcoach.config import default_toml_text, load_config, parse_override
from itbcoach.errors import ConfigError


def test_defaults_load_into_frozen_dataclasses() -> None:
    cfg = load_config(use_user_file=False)
    assert cfg.pose.model_variant == "full"
    assert cfg.smoothing.offline_cutoff_hz == 6.0
    with pytest.raises(AttributeError):
        cfg.pose.num_poses = 3  # type: ignore[misc]


def test_every_default_key_has_a_comment() -> None:
    """Each key has a comment above it (keys in one block may share the block's comment)."""
    lines = [ln.strip() for ln in default_toml_text().splitlines()]
    for i, line in enumerate(lines):
        if not line or line.startswith(("#", "[")) or "=" not in line:
            continue
        j = i - 1
        while j >= 0 and lines[j] and not lines[j].startswith(("#", "[")):
            j -= 1  # walk up through the keys of the same block
        assert j >= 0 and lines[j].startswith("#"), f"key without a comment: {line!r}"


def test_user_file_overrides(tmp_path) -> None:
    user = tmp_path / "c.toml"
    user.write_text('[pose]\nmodel_variant = "lite"\nnum_poses = 1\n')
    cfg = load_config(user)
    assert cfg.pose.model_variant == "lite" and cfg.pose.num_poses == 1
    assert cfg.pose.min_visibility == 0.5  # untouched keys keep their defaults


def test_cli_overrides_win(tmp_path) -> None:
    user = tmp_path / "c.toml"
    user.write_text('[pose]\nnum_poses = 1\n')
    cfg = load_config(user, dict([parse_override("pose.num_poses=3"),
                                  parse_override("smoothing.max_gap_s=0.5")]))
    assert cfg.pose.num_poses == 3 and cfg.smoothing.max_gap_s == 0.5


@pytest.mark.parametrize(("text", "message"), [
    ('[pose]\nmodel_varient = "lite"\n',
     "unknown key 'pose.model_varient' (did you mean 'pose.model_variant'?)"),
    ('[pose]\nnum_poses = "two"\n', "'pose.num_poses' must be a whole number, got 'two'"),
    ('[pose]\nmodel_variant = "huge"\n', "'pose.model_variant' must be one of"),
    ('[pose]\nnum_poses = 0\n', "'pose.num_poses' = 0 is out of range; allowed: [1, 10] poses"),
    ("[pose\n", "is not valid TOML"),
    ('pose = 3\n', "'pose' must be a table"),
])
def test_bad_user_file_names_the_key(tmp_path, text: str, message: str) -> None:
    user = tmp_path / "bad.toml"
    user.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(user)
    assert message in str(err.value)
    assert str(user) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_file_and_bad_override(tmp_path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="--set expects KEY=VALUE"):
        parse_override("justakey")
    with pytest.raises(ConfigError, match=r"--set: unknown key 'pose.bogus'"):
        load_config(overrides={"pose.bogus": 1}, use_user_file=False)


def test_defaults_file_is_valid_toml() -> None:
    data = tomllib.loads(default_toml_text())
    assert {"pose", "smoothing", "framing"} <= set(data)


def test_empty_programme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"live\.program is empty"):
        load_config(use_user_file=False, overrides={"live.program": []})
