"""The operational store: packaged migrations match the models and run idempotently."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from casegraph.store.db import current_revision, ensure_schema, get_engine, head_revision
from casegraph.store.models import Base


def test_migrations_reach_head_and_match_models(gws) -> None:
    engine = get_engine(gws)
    assert current_revision(engine) == head_revision() == "0001"
    ensure_schema(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # server defaults and index naming aside, no table or column differs
    structural = [d for d in diff if d[0] in ("add_table", "remove_table", "add_column",
                                              "remove_column")]
    assert not structural, structural


def test_migrations_ship_inside_the_package() -> None:
    from importlib.resources import files

    versions = files("casegraph.store") / "migrations" / "versions"
    assert any(p.name.startswith("0001") for p in versions.iterdir())
    assert (files("casegraph.store") / "migrations" / "env.py").is_file()
