"""Search: query forms, fuzzy / phonetic / transliteration, identifiers, filters, roles,
incremental updates, hostile input."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from casegraph.cli.common import UserError
from casegraph.search import service
from casegraph.search.query import parse
from tests.search.conftest import add_person, set_eligibility


def ids(hits):
    return [h.person_id for h in hits]


def top(ws, q, **kw):
    hits = service.search(ws, q, **kw)
    assert hits, f"no hit for {q!r}"
    return hits[0]


# ---- query forms ---------------------------------------------------------------------------

def test_free_text_name_and_year_ranks_the_right_person_first(ro_ws):
    hits = service.search(ro_ws, "maria garcia lopez 1987")
    assert ids(hits)[0] == "P-000001"
    assert "P-000002" in ids(hits)  # another Maria Garcia, lower
    assert hits[0].score > hits[1].score
    h = hits[0]
    assert h.record_count == 2
    assert "<b>Maria</b>" in h.matched["name"] and "<b>Lopez</b>" in h.matched["name"]
    assert h.matched["birth_date"] == "<b>1987</b>-03-04"
    assert "María García" in h.names  # every name variant of every linked record


def test_fielded_a_number_dob_and_name_phrase(ro_ws):
    assert ids(service.search(ro_ws, "a:012345678")) == ["P-000001"]
    assert ids(service.search(ro_ws, "a:A012-345-678")) == ["P-000001"]
    assert ids(service.search(ro_ws, "dob:1987-03-04")) == ["P-000001"]
    assert ids(service.search(ro_ws, "dob:1992")) == ["P-000005"]
    hits = service.search(ro_ws, 'name:"nguyen van"')
    assert ids(hits) == ["P-000005"]
    assert hits[0].matched["name"].startswith("<b>Nguyễn</b> <b>Văn</b>")
    # a phrase is ordered and adjacent: no variant has "an" right before "nguyen"
    assert service.search(ro_ws, 'name:"an nguyen"') == []


def test_fielded_clauses_must_match(ro_ws):
    # both Marias match the name, only one has this A-number
    assert ids(service.search(ro_ws, "maria a:098765432")) == ["P-000002"]
    assert ids(service.search(ro_ws, "maria city:houston")) == ["P-000001"]
    assert ids(service.search(ro_ws, "id:P-000004")) == ["P-000004"]
    assert ids(service.search(ro_ws, "P-000004"))[0] == "P-000004"  # free text too


def test_other_identifiers_free_text(ro_ws):
    assert top(ro_ws, "G1234567").person_id == "P-000001"        # passport
    assert top(ro_ws, "FB12345X").person_id == "P-000003"        # FBI number
    assert top(ro_ws, "D1234-5678").person_id == "P-000004"      # licence
    h = top(ro_ws, "713-555-0101")                               # phone, other format
    assert h.person_id == "P-000001" and "phone" in h.matched
    assert top(ro_ws, "M.Rahman@Example.org").person_id == "P-000003"
    assert top(ro_ws, "passport:g1234567").person_id == "P-000001"


# ---- fuzzy, phonetic, transliteration ------------------------------------------------------

@pytest.mark.parametrize("query,expected", [
    ("grcia lopez", "P-000001"),      # one deletion
    ("maira garcai 1990", "P-000002"),  # transpositions
    ("mohammed rahman", "P-000003"),  # transliteration of Muhammad
    ("mohamed", "P-000003"),
    ("yusuf", "P-000004"),            # Youssef
    ("yousef hadad", "P-000004"),
    ("nguyen", "P-000005"),           # Nguyễn without accents
    ("Nguyễn Văn An", "P-000005"),    # with accents
    ("katherine obrien", "P-000006"),
    ("catherine o'brien", "P-000006"),
])
def test_fuzzy_and_transliteration(ro_ws, query, expected):
    assert top(ro_ws, query).person_id == expected


def test_identifier_one_edit_typo(ro_ws):
    exact = top(ro_ws, "a:012345678")
    typo = top(ro_ws, "a:012345679")      # substitution
    assert typo.person_id == "P-000001" and typo.matched["a_number"] == "<b>012345678</b>"
    assert typo.score < exact.score          # exact identifier outranks a typo
    assert top(ro_ws, "012354678").person_id == "P-000001"   # transposition, free text
    # two edits is too many
    assert service.search(ro_ws, "a:012345699") == []


def test_exact_name_outranks_fuzzy(people_ws):
    add_person(people_ws, "P-000007", [dict(source="eid", record_id="7", kind="person",
                                            given_name="Mario", family_name="Garcia")])
    service.reindex(people_ws)
    hits = service.search(people_ws, "mario garcia")
    assert ids(hits)[0] == "P-000007"


# ---- filters -------------------------------------------------------------------------------

def test_filters(ro_ws):
    assert ids(service.search(ro_ws, "maria", filters={"nationality": "GT"})) == ["P-000002"]
    assert ids(service.search(ro_ws, "maria nat:mx")) == ["P-000001"]
    assert ids(service.search(ro_ws, "maria", filters={"eligible": True})) == ["P-000001"]
    assert ids(service.search(ro_ws, "maria", filters={"eligible": False})) == ["P-000002"]
    assert set(ids(service.search(ro_ws, "eligible:yes"))) == {"P-000001", "P-000003",
                                                                    "P-000005"}
    assert service.search(ro_ws, "maria", filters={"has_open_case": True}) == []
    with pytest.raises(UserError):
        service.search(ro_ws, "maria", filters={"colour": "red"})
    with pytest.raises(UserError):
        service.search(ro_ws, "maria", filters={"nationality": "Mexico"})


def test_latest_eligibility_run_wins(people_ws):
    set_eligibility(people_ws, {"P-000002": True}, run_id="S2")
    service.reindex(people_ws)
    by_id = {h.person_id: h for h in service.search(people_ws, "maria", limit=5)}
    assert by_id["P-000002"].eligible is True
    assert by_id["P-000001"].eligible is None  # not scored in the latest run
    assert ids(service.search(people_ws, "maria", filters={"eligible": True})) == ["P-000002"]


def test_open_case_filter_reads_operational_store(people_ws):
    from sqlalchemy import create_engine, text
    eng = create_engine(people_ws.database_url)
    with eng.begin() as c:
        c.execute(text("create table cases (case_id varchar primary key, person_id varchar, "
                       "status varchar)"))
        c.execute(text("insert into cases values ('C-1', 'P-000002', 'open'), "
                       "('C-2', 'P-000001', 'closed')"))
    eng.dispose()
    service.reindex(people_ws)
    hits = service.search(people_ws, "maria", filters={"has_open_case": True})
    assert ids(hits) == ["P-000002"] and hits[0].open_case
    assert ids(service.search(people_ws, "maria case:no")) == ["P-000001"]


# ---- roles ---------------------------------------------------------------------------------

def test_masked_fields_are_neither_searchable_nor_returned(ro_ws):
    # the SSN-like national id is sensitive
    with pytest.raises(UserError, match="not searchable"):
        service.search(ro_ws, "ssn:123-45-6789", role="analyst")
    assert service.search(ro_ws, "123-45-6789", role="analyst") == []
    assert service.search(ro_ws, "123456789", can_see_sensitive=False) == []
    h = top(ro_ws, "rahman", role="analyst")
    assert "national_id" not in h.identifiers
    assert "123-45-6789" not in json.dumps(h.to_dict())
    # a role with person.read_sensitive finds and sees it
    h = top(ro_ws, "ssn:123-45-6789", role="supervisor")
    assert h.person_id == "P-000003" and h.identifiers["national_id"] == ["123-45-6789"]
    assert top(ro_ws, "123-45-6789", can_see_sensitive=True).person_id == "P-000003"


def test_role_without_search_permission_is_refused(ro_ws):
    with pytest.raises(UserError):
        service.search(ro_ws, "maria", role="logistics")


# ---- incremental update --------------------------------------------------------------------

def test_first_search_builds_index_and_empty_workspace_returns_nothing(ws, people_ws):
    assert not service.get_index(people_ws).exists()
    assert service.search(people_ws, "maria")
    assert service.get_index(people_ws).exists()


def test_no_persons_no_results(ws):
    assert service.search(ws, "maria garcia") == []


def test_incremental_update_adds_changes_and_deletes(people_ws):
    service.reindex(people_ws)
    assert service.search(people_ws, "svetlana") == []
    # a newly ingested record, resolved into a new person
    add_person(people_ws, "P-000100", [dict(source="ice", record_id="100", kind="person",
                                            given_name="Svetlana", family_name="Ivanova",
                                            birth_date=dt.date(1991, 5, 5), nationality="UA",
                                            a_number="555666777")])
    r = service.update_persons(people_ws, ["P-000100"])
    assert r == {"indexed": 1, "deleted": 0, "rebuilt": 0}
    assert ids(service.search(people_ws, "svetlana ivanova")) == ["P-000100"]
    assert ids(service.search(people_ws, "a:555666777")) == ["P-000100"]
    # a second record merged into P-000002 becomes findable under its alias
    people_ws.con.execute("delete from person_records where person_id = 'P-000002'")
    people_ws.con.execute("delete from persons where person_id = 'P-000002'")
    add_person(people_ws, "P-000002", [
        dict(source="eid", record_id="2", kind="person", given_name="Maria",
             family_name="Garcia", birth_date=dt.date(1990, 1, 1), nationality="GT",
             a_number="098765432"),
        dict(source="jail", record_id="77", kind="encounter", full_name="Maria Xochitl Garcia",
             encounter_date=dt.date(2025, 1, 1))])
    # and P-000006 vanished (merged away)
    people_ws.con.execute("delete from persons where person_id = 'P-000006'")
    people_ws.con.execute("delete from person_records where person_id = 'P-000006'")
    r = service.update_persons(people_ws, ["P-000002", "P-000006"])
    assert r == {"indexed": 1, "deleted": 1, "rebuilt": 0}
    h = top(people_ws, "xochitl")
    assert h.person_id == "P-000002" and h.record_count == 2
    assert service.search(people_ws, "catherine obrien") == []
    assert service.get_index(people_ws).count() == 6


def test_reindex_rebuilds(people_ws):
    assert service.reindex(people_ws) == 6
    assert service.reindex(people_ws) == 6
    assert service.get_index(people_ws).count() == 6


# ---- hostile input -------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "'; DROP TABLE persons; --", 'maria" OR 1=1 --', "maria)) AND ((", "name:(maria",
    "\"unbalanced", "a:012345678\"", "\\", "*", "maria*", "maria~1", "+maria -garcia",
    "ü̈̈ñíçødé 名前 محمد", "😀 maria", "maria\x00garcia", "<script>alert(1)</script>",
    "name:\"\"\"", "dob:1987-03-04 OR 1=1", "{\"$ne\": null}", "maria^10", "AND OR NOT",
    "a:012345678 a:012345678 " * 3,
])
def test_hostile_input_returns_results_or_user_error(ro_ws, query):
    try:
        hits = service.search(ro_ws, query)
    except UserError as e:
        assert str(e)
        return
    assert isinstance(hits, list)
    for h in hits:  # highlights never echo markup unescaped
        for snippet in h.matched.values():
            assert "<script" not in snippet


@pytest.mark.parametrize("query", ["", "   ", "(( ))", "x" * 600, "foo:bar", "dob:yesterday",
                                   "a:", "nat:Mexico", "eligible:maybe",
                                   " ".join(["maria"] * 30)])
def test_bad_queries_are_user_errors(ro_ws, query):
    with pytest.raises(UserError):
        service.search(ro_ws, query)


def test_bad_limit(ro_ws):
    with pytest.raises(UserError):
        service.search(ro_ws, "maria", limit=0)


def test_parser_is_engine_neutral():
    pq = parse('maria a:A12345678 dob:1987-03-04 name:"nguyen van" nat:MX,GT eligible:no')
    kinds = [(c.kind, c.value, c.must) for c in pq.clauses]
    assert ("name", "maria", False) in kinds
    assert ("ident", "012345678", True) in kinds  # zero-padded stored form
    assert ("dob", "1987-03-04", True) in kinds
    assert ("phrase", "nguyen van", True) in kinds
    assert pq.filters.nationality == ("MX", "GT") and pq.filters.eligible is False
