"""The window without a display: one UserError line, never OpenCV's Qt abort."""

from __future__ import annotations

import sys

import pytest

from itbcoach.errors import UserError
from itbcoach.live.window import Window


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 DISPLAY is Linux's")
def test_no_display_is_a_user_error(monkeypatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(UserError, match=r"no display .*--no-window"):
        Window("itbcoach — test")
