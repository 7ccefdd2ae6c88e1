"""The web UI: server-rendered pages on the same FastAPI app as the HTTP API.

``router`` is included by ``casegraph.api.app.create_app``. Every page resolves the
logged-in user from the session cookie, checks the permission matrix of
``governance.permissions``, and goes through the same services as the API (see
``backend.py``); every read of a person, lead or case and every decision is audited.
All assets (CSS, JS, map geometry) are served from ``static/``: nothing loads from the
internet.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from casegraph.web import backend, charts, data, geo

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))

router = APIRouter(include_in_schema=False)

#: (path, label, permission) of the navigation bar; shown only when the role holds it
NAV = (
    ("/ui/search", "Search", "search.persons"),
    ("/ui/leads", "Leads", "leads.read"),
    ("/ui/cases", "Cases", "cases.read"),
    ("/ui/review", "Identity review", "review.read"),
    ("/ui/departures", "Departures", "departures.read"),
    ("/ui/logistics", "Logistics", "logistics.read"),
    ("/ui/audit", "Audit", "audit.read"),
)
HOME_ORDER = ("/ui/search", "/ui/cases", "/ui/leads", "/ui/logistics", "/ui/audit",
              "/ui/departures", "/ui/review")


# ---- helpers ----------------------------------------------------------------------------------
def _gate(request: Request, permission: str) -> tuple[Any, Response | None]:
    """(principal, None) when the user is logged in and holds ``permission``; else
    (principal or None, the response to send: the login page or a 403 page)."""
    p = backend.principal(request)
    if p is None:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            nxt = request.url.path.rsplit("/", 2)[0] if "/" in request.url.path else "/ui/"
        return None, _redirect("/ui/login?" + urlencode({"next": nxt}))
    return p, _need(request, p, permission)


def _nav(p: backend.Principal | None, current: str) -> list[dict[str, Any]]:
    return [{"href": h, "label": lbl, "current": current.startswith(h)}
            for h, lbl, perm in NAV if backend.allowed(p, perm)]


def render(request: Request, template: str, p: backend.Principal | None, status: int = 200,
           **ctx: Any) -> HTMLResponse:
    ctx.update(request=request, user=p, nav=_nav(p, request.url.path),
               csrf=p.csrf_token if p else "", can=lambda perm: backend.allowed(p, perm),
               static=lambda name: f"/ui/static/{name}")
    return templates.TemplateResponse(request, template, ctx, status_code=status)


def _forbidden(request: Request, p: backend.Principal, message: str) -> HTMLResponse:
    return render(request, "error.html", p, status=403, title="Not allowed", message=message)


def _need(request: Request, p: backend.Principal, permission: str) -> HTMLResponse | None:
    if backend.allowed(p, permission):
        return None
    ws = backend.workspace(request)
    backend.audit(ws, p, "web.denied", [request.url.path], result="denied",
                  detail={"permission": permission})
    return _forbidden(request, p, f"Your role ({p.role}) may not "
                      f"{backend.perms.PERMISSIONS.get(permission, permission)}.")


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {}
    for k, v in form.multi_items():
        if k in out:
            out[k] = out[k] if isinstance(out[k], list) else [out[k]]
            out[k].append(v)
        else:
            out[k] = v
    return out


def _check_csrf(p: backend.Principal, form: dict[str, Any]) -> None:
    if not backend.csrf_ok(p, form.get("csrf_token")):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")


def _redirect(url: str, **msg: str) -> RedirectResponse:
    if msg:
        url += ("&" if "?" in url else "?") + urlencode(msg)
    return RedirectResponse(url, status_code=303)


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)
                   ).lower()


def highlight(value: Any, query: str) -> Markup:
    """``value`` with every query token marked (case- and accent-insensitive)."""
    text = "" if value is None else str(value)
    tokens = [t for t in re.split(r"[\s,;]+", _fold(query or "")) if len(t) >= 2]
    if not text or not tokens:
        return Markup(escape(text))
    folded = _fold(text)
    if len(folded) != len(text):  # unusual composed characters: mark nothing, stay correct
        return Markup(escape(text))
    spans: list[tuple[int, int]] = []
    for t in tokens:
        for m in re.finditer(re.escape(t), folded):
            spans.append((m.start(), m.end()))
    if not spans:
        return Markup(escape(text))
    spans.sort()
    merged = [list(spans[0])]
    for a, b in spans[1:]:
        if a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, pos = [], 0
    for a, b in merged:
        out.append(str(escape(text[pos:a])))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


templates.env.filters["hl"] = highlight
templates.env.filters["pct"] = lambda v: "—" if v is None else f"{float(v):.0%}"
templates.env.filters["num"] = lambda v, d=2: "—" if v is None else f"{float(v):.{d}f}"
templates.env.filters["human"] = lambda s: "" if s is None else str(s).replace("_", " ")
templates.env.filters["ts"] = lambda s: "" if not s else str(s)[:19].replace("T", " ")
templates.env.globals["geo_states"] = geo.state_paths
templates.env.globals["project"] = geo.project
templates.env.globals["meter"] = charts.meter


# ---- static assets ----------------------------------------------------------------------------
@router.get("/ui/static/{path:path}")
def static(path: str) -> Response:
    target = (STATIC / path).resolve()
    if not str(target).startswith(str(STATIC.resolve()) + "/") or not target.is_file():
        raise HTTPException(404, "no such asset")
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media, headers={"Cache-Control": "max-age=3600"})


# ---- login / logout ---------------------------------------------------------------------------
@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=303)


@router.get("/ui")
@router.get("/ui/")
def home(request: Request) -> Response:
    p = backend.principal(request)
    if p is None:
        return _redirect("/ui/login")
    allowed = {h for h, _, perm in NAV if backend.allowed(p, perm)}
    for h in HOME_ORDER:
        if h in allowed:
            return _redirect(h)
    return render(request, "error.html", p, title="Welcome",
                  message=f"Your role ({p.role}) has no pages in the web UI; use the command "
                          "line (`casegraph users`, `casegraph retention`, `casegraph audit "
                          "verify`).")


def _safe_next(nxt: str | None) -> str:
    if nxt and nxt.startswith("/ui/") and not nxt.startswith("//") and "\\" not in nxt:
        return nxt
    return "/ui/"


@router.get("/ui/login")
def login_page(request: Request, next: str | None = None, msg: str | None = None) -> Response:
    return render(request, "login.html", backend.principal(request), next=_safe_next(next),
                  info=msg)


@router.post("/ui/login")
async def login_submit(request: Request) -> Response:
    form = await _form(request)
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    nxt = _safe_next(form.get("next"))
    if not username or not password:
        return render(request, "login.html", None, status=400, next=nxt, username=username,
                      error="Enter your user name and password.")
    try:
        token, p = backend.login(request, username, password)
    except backend.AuthError as e:
        status = 423 if e.reason == "locked" else 403 if e.reason == "disabled" else 401
        return render(request, "login.html", None, status=status, next=nxt, username=username,
                      error=str(e)[:1].upper() + str(e)[1:] + ".", reason=e.reason)
    resp = _redirect(nxt)
    secure = backend.secure_cookies(request)
    resp.set_cookie(backend.session_cookie_name(), token, httponly=True, secure=secure,
                    samesite="strict", path="/")
    resp.set_cookie(backend.csrf_cookie_name(), p.csrf_token or "", httponly=False,
                    secure=secure, samesite="strict", path="/")
    return resp


@router.post("/ui/logout")
async def logout(request: Request) -> Response:
    p = backend.principal(request)
    if p is not None:
        form = await _form(request)
        _check_csrf(p, form)
        backend.logout(request)
    resp = _redirect("/ui/login", msg="You are logged out.")
    resp.delete_cookie(backend.session_cookie_name(), path="/")
    resp.delete_cookie(backend.csrf_cookie_name(), path="/")
    return resp


# ---- search -----------------------------------------------------------------------------------
SEARCH_FILTERS = ("nationality", "sex", "born_from", "born_to")


def _search_filters(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in SEARCH_FILTERS:
        v = (params.get(k) or "").strip()
        if v:
            out[k] = v
    return out


def _fallback_search(ws: Any, q: str, filters: dict[str, Any], limit: int) -> list[dict]:
    """Until the search room's index exists: a plain DuckDB scan of ``persons``."""
    if not data.has(ws, "persons"):
        return []
    cols = data.columns(ws, "persons")
    where, params = [], []
    for tok in [t for t in re.split(r"\s+", q.strip()) if t][:6]:
        like = f"%{tok.lower()}%"
        alts = [f"lower(cast({c} as varchar)) like ?" for c in
                ("full_name", "name_aliases", "a_number", "passport_number", "fbi_number")
                if c in cols]
        where.append("(" + " or ".join(alts) + ")")
        params += [like] * len(alts)
    sql = "select person_id from persons"
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by person_id limit ?"
    return [{"person_id": r["person_id"], "score": None} for r in
            data.rows(ws, sql, [*params, limit * 4])]


