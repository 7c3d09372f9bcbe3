"""The guided lateral step-down test, live.

Phases: ``setup`` (whole body and feet in view, facing the camera) -> ``instructions``
-> ``countdown`` -> ``reps`` on the first leg with per-rep feedback -> ``switch`` legs ->
``reps`` on the second leg -> ``pain`` ("was it painful?", keys y/n) -> ``result``.

The coach follows the person rather than the script: reps are counted in every phase
once the framing is right (someone who starts before the countdown ends is not ignored),
and the stance leg of each rep is detected (the foot that stays on the step).

Counting and scoring are the step-down session's
(:class:`itbcoach.scoring.session.StepdownSession`), the same object ``itbcoach score``
replays a recording through: each rep is measured from its own baseline and frames when
it closes, and the final result is the session's aggregate with the pain answer, so a
clip played live gets the answer it gets offline. Keys: space pause (frames go to the
session as "no person"), r redo the last rep (dropped from the session), n next side,
y/n answer the pain question, q quit (loop).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from itbcoach.config import Config
from itbcoach.exercises.events import Event, EventKind
from itbcoach.feedback.overlay import BAD, GOOD, GuideLine, OverlayState
from itbcoach.kernel import Metric, compute_metrics
from itbcoach.landmarks import Landmark as L
from itbcoach.landmarks import PoseSequence
from itbcoach.pose.smoothing import smooth_offline
from itbcoach.report.measures import LengthScale, scale_from_torso
from itbcoach.scoring.criteria import TABLE
from itbcoach.scoring.session import StepdownSession
from itbcoach.scoring.stepdown import StepdownRep, StepdownResult
from itbcoach.stream import Frame

SIDES = ("left", "right")
FAULT_TEXT = {c.id: c.cue for c in TABLE}
ADVICE = {c.id: c.advice for c in TABLE}
SETUP_OK_S = 1.5
INSTRUCTIONS_S = 4.0
COUNTDOWN_S = 3.0
PAIN_TIMEOUT_S = 15.0
#: Hands on the hips this long before a leg's countdown starts, s; the reminder is
#: repeated this often while they are not, s.
HANDS_OK_S = 0.5
HANDS_REPEAT_S = 5.0
HANDS_CUE = "hands on your hips"


class StepdownCoach:
    """Guide and score the lateral step-down test live (see the module docstring).

    Args:
        config: the configuration (``[stepdown]`` thresholds and reps per side).
        first_side: the stance leg asked for first.
    """

    task = "stepdown"
    view = "frontal"

    def __init__(self, config: Config, first_side: str = "left") -> None:
        self.config = config
        self.target = config.stepdown.reps_per_side
        self.order = [first_side, "right" if first_side == "left" else "left"]
        self.side_index = 0
        self.phase = "setup"
        self.phase_t = 0.0
        self.paused = False
        self.pain: bool | None = None
        self.session = StepdownSession(config)
        self.final: StepdownResult | None = None
        self._setup_since: float | None = None
        self._feedback: tuple[str, str, float] | None = None  # text, level, until
        self._t = -math.inf
        self._done = False
        self.last_metrics: np.ndarray | None = None
        self.last_landmarks: np.ndarray | None = None
        self.size: tuple[int, int] = (0, 0)
        self._worst_ids: dict[tuple[str, str], int] = {}  # (side, fault) -> frame id
        self._hands_since: float | None = None  # hands on the hips since (s)
        self._hands_said = -math.inf

    @property
    def reps(self) -> dict[str, list[StepdownRep]]:
        """Counted reps per stance leg so far."""
        return self.session.reps

    def warm_up(self) -> None:
        """Compile what measuring a rep needs (filters, kernel) so the first rep does
        not stall the live loop."""
        warm_up_session(self.config)

    # -- feeding ----------------------------------------------------------------------
    def update(self, frame: Frame) -> list[Event]:
        """Feed the session, advance the guide."""
        self.size = frame.image_size
        self.last_metrics = frame.metrics
        self.last_landmarks = frame.landmarks
        if self.phase in ("pain", "result") or self._done:
            return self._advance_end(frame.t_s)
        if frame.t_s <= self._t:  # a repeated timestamp: the session needs time to move
            return []
        self._t = frame.t_s
        if self.paused or frame.people >= 2:  # nothing counts: the session sees no one
            frame = _nobody(frame)
        events: list[Event] = []
        for rep in self.session.push(frame):
            events += self._judge(rep, frame.t_s)
        return events + self._advance(frame)

    def _judge(self, rep: StepdownRep, t_s: float) -> list[Event]:
        """The event for a rep the session has just measured (feedback, voice, record)."""
        side = rep.side
        n = self.session.count(side)
        faults = [k for k, v in rep.faults.items() if v]
        worst_ids = {k: rep.worst_frame_ids[k] for k in faults if k in rep.worst_frame_ids}
        for fault, fid in worst_ids.items():
            self._worst_ids.setdefault((side, fault), fid)
        text = FAULT_TEXT.get(faults[0], "") if faults else "good rep"
        self._feedback = (f"{n}: {text}", "warn" if faults else "good", t_s + 2.5)
        if self.phase in ("setup", "instructions", "countdown", "switch") or \
                side != self.order[self.side_index]:
            # the person started (or switched legs) without waiting for the guide
            self.phase, self.phase_t = "reps", t_s
            self.side_index = self.order.index(side)
        say = f"{n}" + (f", {text}" if faults else "")
        return [Event(EventKind.REP, t_s, side, "stepdown",
                      {**rep.to_json(), "count": n, "say": say, "record_as": "stepdown_rep",
                       "worst_frame_ids": worst_ids},
                      tuple(faults))]

    def _advance(self, frame: Frame) -> list[Event]:
        t = frame.t_s
        ev: list[Event] = []
        side = self.order[self.side_index]
        if self.phase == "setup":
            if frame.framing_ok:
                self._setup_since = t if self._setup_since is None else self._setup_since
                if t - self._setup_since >= SETUP_OK_S:
                    self._goto("instructions", t)
                    ev.append(self._say(t, f"Stand on the step on your {side} leg, hands "
                                           "on your hips"))
            else:
                self._setup_since = None
        elif self.phase in ("instructions", "switch"):
            ev += self._hands_check(t)  # each leg starts with the hands on the hips
            if self.phase == "instructions" and t - self.phase_t >= INSTRUCTIONS_S and \
                    self._hands_ready(t):
                self._goto("countdown", t)
        elif self.phase == "countdown" and t - self.phase_t >= COUNTDOWN_S:
            self._goto("reps", t)
            ev.append(self._say(t, "go, slowly lower your heel to the floor"))
        if len(self.reps[side]) >= self.target and self.phase == "reps":
            ev += self.next_side(t)
        return ev

    def _hands_ready(self, t: float) -> bool:
        return self._hands_since is not None and t - self._hands_since >= HANDS_OK_S

    def _hands_check(self, t: float) -> list[Event]:
        """Track the hands on the hips (the session's per-frame rule); say "hands on
        your hips" every ``HANDS_REPEAT_S`` while they are not."""
        if self.session.hands_on_hips:
            self._hands_since = t if self._hands_since is None else self._hands_since
            return []
        self._hands_since = None
        if t - self._hands_said < HANDS_REPEAT_S:
            return []
        self._hands_said = t
        return [self._say(t, HANDS_CUE)]


    def _advance_end(self, t: float) -> list[Event]:
        if self.phase == "pain" and t - self.phase_t >= PAIN_TIMEOUT_S:
            return self._finish_test(t)
        return []

    def _goto(self, phase: str, t: float) -> None:
        self.phase, self.phase_t = phase, t

    @staticmethod
    def _say(t: float, text: str) -> Event:
        return Event(EventKind.CUE, t, None, "stepdown", {"text": text, "say": text})

    def next_side(self, t: float) -> list[Event]:
        """Move to the other leg, or to the pain question after both."""
        if self.side_index == 0:
            self.side_index = 1
            self._goto("switch", t)
            side = self.order[1]
            return [Event(EventKind.SIDE_SWITCH, t, side, "stepdown",
                          {"say": f"switch legs: stand on your {side} leg"}),
                    ]
        self._goto("pain", t)
        return [self._say(t, "was it painful? press y or n")]

    def _finish_test(self, t: float) -> list[Event]:
        self.final = self.session.finish("auto", self.pain, {"source": "live"})
        self._goto("result", t)
        self._done = True
        return [Event(EventKind.SET_COMPLETE, t, s.side, "stepdown",
                      {"record_as": "stepdown_side", "side": s.side, "score": s.score,
                       "category": s.category, "criteria": dict(s.criteria),
                       "pain": s.pain, "metrics": s.to_json()["median_metrics"],
                       "say": f"{s.side} leg: {s.category}"})
                for s in self.final.sides]

    # -- keys -------------------------------------------------------------------------
    def key(self, key: str, t_s: float) -> list[Event]:
        """space pause, r redo the last rep, n next side, y/n pain answer."""
        if self.phase == "pain" and key in ("y", "n"):
            self.pain = key == "y"
            return self._finish_test(t_s)
        if key == "space":
            self.paused = not self.paused
        elif key == "r":
            return self._redo(t_s)
        elif key == "n" and self.phase not in ("pain", "result"):
            return self.next_side(t_s)
        return []

    def _redo(self, t_s: float) -> list[Event]:
        side = self.order[self.side_index]
        rep = self.session.drop_last(side)
        if rep is None:
            return []
        return [Event(EventKind.REP_REJECTED, t_s, side, "stepdown",
                      {"bottom_s": rep.bottom_s, "say": "redo that rep"}, ("redo",))]

    # -- view -------------------------------------------------------------------------
    def view_state(self, t_s: float) -> OverlayState:
        """Counter, phase banner, per-rep feedback, pelvic and knee-over-toe guides."""
        side = self.order[self.side_index]
        n = len(self.reps[side])
        banner = None
        cue = None
        level = "info"
        if self.phase == "setup":
            cue = "Stand facing the camera, whole body and both feet in view"
        elif self.phase == "instructions":
            banner = f"Stand on your {side.upper()} leg"
            cue = "Hands on hips. Slowly lower the other heel to the floor, then back up."
        elif self.phase == "countdown":
            banner = str(max(1, math.ceil(COUNTDOWN_S - (t_s - self.phase_t))))
        elif self.phase == "switch":
            banner = f"Switch legs: stand on your {side.upper()} leg"
        elif self.phase == "pain":
            banner = "Was it painful?  y = yes   n = no"
        elif self.phase == "result" and self.final is not None:
            banner = "  ·  ".join(f"{s.side}: {s.score_text} ({s.category})"
                                  for s in self.final.sides) or "no reps found"
            advice = [ADVICE[k] for s in self.final.sides
                      for k, v in s.criteria.items() if v and k in ADVICE]
            cue = advice[0] if advice else "Good control on both legs."
        if self.phase in ("instructions", "countdown", "switch") and \
                not self.session.hands_on_hips:  # each leg starts with them on the hips
            cue, level = "Hands on your hips", "warn"
        if self._feedback and t_s <= self._feedback[2] and self.phase == "reps":
            cue, level = self._feedback[0], self._feedback[1]
        faults: tuple[str, ...] = ()
        if self.phase == "result" and self.final is not None:
            faults = tuple(f"{s.side}: {k.replace('_', ' ')}"
                           for s in self.final.sides for k, v in s.criteria.items() if v)
            faults += tuple(f"{s.side}: hands off the hips in rep "
                            f"{', '.join(map(str, s.hands_off_reps))}"
                            for s in self.final.sides if s.hands_off_reps)
        return OverlayState(
            title=f"Lateral step-down — {side} leg",
            counter=None if self.phase == "result" else f"{n}/{self.target}",
            counter_label="reps", progress=("paused — space to resume" if self.paused else
                                            f"side {self.side_index + 1} of 2 · {self.phase}"),
            cue=cue, cue_level=level, banner=banner, faults=faults,
            # the live readouts mean nothing on the result screen: room for the result
            metrics=() if self.phase == "result" else self._metric_rows(),
            guides=self._guides(),
            keys="space pause · r redo · n next side · f fullscreen · q quit")

    def _metric_rows(self) -> tuple[tuple[str, str], ...]:
        m = self.last_metrics
        if m is None or not np.isfinite(m[Metric.PELVIC_OBLIQUITY]):
            return ()
        return (("pelvis", f"{m[Metric.PELVIC_OBLIQUITY]:+.0f}°"),
                ("trunk", f"{m[Metric.TRUNK_LEAN]:+.0f}°"))

    def _guides(self) -> tuple[GuideLine, ...]:
        """Pelvic line (green when level) and a knee-over-second-toe line per leg."""
        lm, m = self.last_landmarks, self.last_metrics
        if lm is None or m is None or not self.size[0]:
            return ()
        px = lm[:, :2] * np.array(self.size, float)
        out = []
        level_ok = abs(float(m[Metric.PELVIC_OBLIQUITY])) < self.config.stepdown.pelvic_drop_deg
        out.append(GuideLine(tuple(px[L.RIGHT_HIP]), tuple(px[L.LEFT_HIP]),
                             GOOD if level_ok else BAD, 3))
        for toe, knee, col in ((L.LEFT_FOOT_INDEX, L.LEFT_KNEE, Metric.KNEE_OFFSET_TOE_LEFT),
                               (L.RIGHT_FOOT_INDEX, L.RIGHT_KNEE,
                                Metric.KNEE_OFFSET_TOE_RIGHT)):
            medial = float(m[col]) > 0
            out.append(GuideLine((px[toe][0], px[toe][1]), (px[toe][0], px[knee][1]),
                                 BAD if medial else (200, 200, 200), 2, dashed=True))
        return tuple(out)

    def thumbnail_frames(self) -> list[tuple[str, int]]:
        """``(label, frame id)`` of the worst frame of each fault found in the final
        result (from the first rep that showed it), for the result screen."""
        if self.final is None:
            return []
        out = []
        for s in self.final.sides:
            for fault, present in s.criteria.items():
                fid = self._worst_ids.get((s.side, fault))
                if present and fid is not None:
                    out.append((f"{s.side}: {fault.replace('_', ' ')}", fid))
        return out[:4]

    # -- end --------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """The result has been computed."""
        return self._done

    def finish(self, t_s: float) -> list[Event]:
        """Score whatever was done (source ended, quit, Ctrl-C)."""
        if self.final is None and self.session.view.frames:
            return self._finish_test(t_s)
        return []

    def result(self) -> StepdownResult:
        """The step-down result (as ``itbcoach score --task stepdown`` returns it)."""
        if self.final is None:
            return StepdownResult(False, [], "the test was not finished", None, [], [], {})
        return self.final

    def length_scale(self) -> LengthScale | None:
        """The lengths' scale of the finished test (from ``[report] height_cm``, else
        the median 3D torso length collected frame by frame); None before the end."""
        if self.final is None:
            return None
        torso = self.session.view.torso_m
        return scale_from_torso(float(np.median(torso)) if len(torso) else None,
                                self.config.report.height_cm)


def _nobody(frame: Frame) -> Frame:
    """``frame`` with no person in it (paused, or someone else in view)."""
    nan = np.full((33, 3), np.nan)
    return replace(frame, metrics=np.full_like(frame.metrics, np.nan), landmarks=nan,
                   raw=nan, world=None if frame.world is None else nan,
                   raw_world=None if frame.raw_world is None else nan)


def warm_up_session(config: Config) -> None:
    """Compile the step-down session's measuring path (filters, kernel) on a dummy rep
    window, so a live session's first rep does not stall the loop."""
    n = 12
    seq = PoseSequence(np.full((n, 33, 3), 0.5, np.float32), np.ones((n, 33), np.float32),
                       np.ones((n, 33), np.float32), np.arange(n, dtype=np.int64) * 33,
                       (640, 480))
    compute_metrics(smooth_offline(seq, config.smoothing).landmarks, seq.image_size)
