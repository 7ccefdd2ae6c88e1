"""Readers: a source file -> an Arrow table of string columns, plus notices.

- **csv**: delimiter sniffed from the header line (``,`` ``;`` tab ``|``) unless the spec
  sets one; UTF-8 (with or without BOM) or UTF-16 with BOM; a file that is not valid UTF-8
  is read as Windows-1252 (Latin-1 when even that fails) with a notice naming the first bad
  byte. Quoted fields may span lines; lines may end in LF, CRLF or a lone CR (old Mac
  exports); Excel's ``sep=;`` first line names the delimiter and is skipped. Rows with the
  wrong number of cells are returned as *malformed* (they go to quarantine), not dropped.
- **parquet**: nested structs are flattened to ``parent.child`` columns; date/time columns
  are reported as already typed so that no strptime format is applied to them.
- **jsonl**: one JSON object per line (a ``.json`` file holding one array of objects
  works too); nested objects flatten to ``parent.child``; lines that are not JSON objects
  are malformed rows.

A list of plain values (parquet list column, JSON array) reads as ``"a; b"`` (how text
sources write aliases); an empty list is missing; lists of objects stay JSON text.

All values come back as strings (or null); typing is the transform's job.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from casegraph.sources.spec import SourceSpec

CSV_DELIMITERS = (",", ";", "\t", "|")
CSV_BLOCK_BYTES = 16 << 20
HEAD_BYTES = 1 << 20


class ReadError(ValueError):
    """A file that cannot be read as its format (named in the message)."""


@dataclass
class Malformed:
    row_number: int | None
    reason: str
    text: str


@dataclass
class ReadResult:
    table: pa.Table                       # string columns, file order
    header: list[str]
    encoding: str = "utf-8"
    notices: list[str] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    typed_temporal: set[str] = field(default_factory=set)  # columns already date/time typed


# ---- encoding -------------------------------------------------------------------------------
def detect_encoding(path: Path, declared: str | None = None) -> tuple[str, str | None]:
    """(Python codec, notice or None) for a text file."""
    if declared:
        return declared, None
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", None
    dec = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(8 << 20)
            try:
                dec.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                bad = offset + e.start
                line = _line_of(path, bad)
                for enc in ("cp1252", "latin-1"):
                    try:
                        with path.open("rb") as fh2:
                            codecs.decode(fh2.read(), enc)
                        break
                    except UnicodeDecodeError:
                        continue
                label = "Windows-1252" if enc == "cp1252" else "Latin-1"
                return enc, (f"{path.name} is not UTF-8 (byte 0x{chunk[e.start]:02x} at line "
                             f"{line}); read as {label}. Set `encoding:` in the spec if that "
                             f"is wrong (e.g. cp1250 for Central European, cp1251 for "
                             f"Cyrillic, cp1256 for Arabic exports).")
            if not chunk:
                return "utf-8", None
            offset += len(chunk)


def _line_of(path: Path, offset: int) -> int:
    with path.open("rb") as fh:
        return fh.read(offset).count(b"\n") + 1


# ---- csv ------------------------------------------------------------------------------------
def _sniff_delimiter(line: str) -> str:
    counts = {d: 0 for d in CSV_DELIMITERS}
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(CSV_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _clean_header(names: list[str], notices: list[str], fname: str) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        n = n.replace("\ufeff", "").strip()
        if not n:
            n = f"column_{i + 1}"
            notices.append(f"{fname}: column {i + 1} has no name; called it {n!r}")
        if n in seen:
            seen[n] += 1
            new = f"{n}_{seen[n]}"
            notices.append(f"{fname}: column name {n!r} repeats; the copy is called {new!r}")
            n = new
        else:
            seen[n] = 1
        out.append(n)
    return out


_EXCEL_SEP = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _csv_head(path: Path, spec: SourceSpec) -> tuple[str, str, list[str], str | None, int]:
    """(encoding, delimiter, header, encoding notice, extra lines to skip before the header).

    Excel's ``sep=;`` first line (written by European exports so that Excel splits the
    columns) names the delimiter and is skipped.
    """
    enc, notice = detect_encoding(path, spec.encoding)
    with path.open("rb") as fh:
        raw = fh.read(HEAD_BYTES)
    if not raw.strip():
        raise ReadError(f"{path}: the file is empty (no header row)")
    text = raw.decode(enc, errors="replace")
    text = text.lstrip("\ufeff")
    # Lines end in \n, \r\n or a lone \r (old Mac / "CSV (Macintosh)" exports).
    if spec.skip_rows:
        parts = _NEWLINE.split(text, spec.skip_rows)
        if len(parts) <= spec.skip_rows:
            raise ReadError(f"{path}: fewer than skip_rows={spec.skip_rows} lines")
        text = parts[-1]
    first_line = _NEWLINE.split(text, 1)[0]
    extra = 0
    sep = _EXCEL_SEP.match(first_line)
    if sep:
        extra = 1
        rest = _NEWLINE.split(text, 1)
        text = rest[1] if len(rest) > 1 else ""
        first_line = _NEWLINE.split(text, 1)[0]
        if not text.strip():
            raise ReadError(f"{path}: only a 'sep=' line; expected a header row after it")
    delim = spec.delimiter or (sep.group(1) if sep else _sniff_delimiter(first_line))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as e:
        raise ReadError(f"{path}: cannot read the header row: {e}") from e
    if not any(h.strip() for h in header):
        raise ReadError(f"{path}: the first row is blank; expected a header row")
    return enc, delim, header, notice, extra


def read_header(path: Path, spec: SourceSpec) -> list[str]:
    """Column names of a file (cheap: reads the head / schema only)."""
    fmt = spec.file_format
    if fmt == "csv":
        _, _, header, _, _ = _csv_head(path, spec)
        return _clean_header(header, [], path.name)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(path)
        except (pa.ArrowInvalid, OSError) as e:
            raise ReadError(f"{path}: not a readable parquet file: {e}") from e
        return _flat_names(schema)
    return _jsonl_keys(path, spec)


def read_csv(path: Path, spec: SourceSpec) -> ReadResult:
    import pyarrow.csv as pcsv

    enc, delim, header, notice, extra = _csv_head(path, spec)
    notices = [notice] if notice else []
    names = _clean_header(header, notices, path.name)
    malformed: list[Malformed] = []

    def on_bad(row: Any) -> str:
        malformed.append(Malformed(row.number, f"malformed row: expected {row.expected_columns} "
                                               f"cells, found {row.actual_columns}", row.text))
        return "skip"

    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=names,
                                          skip_rows=1 + spec.skip_rows + extra,
                                          encoding=enc,
                                          block_size=CSV_BLOCK_BYTES),
            parse_options=pcsv.ParseOptions(delimiter=delim, newlines_in_values=True,
                                            invalid_row_handler=on_bad),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as e:
        msg = str(e)
        if "straddling" in msg or "block" in msg:
            raise ReadError(
                f"{path}: a field runs on for more than {CSV_BLOCK_BYTES >> 20} MiB — most "
                f"likely an unbalanced quote (\"); fix the quoting near the end of the last "
                f"complete row") from e
        raise ReadError(f"{path}: not readable as CSV (delimiter {delim!r}): {msg}") from e
    except UnicodeDecodeError as e:
        raise ReadError(f"{path}: cannot decode as {enc}: {e}") from e
    if table.num_rows == 0 and not malformed:
        notices.append(f"{path.name}: header only, no data rows")
    if malformed:
        notices.append(f"{path.name}: {len(malformed)} malformed row(s) (wrong number of "
                       f"cells) sent to quarantine")
    return ReadResult(table, names, enc, notices, malformed)


def _list_text(v: Any) -> str | None:
    """A list of plain values as ``"a; b"`` (how aliases and charges are written in text
    sources); an empty list is missing; nested lists/objects stay JSON text."""
    if v is None:
        return None
    if isinstance(v, (list, tuple)) and all(
            x is None or isinstance(x, (str, int, float, bool)) for x in v):
        items = [("true" if x else "false") if isinstance(x, bool) else
                 str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)
                 for x in v if x is not None and str(x).strip()]
        return "; ".join(items) if items else None
    return json.dumps(v, ensure_ascii=False, default=str)


# ---- parquet --------------------------------------------------------------------------------
def _flat_names(schema: pa.Schema) -> list[str]:
    out: list[str] = []

    def walk(prefix: str, t: pa.DataType, name: str) -> None:
        full = f"{prefix}{name}"
        if pa.types.is_struct(t):
            for i in range(t.num_fields):
                f = t.field(i)
                walk(full + ".", f.type, f.name)
        else:
            out.append(full)

    for f in schema:
        walk("", f.type, f.name)
    return out


def _flatten(table: pa.Table) -> pa.Table:
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def _to_strings(table: pa.Table) -> tuple[pa.Table, set[str]]:
    """Every column as strings; the names of date/time columns."""
    cols, temporal = [], set()
    for name in table.column_names:
        col = table.column(name)
        t = col.type
        if pa.types.is_dictionary(t):
            col = col.cast(t.value_type)
            t = t.value_type
        if pa.types.is_date(t) or pa.types.is_timestamp(t):
            temporal.add(name)
            if pa.types.is_date64(t):
                col = col.cast(pa.date32())
            if pa.types.is_timestamp(t) and t.tz is not None:
                col = col.cast(pa.timestamp(t.unit))
            col = pc.strftime(col, "%Y-%m-%d" if pa.types.is_date(t) else "%Y-%m-%dT%H:%M:%S")
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            col = col.cast(pa.string())
        elif pa.types.is_floating(t):
            # 12345678.0 -> "12345678" (an id stored as float), 1.5 -> "1.5"
            as_int = pc.equal(pc.floor(col), col)
            ints = pc.cast(pc.cast(col, pa.int64(), safe=False), pa.string())
            col = pc.if_else(pc.fill_null(as_int, False), ints, pc.cast(col, pa.string()))
        elif (pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t)
              or pa.types.is_time(t)):
            col = col.cast(pa.string())
        elif pa.types.is_null(t):
            col = pa.nulls(len(col), pa.string())
        else:  # lists of values: "a; b"; other lists, maps, binary: JSON text
            col = pa.array([_list_text(v) for v in col.to_pylist()], pa.string())
        cols.append(col)
    return pa.table(cols, names=table.column_names), temporal


def read_parquet(path: Path, spec: SourceSpec) -> ReadResult:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise ReadError(f"{path}: not a readable parquet file: {e}") from e
    table = _flatten(table)
    table, temporal = _to_strings(table)
    notices = [f"{path.name}: no data rows"] if table.num_rows == 0 else []
    return ReadResult(table, table.column_names, "binary", notices, [], temporal)


# ---- jsonl ----------------------------------------------------------------------------------
def _flatten_obj(obj: dict[str, Any], prefix: str = "", out: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    out = {} if out is None else out
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            _flatten_obj(v, key + ".", out)
        elif isinstance(v, (list, tuple)):
            out[key] = _list_text(v)
        elif isinstance(v, bool):
            out[key] = "true" if v else "false"
        elif isinstance(v, float) and v.is_integer():
            out[key] = str(int(v))
        else:
            out[key] = None if v is None else str(v)
    return out


def _json_lines(path: Path, enc: str) -> tuple[list[dict[str, Any]], list[Malformed]]:
    rows: list[dict[str, Any]] = []
    bad: list[Malformed] = []
    with path.open(encoding=enc, newline="") as fh:
        text_head = fh.read(1)
        fh.seek(0)
        body = fh.read()
    stripped = body.lstrip("\ufeff \r\n\t")
    if stripped.startswith("["):  # one JSON array
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise ReadError(f"{path}: not valid JSON: {e}") from e
        for i, obj in enumerate(data, 1):
            if isinstance(obj, dict):
                rows.append(_flatten_obj(obj))
            else:
                bad.append(Malformed(i, "not a JSON object", json.dumps(obj)[:1000]))
        return rows, bad
    del text_head
    for i, line in enumerate(body.lstrip("\ufeff").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            bad.append(Malformed(i, f"malformed row: not valid JSON ({e.msg})", line[:4000]))
            continue
        if not isinstance(obj, dict):
            bad.append(Malformed(i, "malformed row: not a JSON object", line[:4000]))
            continue
        rows.append(_flatten_obj(obj))
    return rows, bad


def _jsonl_keys(path: Path, spec: SourceSpec) -> list[str]:
    enc, _ = detect_encoding(path, spec.encoding)
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: the file is empty")
    rows, _ = _json_lines(path, enc)
    keys: dict[str, None] = {}
    for r in rows:
        for k in r:
            keys.setdefault(k, None)
    return list(keys)


def read_jsonl(path: Path, spec: SourceSpec) -> ReadResult:
    enc, notice = detect_encoding(path, spec.encoding)
    notices = [notice] if notice else []
    if path.stat().st_size == 0:
        raise ReadError(f"{path}: the file is empty")
    table = None
    malformed: list[Malformed] = []
    if enc in ("utf-8", "utf-8-sig"):
        import pyarrow.json as pj

        try:
            t = pj.read_json(path)
            table, _ = _to_strings(_flatten(t))
            # a list/object column arrives as JSON text above; nested objects are flattened
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            table = None
    if table is None:
        rows, malformed = _json_lines(path, enc)
        keys: dict[str, None] = {}
        for r in rows:
            for k in r:
                keys.setdefault(k, None)
        table = pa.table({k: pa.array([r.get(k) for r in rows], pa.string()) for k in keys})
    if table.num_rows == 0 and not malformed:
        notices.append(f"{path.name}: no data rows")
    if malformed:
        notices.append(f"{path.name}: {len(malformed)} line(s) that are not JSON objects "
                       f"sent to quarantine")
    return ReadResult(table, table.column_names, enc, notices, malformed)


def read_file(path: Path, spec: SourceSpec) -> ReadResult:
    fmt = spec.file_format
    if fmt == "csv":
        return read_csv(path, spec)
    if fmt == "parquet":
        return read_parquet(path, spec)
    return read_jsonl(path, spec)
