"""Per-frame processing shared by live and offline: one pose frame -> one :class:`Frame`.

Live, the loop hands each model result to a :class:`FrameProcessor`; offline,
:func:`replay` runs a recording's frames through the same processor in order, so every
task session (step-down test, exercises) sees exactly the frames it would see live.
"""

from __future__ import annotations

from itbcoach.stream.frames import Frame, FrameProcessor, replay

__all__ = ["Frame", "FrameProcessor", "replay"]