def _apply_filters(people: list[dict], filters: dict[str, Any]) -> list[dict]:
    out = []
    for p in people:
        if filters.get("nationality") and (p.get("nationality") or "") != filters["nationality"]:
            continue
        if filters.get("sex") and (p.get("sex") or "") != filters["sex"]:
            continue
        bd = p.get("birth_date")
        year = bd.year if isinstance(bd, dt.date) else None
        try:
            if filters.get("born_from") and (year is None or year < int(filters["born_from"])):
                continue
            if filters.get("born_to") and (year is None or year > int(filters["born_to"])):
                continue
        except ValueError:
            continue
        out.append(p)
    return out


@router.get("/ui/search")
def search_page(request: Request) -> Response:
    p, r = _gate(request, "search.persons")
    if r is not None:
        return r
    ws = backend.workspace(request)
    params = dict(request.query_params)
    nats = []
    if data.has(ws, "persons"):
        nats = [r["nationality"] for r in data.rows(
            ws, "select distinct nationality from persons where nationality is not null "
                "order by 1")]
    ctx = _search_ctx(request, p, params) if params.get("q") else {}
    return render(request, "search.html", p, q=params.get("q", ""), params=params,
                  nationalities=nats, purpose_rule=backend.purpose_rule(ws), **ctx)


