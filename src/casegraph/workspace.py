"""The workspace: one directory holding the warehouse, the config, the search index and
(by default) the operational store.

Every command opens a :class:`Workspace` once and hands it to the rooms, instead of
each room re-opening connections. Rooms own their tables; the workspace only owns
the files and the connections.

Layout::

    DIR/
      workspace.yaml      validated config, one section per room
      warehouse.duckdb    analytical tables (records, persons, gates, leads, ...)
      operational.sqlite  users, sessions, cases, audit (unless CASEGRAPH_DATABASE_URL)
      search-index/       tantivy index
      models/             trained identity models, one per resolve run
      artefacts/          charts and reports
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import yaml
from pydantic import BaseModel, ValidationError

DEFAULT_WORKSPACE = "casegraph-workspace"
CONFIG_FILE = "workspace.yaml"
WAREHOUSE_FILE = "warehouse.duckdb"
OPERATIONAL_FILE = "operational.sqlite"

M = TypeVar("M", bound=BaseModel)


class WorkspaceError(Exception):
    """A problem with the workspace a user can fix (missing, unreadable, bad config)."""


def default_workspace_path() -> Path:
    return Path(os.environ.get("CASEGRAPH_WORKSPACE", DEFAULT_WORKSPACE))


class Workspace:
    """Files and connections of one workspace.

    Args:
        path: the workspace directory; created on first use unless ``must_exist``.
        must_exist: refuse to create (for read-only commands, so a typo is an error).
        read_only: open the warehouse read-only.
    """

    def __init__(self, path: str | Path | None = None, *, must_exist: bool = False,
                 read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_workspace_path()
        if must_exist and not (self.path / WAREHOUSE_FILE).exists():
            raise WorkspaceError(
                f"no workspace at {self.path} (no {WAREHOUSE_FILE}); run `casegraph ingest` first")
        self.path.mkdir(parents=True, exist_ok=True)
        self.read_only = read_only
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.RLock()
        self._config: dict[str, Any] | None = None

    # ---- files -------------------------------------------------------------------------
    @property
    def warehouse_path(self) -> Path:
        return self.path / WAREHOUSE_FILE

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def index_dir(self) -> Path:
        return self.path / "search-index"

    @property
    def models_dir(self) -> Path:
        d = self.path / "models"
        d.mkdir(exist_ok=True)
        return d

    @property
    def artefacts_dir(self) -> Path:
        d = self.path / "artefacts"
        d.mkdir(exist_ok=True)
        return d

    @property
    def database_url(self) -> str:
        """Operational store: PostgreSQL when CASEGRAPH_DATABASE_URL is set, else SQLite here."""
        return os.environ.get("CASEGRAPH_DATABASE_URL") or f"sqlite:///{self.path / OPERATIONAL_FILE}"

    # ---- config ------------------------------------------------------------------------
    def raw_config(self) -> dict[str, Any]:
        if self._config is None:
            if self.config_path.exists():
                try:
                    data = yaml.safe_load(self.config_path.read_text(encoding="utf-8")) or {}
                except yaml.YAMLError as e:
                    raise WorkspaceError(f"{self.config_path}: not valid YAML: {e}") from e
                if not isinstance(data, dict):
                    raise WorkspaceError(f"{self.config_path}: top level must be a mapping")
                self._config = data
            else:
                self._config = {}
        return self._config

    def section(self, name: str, model: type[M]) -> M:
        """The validated config section ``name`` (defaults when absent).

        Each room declares its own pydantic model, so a typo in ``workspace.yaml`` is an
        error naming the section and key rather than a silently ignored setting.
        """
        raw = self.raw_config().get(name) or {}
        try:
            return model.model_validate(raw)
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise WorkspaceError(
                f"{self.config_path}: {name}.{loc}: {first['msg']}") from e

    def set_section(self, name: str, value: dict[str, Any]) -> None:
        cfg = dict(self.raw_config())
        cfg[name] = value
        self.config_path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
        self._config = cfg

    # ---- warehouse ---------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The shared DuckDB connection (one per workspace object).

        Fetch results fully (``fetchall``/``df``) on it: Splink shares it, and a half-read
        result makes Splink's next query fail.
        """
        with self._lock:
            if self._con is None:
                try:
                    self._con = duckdb.connect(str(self.warehouse_path), read_only=self.read_only)
                except duckdb.IOException as e:
                    raise WorkspaceError(f"cannot open {self.warehouse_path}: {e}") from e
            return self._con

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the shared connection, for use from another thread."""
        return self.con.cursor()

    def has_table(self, name: str) -> bool:
        rows = self.con.execute(
            "select 1 from information_schema.tables where table_name = ? and table_schema = 'main'",
            [name]).fetchall()
        return bool(rows)

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows as dicts (fully fetched)."""
        cur = self.con.execute(sql, params or [])
        cols = [d[0] for d in cur.description] if cur.description else []
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
