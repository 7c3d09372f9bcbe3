"""Local history of sessions and their events, in SQLite.

One database file per user (``$ITBCOACH_HISTORY``, else ``history.sqlite`` in the
platform data directory). WAL journal, ``synchronous=FULL`` and one transaction per
finished event: a crash or a kill loses at most the event being written. The schema is
versioned in ``PRAGMA user_version``; :data:`SCHEMA_VERSION` migrations run on open.

Tables:

* ``sessions``: one row per live session or offline score (kind, task, source, start and
  end time, status ``running`` | ``completed`` | ``interrupted`` | ``failed``, summary,
  the person label and, for a live session, the path of its HTML report).
* ``events``: what happened, as it happened: ``rep``, ``hold``, ``step``, ``set``,
  ``side``, ``cue``, ``stepdown_rep``, ``stepdown_side`` (a side's test result),
  ``result`` ... with the time in the session (s), the side and a JSON payload.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from itbcoach.errors import ExitCode, UserError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
#: ``PRAGMA application_id`` of our databases ("itbc"): set on new files, so another
#: program's SQLite file given as ``--db`` is recognised and left alone.
APPLICATION_ID = 0x69746263
#: Summary of a session closed at a later start because its program died with it open.
STALE_MESSAGE = "ended without being closed (the program was killed or crashed)"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    task TEXT NOT NULL,
    source TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    summary TEXT,
    person TEXT,
    report TEXT
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    type TEXT NOT NULL,
    t_s REAL,
    side TEXT,
    created_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON events(session_id, type);
CREATE INDEX IF NOT EXISTS sessions_task ON sessions(task, started_at);
"""
#: Schema 1 -> 2: the person label and the report written after the session.
_MIGRATE_2 = "ALTER TABLE sessions ADD COLUMN person TEXT;" \
             "ALTER TABLE sessions ADD COLUMN report TEXT;"


class HistoryError(UserError):
    """The history database is missing, corrupt or not ours."""

    exit_code = ExitCode.INPUT


def default_path() -> Path:
    """``$ITBCOACH_HISTORY`` or ``history.sqlite`` in the platform data directory."""
    env = os.environ.get("ITBCOACH_HISTORY")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("itbcoach")) / "history.sqlite"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class SessionRow:
    """One session as stored."""

    id: int
    kind: str
    task: str
    source: str | None
    started_at: str
    ended_at: str | None
    status: str
    summary: dict[str, Any] | None
    events: int
    person: str | None = None  #: who did it (``--person``, ``[history] person``)
    report: str | None = None  #: the HTML report written for it, if any


@dataclass(frozen=True)
class EventRow:
    """One event as stored."""

    id: int
    session_id: int
    type: str
    t_s: float | None
    side: str | None
    created_at: str
    data: dict[str, Any]


