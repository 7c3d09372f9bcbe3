"""Live stage: the real-time camera loop, the coaches and the window."""
