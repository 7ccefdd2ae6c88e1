"""Source specs: the declarative YAML mapping of one source file onto canonical records.

A spec looks like this (the keys are the contract; see the README)::

    source: county_bookings        # unique name of the source
    kind: encounter                # one of ontology.KINDS
    path: bookings.csv             # relative to the spec file (a glob is allowed)
    format: csv                    # csv | parquet | jsonl (default: from the extension)
    record_id: booking_no          # column holding the source's own record id
    fields:                        # canonical field: source column, or a mapping
      full_name: NAME
      birth_date: {column: DOB, format: "%m/%d/%Y"}
      agency: {value: "County Sheriff"}

Optional keys: ``delimiter``, ``encoding`` and ``skip_rows`` (lines before the header; csv),
``null_values`` (cell texts that mean "missing", besides the empty cell), ``description``.

:func:`load_spec` parses and validates a spec against the ontology; :func:`check_columns`
validates it against the file's header. Both raise :class:`SpecError` naming the file,
the key and the problem, before anything is written.
"""

from __future__ import annotations

import difflib
import glob
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from casegraph.ontology import KINDS, FieldType

FORMATS = ("csv", "parquet", "jsonl")
EXTENSION_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".psv": "csv",
                     ".parquet": "parquet", ".pq": "parquet",
                     ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
#: Cell texts read as "missing" besides the empty cell (deliberately not "NA": Namibia).
DEFAULT_NULL_VALUES = ("NULL", "null", "\\N", "N/A", "n/a", "#N/A")
_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class SpecError(ValueError):
    """A spec that cannot be loaded: names the file, the key and the problem."""

    def __init__(self, path: Path | str, key: str | None, problem: str) -> None:
        self.path, self.key, self.problem = str(path), key, problem
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + problem)


class FieldMap(BaseModel):
    """Where one canonical field comes from: a column (optionally with a format) or a constant."""

    model_config = ConfigDict(extra="forbid")

    column: str | None = None
    value: Any = None
    format: str | list[str] | None = None

    @field_validator("format")
    @classmethod
    def _formats(cls, v: str | list[str] | None) -> str | list[str] | None:
        if isinstance(v, list) and not v:
            raise ValueError("format list is empty")
        return v

    @property
    def is_constant(self) -> bool:
        return self.column is None

    @property
    def formats(self) -> list[str]:
        if self.format is None:
            return []
        return [self.format] if isinstance(self.format, str) else list(self.format)


class SourceSpec(BaseModel):
    """One validated source spec. ``spec_path`` and ``files`` are filled in by :func:`load_spec`."""

    model_config = ConfigDict(extra="forbid")

    source: str
    kind: str
    path: str
    format: Literal["csv", "parquet", "jsonl"] | None = None
    record_id: str | list[str]
    fields: dict[str, FieldMap] = Field(default_factory=dict)
    delimiter: str | None = None
    encoding: str | None = None
    null_values: list[str] | None = None
    skip_rows: int = Field(default=0, ge=0)
    description: str | None = None

    spec_path: Path | None = Field(default=None, exclude=True)
    files: list[Path] = Field(default_factory=list, exclude=True)

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise ValueError(  # noqa: TRY004 - pydantic wants ValueError
                "must be a mapping of canonical field -> column or {column|value}")
        out = {}
        for k, m in v.items():
            if isinstance(m, str):
                out[k] = {"column": m}
            elif isinstance(m, dict):
                out[k] = m
            elif m is None:
                raise ValueError(f"{k}: no column given")
            else:  # a bare number or bool: the column name as YAML typed it
                out[k] = {"column": str(m)}
        return out

    @property
    def file_format(self) -> str:
        assert self.format is not None
        return self.format

    @property
    def record_id_columns(self) -> list[str]:
        """The column(s) of the record id (several are joined with '|')."""
        return [self.record_id] if isinstance(self.record_id, str) else list(self.record_id)

    @property
    def nulls(self) -> tuple[str, ...]:
        return tuple(self.null_values) if self.null_values is not None else DEFAULT_NULL_VALUES

    def columns_used(self) -> list[str]:
        """Source columns the spec reads (record id first)."""
        cols = list(self.record_id_columns)
        for m in self.fields.values():
            if m.column is not None and m.column not in cols:
                cols.append(m.column)
        return cols

    def fingerprint(self) -> str:
        """A hash of the mapping (what turns file bytes into records)."""
        doc = self.model_dump(mode="json", exclude={"description"})
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _err_key(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("function-after", "function-before"))


