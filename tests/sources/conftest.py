"""Fixtures of the sources room: write a spec + data file into a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml


@pytest.fixture()
def make_source(tmp_path: Path):
    """make_source(spec_dict, data, name="src", ext="csv", encoding="utf-8") -> spec path.

    ``data`` is text (written with ``encoding``) or bytes; ``spec_dict['path']`` defaults to
    the data file.
    """

    def _make(spec: dict[str, Any], data: str | bytes | None, name: str = "src",
              ext: str = "csv", encoding: str = "utf-8") -> Path:
        d = tmp_path / "in"
        d.mkdir(exist_ok=True)
        data_path = d / f"{name}.{ext}"
        if isinstance(data, bytes):
            data_path.write_bytes(data)
        elif data is not None:
            data_path.write_bytes(data.encode(encoding))
        spec = {"path": data_path.name, **spec}
        spec_path = d / f"{name}.yaml"
        spec_path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True),
                             encoding="utf-8")
        return spec_path

    return _make


def person_spec(**fields: Any) -> dict[str, Any]:
    return {"source": "src", "kind": "person", "record_id": "id",
            "fields": fields or {"full_name": "name"}}
