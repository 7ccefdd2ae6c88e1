"""Spec validation: a bad spec fails before anything is written, naming file, key, problem."""

from __future__ import annotations

import pytest

from casegraph.sources.ingest import ingest_specs
from casegraph.sources.spec import SpecError, load_spec
from tests.sources.conftest import person_spec

CSV = "id,name,dob,when\n1,\"DOE, JANE\",01/02/1980,2026-01-01\n"


def _err(make_source, spec, data=CSV) -> SpecError:
    p = make_source(spec, data)
    with pytest.raises(SpecError) as ei:
        from casegraph.sources.ingest import validate_specs

        validate_specs([p])
    assert str(p) in str(ei.value)
    return ei.value


def test_valid_spec_loads(make_source):
    p = make_source({**person_spec(full_name="name",
                                   birth_date={"column": "dob", "format": "%m/%d/%Y"})}, CSV)
    spec = load_spec(p)
    assert spec.file_format == "csv" and spec.files[0].name == "src.csv"
    assert spec.fields["full_name"].column == "name"
    assert spec.fields["birth_date"].formats == ["%m/%d/%Y"]


def test_unknown_kind(make_source):
    e = _err(make_source, {**person_spec(), "kind": "persn"})
    assert e.key == "kind" and "unknown kind 'persn'" in e.problem and "person" in e.problem


def test_unknown_field_for_kind(make_source):
    e = _err(make_source, person_spec(full_name="name", order_date="when"))
    assert e.key == "fields.order_date" and "unknown canonical field" in e.problem
    assert "'person'" in e.problem


def test_missing_column(make_source):
    e = _err(make_source, person_spec(full_name="NAME_X"))
    assert e.key == "fields.full_name" and "'NAME_X' not in src.csv" in e.problem


def test_missing_record_id_column(make_source):
    e = _err(make_source, {**person_spec(), "record_id": "booking"})
    assert e.key == "record_id" and "'booking'" in e.problem


def test_column_match_is_case_insensitive_when_unique(make_source):
    from casegraph.sources.ingest import validate_specs

    p = make_source(person_spec(full_name="NAME"), CSV)
    [(_spec, colmap)] = validate_specs([p])
    assert colmap["NAME"] == "name"


@pytest.mark.parametrize("fmt, words", [
    ("%Q-%m", "bad date format '%Q-%m'"),
    ("YYYY-MM-DD", "no strptime directives"),
])
def test_bad_date_format(make_source, fmt, words):
    e = _err(make_source, person_spec(full_name="name",
                                      birth_date={"column": "dob", "format": fmt}))
    assert e.key == "fields.birth_date.format" and words in e.problem


def test_format_on_non_date_field(make_source):
    e = _err(make_source, person_spec(full_name={"column": "name", "format": "%Y"}))
    assert e.key == "fields.full_name.format"


def test_missing_required_key(make_source):
    spec = person_spec()
    del spec["record_id"]
    e = _err(make_source, spec)
    assert e.key == "record_id" and "missing" in e.problem


def test_unknown_top_level_key(make_source):
    e = _err(make_source, {**person_spec(), "feilds": {}})
    assert e.key == "feilds" and "unknown key" in e.problem


def test_column_and_value_both(make_source):
    e = _err(make_source, person_spec(full_name={"column": "name", "value": "x"}))
    assert e.key == "fields.full_name"


def test_required_fact_not_mapped(make_source):
    e = _err(make_source, {"source": "o", "kind": "removal_order", "record_id": "id",
                           "fields": {"full_name": "name"}})
    assert e.key == "fields" and "order_date" in e.problem


def test_bad_constant(make_source):
    e = _err(make_source, {"source": "o", "kind": "removal_order", "record_id": "id",
                           "fields": {"order_date": "when", "order_type": {"value": "banish"}}})
    assert e.key == "fields.order_type.value" and "not one of" in e.problem


def test_data_file_missing(make_source):
    p = make_source({**person_spec(), "path": "nope.csv"}, None)
    with pytest.raises(SpecError) as ei:
        load_spec(p)
    assert ei.value.key == "path" and "not found" in ei.value.problem


def test_unknown_extension_needs_format(make_source):
    p = make_source(person_spec(), CSV, ext="dat")
    with pytest.raises(SpecError) as ei:
        load_spec(p)
    assert ei.value.key == "format"
    p = make_source({**person_spec(), "format": "csv"}, CSV, ext="dat")
    assert load_spec(p).file_format == "csv"


def test_not_yaml_mapping(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("- a\n- b\n")
    with pytest.raises(SpecError, match="top level must be a mapping"):
        load_spec(p)


def test_bad_spec_writes_nothing(ws, make_source):
    good = make_source(person_spec(), CSV, name="good")
    bad = make_source({**person_spec(full_name="missing_col"), "source": "bad"}, CSV, name="bad")
    with pytest.raises(SpecError):
        ingest_specs(ws, [good, bad], progress=False)
    assert not ws.has_table("records") or ws.query("select count(*) n from records")[0]["n"] == 0
    assert not ws.has_table("batches")


def test_same_source_twice_is_an_error(make_source):
    from casegraph.sources.ingest import validate_specs

    a = make_source(person_spec(), CSV, name="a")
    b = make_source(person_spec(), CSV, name="b")
    with pytest.raises(SpecError, match="also the source of"):
        validate_specs([a, b])
