"""Engine, schema migration and sessions of the operational store.

One engine per database URL per process (SQLite file in the workspace by default,
PostgreSQL when ``CASEGRAPH_DATABASE_URL`` is set). :func:`ensure_schema` runs the
packaged Alembic migrations programmatically the first time a process touches a
database, under a lock so two processes starting at once do not race.

Examples:
    >>> from casegraph.store.db import session_scope
    >>> with session_scope(ws) as s:           # doctest: +SKIP
    ...     s.add(obj)                         # committed on exit, rolled back on error
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_lock = threading.RLock()
_engines: dict[str, Engine] = {}
_migrated: set[str] = set()
_sessionmakers: dict[str, sessionmaker[Session]] = {}


def now_iso(when: dt.datetime | None = None) -> str:
    """UTC timestamp as fixed-width ISO text (sorts as text, hashes the same everywhere)."""
    when = when or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _url_of(ws_or_url: Any) -> str:
    return ws_or_url if isinstance(ws_or_url, str) else ws_or_url.database_url


def _make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_size=5, max_overflow=20, pool_pre_ping=False,
                               connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_con: Any, _rec: Any) -> None:
            dbapi_con.isolation_level = None  # we emit BEGIN ourselves (see below)
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL by default (every audit event on disk at commit); tests may relax it
            sync = os.environ.get("CASEGRAPH_SQLITE_SYNCHRONOUS", "FULL").upper()
            if sync in ("OFF", "NORMAL", "FULL", "EXTRA"):
                cur.execute(f"PRAGMA synchronous={sync}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_size=5, max_overflow=20, pool_pre_ping=True,
                         pool_recycle=1800)


def get_engine(ws_or_url: Any, *, migrate: bool = True) -> Engine:
    """The engine for a workspace (or URL), with the schema brought up to date."""
    url = _url_of(ws_or_url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = _make_engine(url)
    if migrate and url not in _migrated:
        ensure_schema(engine)
        with _lock:
            _migrated.add(url)
    return engine


def dispose_engine(ws_or_url: Any) -> None:
    """Forget the engine of a URL (tests use it when dropping a schema)."""
    url = _url_of(ws_or_url)
    with _lock:
        engine = _engines.pop(url, None)
        _migrated.discard(url)
        _sessionmakers.pop(url, None)
    if engine is not None:
        engine.dispose()


def _alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "sqlite":
        db = engine.url.database
        if not db or db == ":memory:":
            yield
            return
        with open(f"{db}.migrate.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    elif engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("select pg_advisory_lock(4711001)"))
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("select pg_advisory_unlock(4711001)"))
                conn.commit()
    else:  # pragma: no cover
        yield


def ensure_schema(engine: Engine) -> None:
    """Run the packaged Alembic migrations up to head (no-op when already there)."""
    from alembic import command

    head = head_revision()
    if current_revision(engine) == head:
        return
    with _migration_lock(engine):
        if current_revision(engine) == head:
            return
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), "head")
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with contextlib.suppress(OSError):  # password hashes and the audit log: owner only
            os.chmod(engine.url.database, 0o600)


def sessionmaker_for(ws_or_url: Any) -> sessionmaker[Session]:
    url = _url_of(ws_or_url)
    engine = get_engine(url)
    with _lock:
        sm = _sessionmakers.get(url)
        if sm is None:
            sm = _sessionmakers[url] = sessionmaker(bind=engine, expire_on_commit=False)
        return sm


@contextlib.contextmanager
def session_scope(ws_or_url: Any) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    s = sessionmaker_for(ws_or_url)()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()