def _check_strptime(fmt: str) -> str | None:
    """The problem with a strptime format, or None when it is usable."""
    if "%" not in fmt:
        guess = (fmt.replace("YYYY", "%Y").replace("yyyy", "%Y").replace("MM", "%m")
                 .replace("DD", "%d").replace("dd", "%d").replace("HH", "%H")
                 .replace("mm", "%M").replace("ss", "%S"))
        hint = f" (did you mean {guess!r}?)" if "%" in guess else ""
        return f"bad date format {fmt!r}: no strptime directives such as %Y, %m, %d{hint}"
    import duckdb

    try:
        duckdb.execute("select try_strptime('', ?)", [fmt]).fetchall()
    except duckdb.Error as e:
        msg = str(e).split("Error: ", 1)[-1]
        return f"bad date format {fmt!r}: {msg}"
    return None


def resolve_files(spec: SourceSpec, spec_path: Path) -> list[Path]:
    base = spec_path.parent
    p = Path(spec.path).expanduser()
    full = p if p.is_absolute() else base / p
    if any(ch in spec.path for ch in "*?["):
        files = sorted(Path(f) for f in glob.glob(str(full)) if Path(f).is_file())
        if not files:
            raise SpecError(spec_path, "path", f"no file matches {spec.path!r} (in {base})")
        return files
    if not full.exists():
        raise SpecError(spec_path, "path", f"file not found: {full}")
    if full.is_dir():
        raise SpecError(spec_path, "path", f"{full} is a directory, not a file")
    return [full]


