"""Fixtures of the synthetic-render tests: skip cleanly without the ``[synth]`` stack."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def synth_stack() -> None:
    """Skip (with the reason) unless torch, anny, moderngl and headless EGL all work."""
    for module in ("torch", "anny", "moderngl"):
        pytest.importorskip(module, reason=f"{module} missing: pip install 'itbcoach[synth]'")
    import moderngl

    try:
        ctx = moderngl.create_context(standalone=True, backend="egl")
    except Exception as exc:  # moderngl raises plain Exception when EGL is unusable
        pytest.skip(f"no headless OpenGL (EGL) here: {exc}")
    ctx.release()
