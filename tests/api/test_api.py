"""The HTTP API end to end: workflow, profile, exports, audit, users, retention, errors."""

from __future__ import annotations

import sys
import types

import pytest

from casegraph.store.testing import PASSWORD, bearer


@pytest.fixture()
def eligible_policy(monkeypatch):
    from dataclasses import dataclass

    @dataclass
    class PE:
        eligible: bool = True
        results: tuple = ()
        flags: tuple = ()

    mod = types.ModuleType("casegraph.policy.score")
    mod.evaluate_person = lambda ws, pid, as_of: PE()
    monkeypatch.setitem(sys.modules, "casegraph.policy.score", mod)


def test_health_and_openapi(client) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/leads/{lead_id}/approve" in paths and "/api/persons/{person_id}" in paths


def test_login_errors_are_json(client) -> None:
    r = client.post("/api/auth/login", json={"username": "sue", "password": "nope"})
    assert r.status_code == 401
    assert r.json() == {"error": "unauthenticated", "message": "wrong user name or password"}
    r = client.post("/api/auth/login", json={"username": "sue"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert "password" in r.json()["message"]
    r = client.post("/api/auth/login", content=b"not json",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_lead_to_case_over_http(client, tokens, eligible_policy) -> None:
    sup, off, ana = bearer(tokens["supervisor"]), bearer(tokens["officer"]), \
        bearer(tokens["analyst"])
    r = client.get("/api/leads", params={"sort": "priority_score", "limit": 2}, headers=ana)
    body = r.json()
    assert r.status_code == 200 and body["total"] == 3 and len(body["items"]) == 2
    assert body["items"][0]["full_name"] == "Maria Garcia"
    r = client.post("/api/leads/L-000001/approve", json={"reason": "ok"}, headers=ana)
    assert r.status_code == 403
    r = client.post("/api/leads/L-000002/approve", json={"reason": "looks good"}, headers=sup)
    assert r.status_code == 409 and r.json()["error"] == "acknowledgement_required"
    r = client.post("/api/leads/L-000002/approve",
                    json={"reason": "looks good", "acknowledge": ["sensitive_site"]}, headers=sup)
    assert r.status_code == 200, r.text
    case_id = r.json()["case_id"]
    r = client.post("/api/leads/L-000002/reject", json={"reason": "too late"}, headers=sup)
    assert r.status_code == 409
    officers = client.get("/api/officers", headers=sup).json()
    assert {"username": "otto"} in officers
    r = client.post(f"/api/cases/{case_id}/assign", json={"officer": "otto"}, headers=sup)
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    assert client.get("/api/cases", headers=off).json()["total"] == 1
    assert client.get("/api/cases", headers=bearer(tokens["olga"])).json()["total"] == 0
    assert client.get(f"/api/cases/{case_id}", headers=bearer(tokens["olga"])).status_code == 404
    r = client.post(f"/api/cases/{case_id}/outcome",
                    json={"outcome": "in_custody", "note": "arrested at home"}, headers=off)
    assert r.status_code == 200 and r.json()["status"] == "in_custody"
    r = client.post(f"/api/cases/{case_id}/outcome", json={"outcome": "teleported"}, headers=off)
    assert r.status_code == 422
    r = client.post(f"/api/cases/{case_id}/notes", json={"note": "transferred"}, headers=off)
    assert [e["event"] for e in r.json()["events"]][-1] == "note"
    # the officer may open the profile of the person on their case, with a purpose
    r = client.get("/api/persons/P-000002", headers={**off, "X-Purpose-Of-Use": case_id})
    assert r.status_code == 200
    r = client.get("/api/persons/P-000001", params={"purpose": case_id}, headers=off)
    assert r.status_code == 404
    r = client.get("/api/leads", params={"status": "in_custody"}, headers=sup)
    assert [i["lead_id"] for i in r.json()["items"]] == ["L-000002"]


def test_profile_and_search(client, tokens) -> None:
    ana = bearer(tokens["analyst"])
    r = client.get("/api/persons/P-000001", headers=ana)
    assert r.status_code == 400 and r.json()["error"] == "purpose_required"
    r = client.get("/api/persons/P-000001", params={"purpose": "short"}, headers=ana)
    assert r.status_code == 400
    r = client.get("/api/persons/P-000001", params={"purpose": "C-000001"}, headers=ana)
    p = r.json()
    assert r.status_code == 200 and p["canonical"]["full_name"]["record_key"] == "eoir:1"
    assert p["canonical"]["national_id"]["value"] == "[masked]"
    sup = client.get("/api/persons/P-000001", params={"purpose": "C-000001"},
                     headers=bearer(tokens["supervisor"])).json()
    assert sup["canonical"]["national_id"]["value"] == "123-45-6789"
    assert p["gates"][0]["evidence"] == ["eoir:1"]
    assert client.get("/api/persons/P-404", params={"purpose": "C-000001"},
                      headers=ana).status_code == 404
    r = client.get("/api/search", params={"q": "garcia"}, headers=ana)
    assert [h["person_id"] for h in r.json()["items"]] == ["P-000001"]
    r = client.get("/api/search", params={"q": "A-012345678"}, headers=ana)
    assert r.status_code == 400
    r = client.get("/api/search", params={"q": "012345678"},
                   headers={**ana, "X-Purpose-Of-Use": "C-000001"})
    assert [h["person_id"] for h in r.json()["items"]] == ["P-000001"]


def test_export_needs_purpose_and_is_formula_safe(client, tokens) -> None:
    ana = bearer(tokens["analyst"])
    assert client.get("/api/exports/leads.csv", headers=ana).status_code == 400
    r = client.get("/api/exports/leads.csv", params={"purpose": "C-000001"}, headers=ana)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("lead_id,person_id") and len(lines) == 4
    assert client.get("/api/exports/leads.csv", params={"purpose": "C-000001"},
                      headers=bearer(tokens["officer"])).status_code == 403


def test_audit_endpoints(client, tokens) -> None:
    aud = bearer(tokens["auditor"])
    client.get("/api/persons/P-000001", params={"purpose": "C-000001"},
               headers=bearer(tokens["analyst"]))
    r = client.get("/api/audit/events", params={"person": "P-000001", "action": "person.read"},
                   headers=aud)
    items = r.json()["items"]
    assert r.status_code == 200 and items[0]["actor"] == "ana"
    assert items[0]["purpose"] == "C-000001"
    r = client.get("/api/audit/events", params={"user": "ana", "limit": 1}, headers=aud)
    assert r.json()["limit"] == 1 and r.json()["total"] >= 2
    r = client.get("/api/audit/events", params={"since": "yesterday"}, headers=aud)
    assert r.status_code == 422
    r = client.get("/api/audit/verify", headers=aud)
    assert r.json()["ok"] is True
    assert client.get("/api/audit/events", headers=bearer(tokens["admin"])).status_code == 403


def test_user_admin(client, tokens) -> None:
    adm = bearer(tokens["admin"])
    r = client.post("/api/users", json={"username": "newbie", "role": "analyst"}, headers=adm)
    assert r.status_code == 201
    pw = r.json()["generated_password"]
    assert pw
    assert client.post("/api/auth/login", json={"username": "newbie", "password": pw}
                       ).status_code == 200
    r = client.post("/api/users", json={"username": "newbie", "role": "analyst"}, headers=adm)
    assert r.status_code == 422 and "already exists" in r.json()["message"]
    r = client.post("/api/users/newbie/role", json={"role": "auditor"}, headers=adm)
    assert r.json()["role"] == "auditor"
    r = client.post("/api/users/newbie/disable", headers=adm)
    assert r.json()["disabled"] is True
    assert client.post("/api/users/ghost/disable", headers=adm).status_code == 404
    names = [u["username"] for u in client.get("/api/users", headers=adm).json()]
    assert "newbie" in names
    assert all("password_hash" not in u for u in client.get("/api/users", headers=adm).json())
    r = client.post("/api/auth/login", json={"username": "newbie", "password": pw})
    assert r.status_code == 401 and "disabled" in r.json()["message"]


def test_retention_over_http(client, tokens, gws) -> None:
    gws.set_section("retention", {"sources": {"cbp": 1}})
    r = client.post("/api/retention/apply", json={"dry_run": True}, headers=bearer(tokens["admin"]))
    assert r.status_code == 200 and r.json()["purged"] == {"cbp": 1}


def test_reviews_and_departures(client, tokens, monkeypatch) -> None:
    ana = bearer(tokens["analyst"])
    calls = []
    mod = types.ModuleType("casegraph.resolve.review")
    mod.record_decision = lambda ws, rid, d, u, reason: calls.append((rid, d, u))
    monkeypatch.setitem(sys.modules, "casegraph.resolve.review", mod)
    ex = types.ModuleType("casegraph.resolve.explain")
    ex.explain_pair = lambda ws, a, b: {"fields": []}
    monkeypatch.setitem(sys.modules, "casegraph.resolve.explain", ex)
    assert client.get("/api/reviews", headers=ana).json()["total"] == 1
    item = client.get("/api/reviews/R-1", headers=ana).json()
    assert item["left"]["record_key"] == "eoir:2"
    r = client.post("/api/reviews/R-1/decision", json={"decision": "same", "reason": "same A#"},
                    headers=ana)
    assert r.status_code == 200 and calls == [("R-1", "same", "ana")]
    r = client.get("/api/departures", params={"status": "verified_departed"},
                   headers=bearer(tokens["logistics"]))
    assert r.json()["total"] == 1
    assert client.get("/api/departures/summary", headers=ana).json()["totals"] == {
        "verified_departed": 1}


def test_pagination_bounds(client, tokens) -> None:
    sup = bearer(tokens["supervisor"])
    assert client.get("/api/leads", params={"limit": 0}, headers=sup).status_code == 422
    assert client.get("/api/leads", params={"limit": 501}, headers=sup).status_code == 422
    assert client.get("/api/leads", params={"offset": -1}, headers=sup).status_code == 422
    r = client.get("/api/leads", params={"offset": 100}, headers=sup)
    assert r.json()["items"] == [] and r.json()["total"] == 3


def test_password_never_in_audit(client, tokens, gws) -> None:
    from casegraph.governance.audit import list_events

    client.post("/api/auth/login", json={"username": "sue", "password": "wrong-password-x"})
    evs, _ = list_events(gws, limit=1000)
    blob = str([e.as_dict() for e in evs])
    assert PASSWORD not in blob and "wrong-password-x" not in blob


def test_logistics_reads(client, tokens) -> None:
    lou = bearer(tokens["logistics"])
    r = client.get("/api/logistics/board", headers=lou)
    assert r.status_code == 200 and "facilities" in r.json()
    assert client.get("/api/logistics/plans", headers=lou).json() == []
    assert client.get("/api/logistics/plans/TP-1", headers=lou).status_code == 404
    assert client.get("/api/logistics/board", headers=bearer(tokens["analyst"])).status_code == 403


def test_openapi_declares_auth_and_permissions(client) -> None:
    spec = client.get("/api/openapi.json").json()
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "cookie"}
    op = spec["paths"]["/api/audit/events"]["get"]
    assert op["x-permission"] == "audit.read" and "auditor" in op["description"]
    assert "security" not in spec["paths"]["/api/auth/login"]["post"]


def test_docs_page_works_offline(client) -> None:
    r = client.get("/api/docs")
    assert r.status_code == 200 and "/api/openapi.json" in r.text
    assert "http://" not in r.text and "https://" not in r.text  # no CDN


def test_huge_paging_numbers_are_refused_not_500(client, tokens) -> None:
    big = str(2**70)
    assert client.get("/api/audit/events", params={"offset": big},
                      headers=bearer(tokens["auditor"])).status_code == 422
    assert client.get("/api/leads", params={"offset": big},
                      headers=bearer(tokens["analyst"])).status_code == 422


def test_services_clamp_paging(gws) -> None:
    from casegraph.governance.audit import list_events

    assert list_events(gws, offset=2**70, limit=2**70) == ([], 0)