@router.get("/ui/search/results")
def search_results(request: Request) -> Response:
    p = backend.principal(request)
    if p is None:
        return HTMLResponse("<p class='msg error'>Your session ended: log in again.</p>",
                            status_code=401)
    if not backend.allowed(p, "search.persons"):
        return HTMLResponse("<p class='msg error'>Your role may not search people.</p>",
                            status_code=403)
    ctx = _search_ctx(request, p, dict(request.query_params))
    return render(request, "_search_results.html", p, **ctx)


def _search_ctx(request: Request, p: backend.Principal, params: dict[str, Any]
                ) -> dict[str, Any]:
    ws = backend.workspace(request)
    q = (params.get("q") or "").strip()[:200]
    filters = _search_filters(params)
    ctx: dict[str, Any] = {"q": q, "hits": [], "error": None, "missing": None,
                           "engine": None}
    if len(q) < 2:
        ctx["hint"] = "Type at least two characters: a name, an A-number, a passport number."
        return ctx
    purpose = None
    if backend.is_identifier_query(q):
        try:
            purpose = backend.check_purpose(ws, params.get("purpose"), "a search by identifier")
        except backend.PurposeRequired as e:
            ctx["error"] = str(e)[:1].upper() + str(e)[1:] + "."
            ctx["needs_purpose"] = True
            backend.audit(ws, p, "search", [], result="denied",
                          detail={"query": q, "reason": "purpose required"})
            return ctx
    hits = backend.search(ws, p, q, filters=filters, limit=25)
    ctx["engine"] = "index"
    if hits is None:
        hits = _fallback_search(ws, q, filters, 25)
        ctx["engine"] = "table scan (search index not built)"
    ids = [h.get("person_id") for h in hits if h.get("person_id")]
    people = {}
    if ids and data.has(ws, "persons"):
        for r in data.rows(ws, "select * from persons where person_id in (select unnest(?))",
                           [ids]):
            people[r["person_id"]] = r
    leads = {}
    if ids and data.has(ws, "leads"):
        for r in data.lead_rows(ws):
            leads.setdefault(r["person_id"], r)
    rows = []
    for h in hits:
        pid = h.get("person_id")
        person = {**h, **people.get(pid, {})}
        person["lead"] = leads.get(pid)
        person["matched"] = h.get("matched_fields") or h.get("matched") or []
        rows.append(person)
    rows = _apply_filters(rows, filters)[:25]
    ctx["hits"] = rows
    if not rows and not data.has(ws, "persons"):
        ctx["missing"] = data.empty_hint(["persons"])
    backend.audit(ws, p, "search", [r["person_id"] for r in rows[:25]], purpose=purpose,
                  detail={"query": q, "filters": filters, "results": len(rows)})
    return ctx


