"""Feedback stage: the overlay (drawing only), text rendering, voice cues."""
