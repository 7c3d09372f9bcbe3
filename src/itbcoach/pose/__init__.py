"""Pose stage: model supply, the MediaPipe adapter, frame sources, smoothing, framing."""