class History:
    """The history database. Use as a context manager or call :meth:`close`.

    Args:
        path: database file; default :func:`default_path`.
        create: create the file when missing (``False``: raise HistoryError instead).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, create: bool = True) -> None:
        self.path = Path(path) if path is not None else default_path()
        if not self.path.exists() and not create:
            raise HistoryError(f"no history yet at {self.path} (it is created by the first "
                               "`itbcoach score` or `itbcoach live` session)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            self._check_ours()  # before anything writes to the file
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None
        except OSError as exc:
            raise HistoryError(f"cannot open history database {self.path}: {exc}") from None

    def _error(self, exc: sqlite3.Error) -> HistoryError:
        """One actionable line for a database error (busy is not corrupt: never advise
        deleting a database that is only locked or on a full disk)."""
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return HistoryError(f"history database {self.path} is busy ({text}): another "
                                "itbcoach is writing to it; try again when it has finished")
        if isinstance(exc, sqlite3.OperationalError):
            return HistoryError(f"cannot write the history database {self.path} ({text}); "
                                "check free disk space and permissions")
        return HistoryError(f"history database {self.path} is unreadable ({text}); move "
                            "it away or delete it to start a new history")

    def _check_ours(self) -> None:
        """Refuse a database that belongs to another program (its tables are not ours,
        or its application id is someone else's): nothing is written to it."""
        app = self._db.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
        if (app not in (0, APPLICATION_ID)) or (tables and not {"sessions", "events"} <= tables):
            self._db.close()
            shown = ", ".join(sorted(tables)[:4]) or "none"
            raise HistoryError(f"{self.path} is not an itbcoach history database (tables: "
                               f"{shown}); give another file with --db, or none for the "
                               "default")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"history database {self.path} has schema {version}, newer "
                               f"than this itbcoach ({SCHEMA_VERSION}); upgrade itbcoach")
        if version < 1:  # one script = one transaction: all of the schema or none
            self._db.executescript(
                f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version={SCHEMA_VERSION};"
                f"PRAGMA application_id={APPLICATION_ID};COMMIT;")
        elif version < 2:
            self._db.executescript(f"BEGIN IMMEDIATE;{_MIGRATE_2}PRAGMA user_version=2;COMMIT;")

    def _tx(self) -> _Transaction:
        return _Transaction(self._db, self._error)

    def start_session(self, kind: str, task: str, source: str | None = None,
                      person: str | None = None) -> int:
        """Open a session (``kind`` = ``live`` | ``offline``) of ``person`` (a label, or
        None); returns its id.

        The open session's summary holds this process's id and host until it is closed,
        so :meth:`close_stale` can tell a session whose program died from one still
        running; stale sessions are closed first.
        """
        self.close_stale()
        owner = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
        with self._tx():
            cur = self._db.execute(
                "INSERT INTO sessions(kind, task, source, started_at, summary, person) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (kind, task, source, _now(), owner, person or None))
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def close_stale(self) -> list[int]:
        """Close as ``failed`` every ``running`` session whose program is gone (killed,
        crashed, power lost); returns their ids. A session of a process still running
        on this machine, or of another machine, is left open."""
        host = socket.gethostname()
        stale = []
        for sid, summary in self._query(
                "SELECT id, summary FROM sessions WHERE status = 'running'", ()):
            owner = _loads(summary) or {}
            pid = owner.get("pid") if isinstance(owner, dict) else None
            if isinstance(pid, int) and owner.get("host") not in (None, host):
                continue
            if isinstance(pid, int) and _pid_alive(pid):
                continue
            stale.append(int(sid))
        for sid in stale:
            self.end_session(sid, "failed", {"message": STALE_MESSAGE})
        return stale

    def add_event(self, session_id: int, type: str, data: dict[str, Any] | None = None,
                  t_s: float | None = None, side: str | None = None) -> int:
        """Store one finished event in its own transaction; returns the event id."""
        payload = json.dumps(data or {}, default=_json_default)
        with self._tx():
            cur = self._db.execute(
                "INSERT INTO events(session_id, type, t_s, side, created_at, data) "
                "VALUES (?, ?, ?, ?, ?, ?)", (session_id, type, t_s, side, _now(), payload))
        return int(cur.lastrowid)  # type: ignore[arg-type]

    def end_session(self, session_id: int, status: str = "completed",
                    summary: dict[str, Any] | None = None) -> None:
        """Close a session with its final status and summary."""
        with self._tx():
            self._db.execute(
                "UPDATE sessions SET ended_at = ?, status = ?, summary = ? WHERE id = ?",
                (_now(), status, None if summary is None else json.dumps(
                    summary, default=_json_default), session_id))

    def set_report(self, session_id: int, path: str | os.PathLike[str]) -> None:
        """Link the HTML report written for a session."""
        with self._tx():
            self._db.execute("UPDATE sessions SET report = ? WHERE id = ?",
                             (str(path), session_id))

    def sessions(self, task: str | None = None) -> list[SessionRow]:
        """Sessions, oldest first, optionally of one task."""
        sql = ("SELECT s.id, s.kind, s.task, s.source, s.started_at, s.ended_at, s.status, "
               "s.summary, (SELECT COUNT(*) FROM events e WHERE e.session_id = s.id), "
               "s.person, s.report "
               "FROM sessions s")
        args: tuple[Any, ...] = ()
        if task:
            sql += " WHERE s.task = ?"
            args = (task,)
        rows = self._query(sql + " ORDER BY s.started_at, s.id", args)
        return [SessionRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], _loads(r[7]), r[8],
                           r[9], r[10])
                for r in rows]

    def events(self, session_id: int | None = None, type: str | None = None,
               task: str | None = None) -> list[EventRow]:
        """Events in the order they were stored, filtered by session, type or task."""
        sql = ("SELECT e.id, e.session_id, e.type, e.t_s, e.side, e.created_at, e.data "
               "FROM events e JOIN sessions s ON s.id = e.session_id WHERE 1=1")
        args: list[Any] = []
        for col, val in (("e.session_id", session_id), ("e.type", type), ("s.task", task)):
            if val is not None:
                sql += f" AND {col} = ?"
                args.append(val)
        rows = self._query(sql + " ORDER BY e.id", tuple(args))
        return [EventRow(r[0], r[1], r[2], r[3], r[4], r[5], _loads(r[6]) or {})
                for r in rows]

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error); SQLite errors
    become :class:`HistoryError` lines."""

    def __init__(self, db: sqlite3.Connection,
                 error: Callable[[sqlite3.Error], HistoryError]) -> None:
        self.db = db
        self.error = error

    def __enter__(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.error(exc) from None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.db.execute("COMMIT")
                return
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        except sqlite3.Error as err:
            raise self.error(err) from None
        if isinstance(exc, sqlite3.Error):
            raise self.error(exc) from None


def exercise_summary(summ: dict[str, Any]) -> str:
    """What one exercise session counted, in its own unit (steps, holds, reps, s).

    ``summ`` is what the history stored: a live session's full result, or an offline
    session's short summary (holds as ``{"count", "seconds"}``). Sessions saved before
    results named their ``unit`` get it from what they hold.
    """
    unit = summ.get("unit") or ("steps" if summ.get("steps") else
                                "holds" if summ.get("holds") else
                                "s" if summ.get("timers") else "reps")
    if unit == "steps":
        steps = summ.get("steps") or {}
        left, right = int(steps.get("left", 0)), int(steps.get("right", 0))
        return f"steps {left + right} (left {left}, right {right})"
    if unit == "holds":
        holds = summ.get("holds") or []
        if isinstance(holds, dict):  # an offline session's summary: count and seconds
            count, held = int(holds.get("count", 0)), float(holds.get("seconds", 0.0))
            return f"holds {count} ({held:.0f} s held)"
        held = sum(float(h.get("duration_s", 0.0)) for h in holds)
        return f"holds {len(holds)} ({held:.0f} s held)"
    if unit == "s":
        per_side: dict[str, float] = {}
        for tm in summ.get("timers") or []:
            side = str(tm.get("side"))
            per_side[side] = per_side.get(side, 0.0) + float(tm.get("duration_s", 0.0))
        return ", ".join(f"{side} {secs:.0f} s" for side, secs in per_side.items()) or "0 s"
    return f"reps {(summ.get('reps') or {}).get('total', 0)}"


def _loads(text: str | None) -> Any:
    """A stored JSON column; None when empty or damaged (one bad row, e.g. edited by
    hand, must not make the whole history unreadable)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        log.warning("history: a stored value is not valid JSON; shown as empty")
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _json_default(value: Any) -> Any:
    """JSON for numpy scalars/arrays and paths in event payloads."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

