"""The operational store: SQLAlchemy 2 models, engine and packaged Alembic migrations.

SQLite file in the workspace by default; PostgreSQL when ``CASEGRAPH_DATABASE_URL`` is
set. ``get_engine(ws)`` migrates on first use; ``session_scope(ws)`` gives a session.
"""

from casegraph.store.db import get_engine, now_iso, session_scope

__all__ = ["get_engine", "now_iso", "session_scope"]