# ---- person profile ---------------------------------------------------------------------------
def _officer_may_see(ws: Any, p: backend.Principal, person_id: str) -> bool:
    if backend.allowed(p, "cases.read_all") or p.role != "officer":
        return True
    try:
        from casegraph.cases import service  # type: ignore[attr-defined]

        fn = getattr(service, "officer_can_see_person", None)
        if fn is not None:
            return bool(fn(ws, p.username, person_id))
    except ImportError:
        pass
    return any(c.get("person_id") == person_id for c in _cases_for(ws, p))


@router.get("/ui/persons/{person_id}")
def person_page(request: Request, person_id: str, purpose: str | None = None) -> Response:
    p, r = _gate(request, "person.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    if not _officer_may_see(ws, p, person_id):
        backend.audit(ws, p, "person.read", [person_id], purpose=purpose, result="denied",
                      detail={"reason": "not a person of the officer's cases"})
        return _forbidden(request, p, "Officers can open only the persons of cases assigned "
                          "to them.")
    try:
        clean = backend.check_purpose(ws, purpose, "opening a person profile")
    except backend.PurposeRequired as e:
        return render(request, "purpose.html", p, status=200 if purpose is None else 400,
                      person_id=person_id, error=None if purpose is None else str(e),
                      purpose=purpose or "", rule=backend.purpose_rule(ws))
    person = data.person(ws, person_id)
    if person is None:
        backend.audit(ws, p, "person.read", [person_id], purpose=clean, result="not_found")
        return render(request, "error.html", p, status=404, title="No such person",
                      message=f"There is no person {person_id} in this workspace"
                      + ("" if data.has(ws, "persons") else
                         " (" + data.empty_hint(["persons"]) + ")") + ".")
    backend.audit(ws, p, "person.read", [person_id], purpose=clean)
    sensitive = backend.allowed(p, "person.read_sensitive")
    card = data.identity_card(ws, person)
    records = data.linked_records(ws, person_id)
    anchor = None
    if records:
        prov = data.jload(person.get("provenance"), {})
        anchor = prov.get("full_name") or records[0]["record_key"]
    tl = data.timeline(ws, person_id)
    if not sensitive:
        for ev in tl:
            if ev["category"] == "status":
                ev["detail"] = ev["detail"]  # status_type only; status_detail never read here
    gates = data.gates(ws, person_id)
    elig = data.eligibility(ws, person_id)
    prio = data.priority(ws, person_id)
    prio_chart = None
    if prio and prio["contributions"]:
        items = [(str(c.get("factor", "?")).replace("_", " "), float(c.get("points") or 0))
                 for c in prio["contributions"]]
        prio_chart = charts.hbar(items, label=f"Priority contributions, total {prio['score']}")
    leads = data.lead_rows(ws, person_id=person_id)
    lead = leads[0] if leads else None
    points = []
    if lead:
        for i, c in enumerate(lead["candidates"]):
            xy = geo.project(c.get("longitude"), c.get("latitude"))
            points.append({"i": i + 1, "c": c, "xy": xy})
    evidence_keys = {k for g in gates for k in g["evidence"]}
    return render(request, "person.html", p, person=person, card=card, records=records,
                  anchor=anchor, timeline=tl, gates=gates, elig=elig, prio=prio,
                  prio_chart=prio_chart, lead=lead, points=points,
                  departure=data.departure(ws, person_id), purpose=clean,
                  evidence_keys=evidence_keys, cases=_cases_for(ws, p, person_id=person_id),
                  missing=data.missing(ws, "persons", "person_records", "gate_results",
                                       "priority", "leads"))


def _explain(ws: Any, a: str, b: str) -> dict[str, Any] | None:
    try:
        from casegraph.resolve.explain import explain_pair  # type: ignore[attr-defined]
    except ImportError:
        return None
    res = explain_pair(ws, a, b)
    if res is None:
        return None
    if not isinstance(res, dict):
        res = getattr(res, "__dict__", {}) or {"raw": res}
    comps = (res.get("comparisons") or res.get("fields") or res.get("steps") or [])
    steps = []
    for c in comps:
        if not isinstance(c, dict):
            c = getattr(c, "__dict__", {})
        name = c.get("field") or c.get("comparison") or c.get("name") or c.get("output_column_name")
        w = c.get("weight", c.get("match_weight", c.get("log2_bayes_factor")))
        steps.append({"field": str(name), "level": c.get("level") or c.get("label")
                      or c.get("comparison_level") or "", "weight": float(w or 0),
                      "left": c.get("left", c.get("value_l")),
                      "right": c.get("right", c.get("value_r"))})
    prior = res.get("prior_weight", res.get("prior", 0.0)) or 0.0
    total = res.get("match_weight")
    if total is None:
        total = float(prior) + sum(s["weight"] for s in steps)
    return {"steps": steps, "prior": float(prior), "total": float(total),
            "probability": res.get("match_probability", res.get("probability")), "raw": res}


@router.get("/ui/explain")
def explain_fragment(request: Request, a: str, b: str) -> Response:
    p = backend.principal(request)
    if p is None or not backend.allowed(p, "person.read"):
        return HTMLResponse("<p class='msg error'>Not allowed.</p>", status_code=403)
    ws = backend.workspace(request)
    backend.audit(ws, p, "identity.explain", [a, b])
    try:
        ex = _explain(ws, a, b)
    except Exception as e:  # noqa: BLE001 - show the room's message instead of a blank panel
        return render(request, "_explain.html", p, ex=None, a=a, b=b,
                      error=f"The explanation could not be computed: {e}")
    chart = None
    if ex and ex["steps"]:
        chart = charts.waterfall(("prior", ex["prior"]),
                                 [(s["field"], s["weight"]) for s in ex["steps"]],
                                 "match weight", label=f"Match weight waterfall {a} vs {b}")
    return render(request, "_explain.html", p, ex=ex, a=a, b=b, chart=chart, error=None)


# ---- leads ------------------------------------------------------------------------------------
def _lead_state(ws: Any) -> dict[str, dict[str, Any]]:
    """Workflow state of leads from the operational store: {lead_id: {status, ...}}."""
    try:
        from casegraph.cases import service  # type: ignore[attr-defined]
    except ImportError:
        return {}
    fn = getattr(service, "lead_states", None)
    if fn is None:
        return {}
    return fn(ws) or {}


PRIORITY_BANDS = ((75, "#b3261e", "high (≥ 75th pct)"), (50, "#D55E00", "medium"),
                  (0, "#0072B2", "lower"))


@router.get("/ui/leads")
def leads_page(request: Request, msg: str | None = None, err: str | None = None) -> Response:
    p, r = _gate(request, "leads.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    leads = data.lead_rows(ws)
    states = _lead_state(ws)
    scores = sorted(float(r["priority_score"] or 0) for r in leads)

    def band(score: float) -> tuple[str, str]:
        if not scores:
            return PRIORITY_BANDS[-1][1], PRIORITY_BANDS[-1][2]
        rank = sum(1 for s in scores if s <= score) / len(scores) * 100
        for cut, colour, name in PRIORITY_BANDS:
            if rank >= cut:
                return colour, name
        return PRIORITY_BANDS[-1][1], PRIORITY_BANDS[-1][2]

    regions, points = set(), []
    for r in leads:
        st = states.get(r["lead_id"]) or {}
        r["workflow"] = st.get("status") or r.get("status") or "proposed"
        r["case_id"] = st.get("case_id")
        r["colour"], r["band"] = band(float(r["priority_score"] or 0))
        if r["region"]:
            regions.add(r["region"])
        xy = geo.project(r["top"].get("longitude"), r["top"].get("latitude"))
        if xy:
            points.append({"lead": r, "xy": xy})
    backend.audit(ws, p, "leads.list", [], detail={"count": len(leads)})
    statuses = sorted({r["workflow"] for r in leads})
    flags = sorted({f for r in leads for f in r["flags"]})
    return render(request, "leads.html", p, leads=leads, points=points, statuses=statuses,
                  flags=flags, regions=sorted(regions), bands=PRIORITY_BANDS, msg=msg, err=err,
                  missing=data.missing(ws, "leads"),
                  hint=data.empty_hint(data.missing(ws, "leads") or ["leads"]))


@router.post("/ui/leads/{lead_id}/decision")
async def lead_decision(request: Request, lead_id: str) -> Response:
    p, r = _gate(request, "leads.decide")
    if r is not None:
        return r
    form = await _form(request)
    _check_csrf(p, form)
    ws = backend.workspace(request)
    decision = form.get("decision")
    reason = (form.get("reason") or "").strip()
    acks = form.get("acknowledge") or []
    acks = acks if isinstance(acks, list) else [acks]
    if decision not in ("approve", "reject"):
        return _redirect("/ui/leads", err="Choose approve or reject.")
    try:
        from casegraph.cases import service  # type: ignore[attr-defined]
    except ImportError:
        return _redirect("/ui/leads", err="Lead decisions are not available: the cases "
                         "service is not installed.")
    try:
        res = service.decide_lead(ws, actor=p.username, role=p.role, lead_id=lead_id,
                                  decision=decision, reason=reason, acknowledged=acks)
    except Exception as e:  # noqa: BLE001 - service errors are messages for the supervisor
        return _redirect("/ui/leads", err=f"Lead {lead_id} not {decision}d: {e}")
    done = "approved" if decision == "approve" else "rejected"
    extra = ""
    case_id = getattr(res, "case_id", None) or (res.get("case_id") if isinstance(res, dict)
                                                else None)
    if case_id:
        extra = f"; case {case_id} opened"
    return _redirect("/ui/leads", msg=f"Lead {lead_id} {done}{extra}.")


# ---- cases ------------------------------------------------------------------------------------
def _cases_for(ws: Any, p: backend.Principal, person_id: str | None = None
               ) -> list[dict[str, Any]]:
    if not backend.allowed(p, "cases.read"):
        return []
    try:
        from casegraph.cases import service  # type: ignore[attr-defined]
    except ImportError:
        return []
    fn = getattr(service, "list_cases", None)
    if fn is None:
        return []
    try:
        res = fn(ws, actor=p.username, role=p.role, person_id=person_id)
    except TypeError:
        res = fn(ws, actor=p.username, role=p.role)
    out = []
    for c in (res[0] if isinstance(res, tuple) else res) or []:
        out.append(c if isinstance(c, dict) else dict(getattr(c, "__dict__", {})))
    if person_id:
        out = [c for c in out if c.get("person_id") == person_id]
    return out


OUTCOMES = ("located", "not_found", "departed_confirmed", "in_custody", "closed")


@router.get("/ui/cases")
def cases_page(request: Request, msg: str | None = None, err: str | None = None) -> Response:
    p, r = _gate(request, "cases.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    cases = _cases_for(ws, p)
    names = {}
    if cases and data.has(ws, "persons"):
        for r in data.rows(ws, "select person_id, full_name from persons where person_id in "
                               "(select unnest(?))", [[c.get("person_id") for c in cases]]):
            names[r["person_id"]] = r["full_name"]
    for c in cases:
        c["full_name"] = names.get(c.get("person_id"))
    officers = []
    if backend.allowed(p, "cases.assign"):
        officers = [u.username for u in backend.gusers.list_users(ws)
                    if u.role == "officer" and not u.disabled]
    backend.audit(ws, p, "cases.list", [c.get("case_id") for c in cases][:50],
                  detail={"count": len(cases)})
    unavailable = False
    try:
        from casegraph.cases import service  # type: ignore[attr-defined]  # noqa: F401
    except ImportError:
        unavailable = True
    return render(request, "cases.html", p, cases=cases, officers=officers, outcomes=OUTCOMES,
                  msg=msg, err=err, unavailable=unavailable,
                  board=backend.allowed(p, "cases.read_all"))


@router.post("/ui/cases/{case_id}/assign")
async def case_assign(request: Request, case_id: str) -> Response:
    p, r = _gate(request, "cases.assign")
    if r is not None:
        return r
    form = await _form(request)
    _check_csrf(p, form)
    ws = backend.workspace(request)
    officer = (form.get("officer") or "").strip()
    try:
        from casegraph.cases import service  # type: ignore[attr-defined]

        service.assign_case(ws, actor=p.username, role=p.role, case_id=case_id,
                            officer=officer)
    except Exception as e:  # noqa: BLE001
        return _redirect("/ui/cases", err=f"Case {case_id} not assigned: {e}")
    return _redirect("/ui/cases", msg=f"Case {case_id} assigned to {officer}.")


@router.post("/ui/cases/{case_id}/outcome")
async def case_outcome(request: Request, case_id: str) -> Response:
    p, r = _gate(request, "cases.work")
    if r is not None:
        return r
    form = await _form(request)
    _check_csrf(p, form)
    ws = backend.workspace(request)
    outcome = form.get("outcome") or ""
    notes = (form.get("notes") or "").strip()
    try:
        from casegraph.cases import service  # type: ignore[attr-defined]

        service.record_outcome(ws, actor=p.username, role=p.role, case_id=case_id,
                               outcome=outcome, notes=notes)
    except Exception as e:  # noqa: BLE001
        return _redirect("/ui/cases", err=f"Outcome not recorded on {case_id}: {e}")
    return _redirect("/ui/cases", msg=f"Outcome '{outcome.replace('_', ' ')}' recorded on "
                     f"case {case_id}.")


# ---- identity review --------------------------------------------------------------------------
@router.get("/ui/review")
def review_page(request: Request, item: str | None = None, msg: str | None = None,
                err: str | None = None) -> Response:
    p, r = _gate(request, "review.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    queue = data.review_items(ws)
    current = None
    if item:
        current = data.review_item(ws, item)
    elif queue:
        current = queue[0]
    compare, left, right, ex, chart = [], None, None, None, None
    if current:
        left = data.record(ws, current["record_key_l"])
        right = data.record(ws, current["record_key_r"])
        compare = data.side_by_side(left, right)
        try:
            ex = _explain(ws, current["record_key_l"], current["record_key_r"])
        except Exception:  # noqa: BLE001 - still show the two records
            ex = None
        if ex:
            weights = {s["field"]: s for s in ex["steps"]}
            for row in compare:
                w = weights.get(row["field"]) or next(
                    (s for f, s in weights.items() if row["field"] in f or f in row["field"]),
                    None)
                row["weight"] = w["weight"] if w else None
                row["level"] = w["level"] if w else ""
            if ex["steps"]:
                chart = charts.waterfall(("prior", ex["prior"]),
                                         [(s["field"], s["weight"]) for s in ex["steps"]],
                                         "match weight", label="Match weight waterfall")
        backend.audit(ws, p, "review.read", [current["review_id"], current["record_key_l"],
                                             current["record_key_r"]])
    return render(request, "review.html", p, queue=queue, current=current, left=left,
                  right=right, compare=compare, ex=ex, chart=chart, msg=msg, err=err,
                  missing=data.missing(ws, "identity_review"),
                  hint=data.empty_hint(["identity_review"]))


@router.post("/ui/review/{review_id}")
async def review_decide(request: Request, review_id: str) -> Response:
    p, r = _gate(request, "review.decide")
    if r is not None:
        return r
    form = await _form(request)
    _check_csrf(p, form)
    ws = backend.workspace(request)
    decision = form.get("decision")
    reason = (form.get("reason") or "").strip()
    if decision not in ("same", "different"):
        return _redirect(f"/ui/review?item={quote(review_id)}", err="Choose same or different.")
    try:
        from casegraph.cases import service  # type: ignore[attr-defined]

        service.decide_review(ws, actor=p.username, role=p.role, review_id=review_id,
                              decision=decision, reason=reason)
    except Exception as e:  # noqa: BLE001
        return _redirect(f"/ui/review?item={quote(review_id)}",
                         err=f"Decision not recorded: {e}")
    return _redirect("/ui/review", msg=f"Review item {review_id}: recorded '{decision}'.")


# ---- departures -------------------------------------------------------------------------------
@router.get("/ui/departures")
def departures_page(request: Request) -> Response:
    p, r = _gate(request, "departures.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    s = data.departures_summary(ws)
    by_channel = by_status = None
    if s.get("months"):
        by_channel = charts.stacked_columns(s["months"], s["by_channel"],
                                            label="Departures per month by channel")
        by_status = charts.stacked_columns(s["months"], s["by_status"],
                                           label="Departures per month, verified vs claimed")
    backend.audit(ws, p, "departures.read", [], detail={"total": s.get("total", 0)})
    return render(request, "departures.html", p, s=s, by_channel=by_channel,
                  by_status=by_status, hint=data.empty_hint(s["missing"] or
                                                            ["departure_status"]))


# ---- logistics --------------------------------------------------------------------------------
@router.get("/ui/logistics")
def logistics_page(request: Request) -> Response:
    p, r = _gate(request, "logistics.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    board = data.logistics_board(ws)
    backend.audit(ws, p, "logistics.read", [])
    return render(request, "logistics.html", p, board=board)


# ---- audit ------------------------------------------------------------------------------------
@router.get("/ui/audit")
def audit_page(request: Request, user: str | None = None, person: str | None = None,
               action: str | None = None, since: str | None = None, page: int = 1,
               verify: int = 0) -> Response:
    p, r = _gate(request, "audit.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    page = max(1, min(int(page), 10_000))
    per = 50
    filters = {"user": user or None, "person": person or None, "action": action or None,
               "since": since or None}
    events, total = backend.audit_events(ws, limit=per, offset=(page - 1) * per, **filters)
    chain = backend.verify_chain(ws) if backend.allowed(p, "audit.verify") else None
    backend.audit(ws, p, "audit.read", [], detail={k: v for k, v in filters.items() if v})
    return render(request, "audit.html", p, events=events, total=total, page=page, per=per,
                  filters={k: v or "" for k, v in filters.items()}, chain=chain,
                  pages=max(1, (total + per - 1) // per),
                  qs=urlencode({k: v for k, v in filters.items() if v}))
