"""The held-out set of issue 15 (``itbcoach eval --wide``) and its pelvis rows."""

from __future__ import annotations

from itbcoach.synth.dataset import WIDE_SIZES, wide_cases
from itbcoach.synth.evaluate import ClipResult, markdown, summarize


def test_wide_cases_cover_the_asked_ranges_deterministically():
    cases = wide_cases(60, 15)
    assert [c.name for c in cases] == [c.name for c in wide_cases(60, 15)]
    assert wide_cases(3, 15)[2].digest() == cases[2].digest()  # case i depends on i only
    o = [c.options for c in cases]
    assert all(2.0 <= x.camera_distance <= 4.0 for x in o)
    assert all(-20.0 <= x.camera_azimuth <= 20.0 for x in o)
    assert all(0.6 <= x.camera_height <= 1.3 for x in o)
    assert {(x.width, x.height) for x in o} == set(WIDE_SIZES)
    assert max(abs(x.camera_azimuth) for x in o) > 15.0
    hands = [leg.hands for c in cases for leg in c.spec.legs]
    assert {"both", "left", "right", "none"} <= set(hands)
    assert 0.45 < hands.count("both") / len(hands) < 0.75
    assert all(0.0 <= leg.hand_slip_m <= 0.015 for c in cases for leg in c.spec.legs)


def test_every_wide_case_shows_the_whole_body():
    """The field of view is widened (60-110 deg) until the step, the feet and 2.2 m above
    the floor are in the frame: a 16:9 camera at 2 m cannot show a person on a step at
    60 deg, and a clip with the feet cut off tests framing, not scoring."""
    import numpy as np

    cases = wide_cases(100, 15)
    hfov = [c.options.hfov_deg for c in cases]
    assert min(hfov) == 60.0 and 80.0 < max(hfov) <= 110.0
    for c in cases:
        uv = c.options.camera().normalised(
            np.array([[0.0, 0.3, 0.0], [0.0, -0.3, 0.0], [0.0, 0.0, 2.1]]))
        assert np.all((uv > 0.0) & (uv < 1.0)), c.name


def _side(**kw):
    base = {"clip": "c", "side": "left", "true_count": 2, "count": 2,
            "true_faults": {"pelvis_not_level": False}, "faults": {"pelvis_not_level": False},
            "true_category": "good", "category": "good", "true_score": 0, "score": 0,
            "score_range": None}
    return {**base, **kw}


def test_pelvis_rows_are_split_by_source_and_unread_reps_counted():
    a = ClipResult("a", "stepdown",
                   drop_pairs=[(9.0, 10.0), (1.0, 0.0), (6.0, 0.0), (-6.0, 0.0)],
                   drop_sources=["hands", "hands", "hips", "hips"], sides=[_side()],
                   detection_rate=1.0)
    b = ClipResult("b", "stepdown", drop_unread=3, detection_rate=1.0, sides=[_side(
        faults={"pelvis_not_level": None}, score_range=[0, 1], category="good")])
    s = summarize([a, b])
    assert s["angles"]["pelvic_drop_per_rep (hands)"]["n"] == 2
    assert s["angles"]["pelvic_drop_per_rep (hands)"]["mae"] == 1.0
    assert s["angles"]["pelvic_drop_per_rep (hips)"]["mae"] == 6.0
    assert s["pelvis_reps_hands"] == {"positives": 1, "negatives": 1, "sensitivity": 1.0,
                                      "specificity": 1.0}
    assert s["pelvis_reps_not_assessable"] == 3
    assert s["criteria"]["pelvis_not_level"]["not_assessable"] == 1
    assert s["category"]["legs"] == 1 and s["category"]["range_legs"] == 1
    assert s["category"]["range_holds_truth"] == 1
    md = markdown(s)
    assert "| pelvic_drop_per_rep (hands) | 2 | 1.00 |" in md and "MAE <= 1.5: met" in md
    assert "3 reps not assessable (hands off the hips)" in md


def test_loose_shirts_vary_without_changing_the_other_cases():
    """30% of the wide set wear a loose shirt (2-4 cm off the waist); a case without one
    hashes as if the option did not exist (pinned: a change here re-renders every cached
    clip, so it must be deliberate)."""
    cases = wide_cases(100, 15)
    loose = [c.options.shirt_loose_m for c in cases]
    assert 20 <= sum(x > 0 for x in loose) <= 40
    assert all(x == 0.0 or 0.02 <= x <= 0.04 for x in loose)
    assert cases[1].options.shirt_loose_m == 0.0
    assert cases[1].digest() == "b679f32788205927"


def test_a_loose_shirt_stands_off_the_trunk_axis():
    """Each band vertex moves ``loose * band`` straight away from the hip-to-shoulder
    axis; vertices outside the band do not move."""
    import numpy as np

    from itbcoach.synth.clip import loosen_shirt

    pelvis = np.array([[0.0, 0.0, 1.0]])
    neck = np.array([[0.0, 0.0, 1.5]])
    v = np.array([[[0.0, 0.15, 1.1], [0.10, 0.0, 1.2], [0.0, -0.2, 1.4]]], np.float32)
    out = loosen_shirt(v, pelvis, neck, np.array([1.0, 0.5, 0.0], np.float32), 0.03)
    np.testing.assert_allclose(out[0] - v[0], [[0, 0.03, 0], [0.015, 0, 0], [0, 0, 0]],
                               atol=1e-6)