def load_spec(path: str | Path) -> SourceSpec:
    """Read and validate one spec file against the ontology (not yet against the data file)."""
    path = Path(path)
    if not path.exists():
        raise SpecError(path, None, "spec file not found")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as e:
        raise SpecError(path, None, f"not valid YAML: {e}") from e
    except UnicodeDecodeError as e:
        raise SpecError(path, None, f"spec is not UTF-8 text: {e}") from e
    if not isinstance(doc, dict):
        raise SpecError(path, None, "top level must be a mapping (source, kind, path, ...)")
    for k in ("source", "kind", "path", "record_id"):
        if k in doc and doc[k] is not None and not isinstance(doc[k], (str, dict, list)):
            doc[k] = str(doc[k])
    if isinstance(doc.get("record_id"), list):
        doc["record_id"] = [str(c) for c in doc["record_id"]]
    try:
        spec = SourceSpec.model_validate(doc)
    except ValidationError as e:
        first = e.errors()[0]
        key = _err_key(first["loc"]) or None
        msg = first["msg"]
        if first["type"] == "missing":
            msg = "required key is missing"
        elif first["type"] == "extra_forbidden":
            msg = "unknown key"
            if len(first["loc"]) == 1:
                allowed = [f for f in SourceSpec.model_fields if f not in ("spec_path", "files")]
                msg += f" (allowed: {', '.join(allowed)})"
            else:
                msg += " (a field mapping takes column, format or value)"
        raise SpecError(path, key, msg) from e

    if isinstance(spec.record_id, list) and not spec.record_id:
        raise SpecError(path, "record_id", "give a column (or a list of columns)")
    if not _SOURCE_NAME.match(spec.source):
        raise SpecError(path, "source", f"{spec.source!r}: use letters, digits, _ . - only")
    if spec.kind not in KINDS:
        near = difflib.get_close_matches(spec.kind, list(KINDS), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise SpecError(path, "kind", f"unknown kind {spec.kind!r}{hint}; "
                                      f"kinds: {', '.join(KINDS)}")
    kind = KINDS[spec.kind]
    for name, m in spec.fields.items():
        key = f"fields.{name}"
        if name not in kind.fields:
            near = difflib.get_close_matches(name, list(kind.fields), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise SpecError(path, key, f"unknown canonical field {name!r} for kind "
                                       f"{spec.kind!r}{hint}")
        if m.column is not None and m.value is not None:
            raise SpecError(path, key, "give either column or value, not both")
        if m.column is None and m.value is None:
            raise SpecError(path, key, "give a column or a value")
        if m.column is not None and not m.column.strip():
            raise SpecError(path, key, "empty column name")
        ftype = kind.fields[name].type
        if m.format is not None:
            if ftype not in (FieldType.DATE, FieldType.DATETIME):
                raise SpecError(path, f"{key}.format",
                                f"format applies to date/datetime fields; {name} is {ftype.value}")
            for fmt in m.formats:
                problem = _check_strptime(fmt)
                if problem:
                    raise SpecError(path, f"{key}.format", problem)
        if m.value is not None and m.format is not None:
            raise SpecError(path, key, "a constant value takes no format")
    missing = [r for r in kind.required if r not in spec.fields]
    if missing:
        raise SpecError(path, "fields", f"kind {spec.kind!r} requires {', '.join(missing)}: "
                                        f"map a column or give a constant value")
    if spec.delimiter in ("\\t", "tab"):
        spec.delimiter = "\t"
    if spec.delimiter is not None and len(spec.delimiter) != 1:
        raise SpecError(path, "delimiter", "must be a single character")
    if spec.encoding is not None:
        import codecs

        try:
            codecs.lookup(spec.encoding)
        except LookupError as e:
            raise SpecError(path, "encoding", f"unknown encoding {spec.encoding!r}") from e

    files = resolve_files(spec, path)
    if spec.format is None:
        fmt = EXTENSION_FORMATS.get(files[0].suffix.lower())
        if fmt is None:
            raise SpecError(path, "format", f"cannot tell the format of {files[0].name} from "
                                            f"its extension; set format: {' | '.join(FORMATS)}")
        spec.format = fmt  # type: ignore[assignment]
        if files[0].suffix.lower() == ".tsv" and spec.delimiter is None:
            spec.delimiter = "\t"
    spec.spec_path = path.resolve()
    spec.files = files
    _check_constants(spec, path)
    return spec


def _check_constants(spec: SourceSpec, path: Path) -> None:
    """A constant must itself parse as its field's type (a typo in a constant is a spec error)."""
    from casegraph.sources.transform import parse_constant

    kind = KINDS[spec.kind]
    for name, m in spec.fields.items():
        if m.value is None:
            continue
        _, problem = parse_constant(kind.fields[name], m.value)
        if problem:
            raise SpecError(path, f"fields.{name}.value", f"{m.value!r}: {problem}")


def _fold_column(name: str, *, drop_spaces: bool = False) -> str:
    """A column name folded for matching: case, NBSP / runs of whitespace, optionally all."""
    folded = " ".join(name.replace("\ufeff", "").split()).casefold()
    return folded.replace(" ", "") if drop_spaces else folded


def match_column(wanted: str, available: list[str]) -> str | None:
    """The file column a spec names: exact, else a unique case- and space-insensitive match
    (``"Fecha Nac."`` finds ``"FECHA  NAC."`` and ``"FechaNac."``)."""
    if wanted in available:
        return wanted
    for drop in (False, True):
        fold = _fold_column(wanted, drop_spaces=drop)
        hits = [c for c in available if _fold_column(c, drop_spaces=drop) == fold]
        if len(hits) == 1:
            return hits[0]
        if hits:
            return None   # ambiguous: several columns fold to the same name
    return None


def check_columns(spec: SourceSpec, header: list[str], file: Path) -> dict[str, str]:
    """Map each spec column to the file's column; SpecError naming the key when one is missing."""
    assert spec.spec_path is not None
    out: dict[str, str] = {}
    keys = [("record_id", c) for c in spec.record_id_columns] + [
        (f"fields.{n}", m.column) for n, m in spec.fields.items() if m.column is not None]
    for key, col in keys:
        assert col is not None
        found = match_column(col, header)
        if found is None:
            near = difflib.get_close_matches(col, header, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            shown = ", ".join(header[:30]) + (" ..." if len(header) > 30 else "")
            raise SpecError(spec.spec_path, key,
                            f"column {col!r} not in {file.name}{hint}; columns: {shown}")
        out[col] = found
    return out
