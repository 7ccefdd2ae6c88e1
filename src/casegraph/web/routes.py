"""The web UI: server-rendered pages on the same FastAPI app as the HTTP API.

``router`` is included by ``casegraph.api.app.create_app``. Every page resolves the
logged-in user from the API's session cookie, checks the permission matrix of
``governance.permissions`` and calls the same service functions as the API
(``casegraph.cases.*``), which mask by role, require purposes and write the audit log.
All assets (CSS, JS, map geometry) are served from ``static/``: nothing loads from the
internet.
"""

from __future__ import annotations

import html as htmlmod
import mimetypes
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Undefined
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
def _nav(p: backend.Principal | None, current: str) -> list[dict[str, Any]]:
    return [{"href": h, "label": lbl, "current": current.startswith(h)}
            for h, lbl, perm in NAV if backend.allowed(p, perm)]


def render(request: Request, template: str, p: backend.Principal | None, status: int = 200,
           **ctx: Any) -> HTMLResponse:
    ctx.update(request=request, user=p, nav=_nav(p, request.url.path),
               csrf=p.csrf_token if p else "", can=lambda perm: backend.allowed(p, perm),
               static=lambda name: f"/ui/static/{name}")
    resp = templates.TemplateResponse(request, template, ctx, status_code=status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _error(request: Request, p: backend.Principal | None, status: int, title: str,
           message: str) -> HTMLResponse:
    return render(request, "error.html", p, status=status, title=title, message=message)


def _gate(request: Request, permission: str) -> tuple[Any, Response | None]:
    """(principal, None) when the user is logged in and holds ``permission``; else
    (principal or None, the response to send: the login page or a 403 page)."""
    p = backend.principal(request)
    if p is None:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            nxt = "/ui/"
        q = {"next": nxt}
        if request.cookies.get(backend.deps.SESSION_COOKIE):
            q["msg"] = "Your session has ended (expired or logged out elsewhere): log in again."
        return None, _redirect("/ui/login?" + urlencode(q))
    if backend.allowed(p, permission):
        return p, None
    ws = backend.workspace(request)
    backend.audit(ws, p, "web.denied", [], result="denied",
                  detail={"permission": permission, "path": request.url.path})
    return p, _error(request, p, 403, "Not allowed",
                     f"Your role ({p.role}) may not {backend.permission_text(permission)}.")


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {}
    for k, v in form.multi_items():
        if not isinstance(v, str):
            continue
        if k in out:
            out[k] = out[k] if isinstance(out[k], list) else [out[k]]
            out[k].append(v)
        else:
            out[k] = v
    return out


#: what a form post does once the user may post it: (workspace, principal, form) -> response
_Act = Callable[[Any, Any, dict[str, Any]], Response]
#: where a refused post goes: (form, the service's message) -> response
_Failed = Callable[[dict[str, Any], str], Response]


async def _form_action(request: Request, permission: str, act: _Act, failed: _Failed
                       ) -> Response:
    """Every form post of the UI: login, ``permission`` (a refusal is audited and shown as a
    403 page), CSRF, then ``act``; a service's refusal (ServiceError, already audited by
    the service) goes back to the page with its message through ``failed``."""
    p, r = _gate(request, permission)
    if r is not None:
        return r
    form = await _form(request)
    if not backend.csrf_ok(request, p, form):
        return _error(request, p, 403, "Form expired",
                      "The form's security token is missing or out of date "
                      "(CSRF check). Reload the page and try again.")
    ws = backend.workspace(request)
    try:
        return act(ws, p, form)
    except backend.ServiceError as e:
        return failed(form, _msg(e))


def _redirect(url: str, **msg: str) -> RedirectResponse:
    if msg:
        url += ("&" if "?" in url else "?") + urlencode(msg)
    return RedirectResponse(url, status_code=303)


def _msg(e: Exception) -> str:
    s = str(e)
    return (s[:1].upper() + s[1:]) if s else type(e).__name__


def _marked(snippet: Any) -> Markup:
    """A search snippet whose matches are ``<b>`` tags → safe HTML with ``<mark>``."""
    text = str(snippet or "")
    text = text.replace("<b>", "\x01").replace("</b>", "\x02")
    text = str(escape(htmlmod.unescape(text)))
    return Markup(text.replace("\x01", "<mark>").replace("\x02", "</mark>"))


def _fold(s: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", s)
                   if not unicodedata.combining(c)).lower()


def highlight(value: Any, query: str) -> Markup:
    """``value`` with every query word marked (case- and accent-insensitive)."""
    text = "" if value is None else str(value)
    words = [t for t in re.split(r"[\s,;:]+", _fold(query or "")) if len(t) >= 2]
    folded = _fold(text)
    if not text or not words or len(folded) != len(text):
        return Markup(escape(text))
    spans = sorted((m.start(), m.end()) for t in words
                   for m in re.finditer(re.escape(t), folded))
    out, pos = [], 0
    for a, b in spans:
        a = max(a, pos)
        if a >= b:
            continue
        out.append(str(escape(text[pos:a])) + f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def _conf(v: Any) -> str:
    """Confidence shown as a percentage whether the room stored 0..1 or 0..100."""
    if v is None or v == "" or isinstance(v, Undefined):
        return "—"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{f:.0f}%" if f > 1 else f"{f:.0%}"


templates.env.filters["marked"] = _marked
templates.env.filters["hl"] = highlight
templates.env.filters["pct"] = lambda v: "—" if v is None or isinstance(v, Undefined) \
    else f"{float(v):.0%}"
templates.env.filters["conf"] = _conf
templates.env.filters["num"] = lambda v, d=2: "—" if v is None or isinstance(v, Undefined) \
    else f"{float(v):.{d}f}"
templates.env.filters["human"] = lambda s: "" if s is None else str(s).replace("_", " ")
templates.env.filters["ts"] = lambda s: "" if not s else str(s)[:19].replace("T", " ")
templates.env.globals["geo_states"] = geo.state_paths
templates.env.globals["meter"] = charts.meter


def _service(name: str) -> Any:
    import importlib

    return importlib.import_module(f"casegraph.cases.{name}")


# ---- static assets ----------------------------------------------------------------------------
@router.get("/ui/static/{path:path}")
def static(path: str) -> Response:
    root = STATIC.resolve()
    target = (STATIC / path).resolve()
    if root not in target.parents or not target.is_file():
        return Response("no such asset", status_code=404, media_type="text/plain")
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if target.suffix == ".js":
        media = "text/javascript"
    return FileResponse(target, media_type=media, headers={"Cache-Control": "max-age=3600"})


# ---- login / logout ---------------------------------------------------------------------------
@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=303)


@router.get("/login")
def api_login_redirect(next: str | None = None) -> RedirectResponse:
    """Where the API's error handler sends a browser without a session."""
    target = next if next and next.startswith("/ui/") else None
    return _redirect("/ui/login" + (f"?{urlencode({'next': target})}" if target else ""))


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
    return _error(request, p, 200, "Welcome",
                  f"Your role ({p.role}) has no pages in the web UI; administration is done "
                  "with the command line (`casegraph users`, `casegraph retention apply`, "
                  "`casegraph audit verify`).")


def _safe_next(nxt: Any) -> str:
    if isinstance(nxt, str) and nxt.startswith("/ui/") and not nxt.startswith("//") \
            and "\\" not in nxt and "\n" not in nxt:
        return nxt
    return "/ui/"


@router.get("/ui/login")
def login_page(request: Request, next: str | None = None, msg: str | None = None) -> Response:
    return render(request, "login.html", backend.principal(request), next=_safe_next(next),
                  info=msg)


@router.post("/ui/login")
async def login_submit(request: Request) -> Response:
    form = await _form(request)
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")
    nxt = _safe_next(form.get("next"))
    if not username or not password:
        return render(request, "login.html", None, status=400, next=nxt, username=username,
                      error="Enter your user name and password.")
    resp = _redirect(nxt)
    try:
        backend.login(request, resp, username, password)
    except backend.AuthError as e:
        status = 423 if e.reason == "locked" else 403 if e.reason == "disabled" else 401
        return render(request, "login.html", None, status=status, next=nxt, username=username,
                      error=_msg(e) + ".", reason=e.reason)
    return resp


@router.post("/ui/logout")
async def logout(request: Request) -> Response:
    p = backend.principal(request)
    resp = _redirect("/ui/login", msg="You are logged out.")
    if p is not None:
        form = await _form(request)
        if not backend.csrf_ok(request, p, form):
            return _error(request, p, 403, "Form expired", "Reload the page and log out again.")
        backend.logout(request, resp)
    return resp


# ---- search -----------------------------------------------------------------------------------
def _search_ctx(request: Request, p: backend.Principal, params: dict[str, Any]
                ) -> dict[str, Any]:
    ws = backend.workspace(request)
    q = (params.get("q") or "").strip()
    ctx: dict[str, Any] = {"q": q, "hits": [], "error": None, "engine": None}
    if len(q) < 2:
        ctx["hint"] = "Type at least two characters: a name, an A-number, a passport number."
        return ctx
    filters: dict[str, Any] = {}
    if params.get("nationality"):
        filters["nationality"] = params["nationality"]
    if params.get("eligible") in ("yes", "no"):
        filters["eligible"] = params["eligible"] == "yes"
    if params.get("open_case") == "yes":
        filters["has_open_case"] = True
    try:
        res = _service("persons").search_persons(ws, p, q, limit=25,
                                                 purpose=params.get("purpose") or None,
                                                 filters=filters or None)
    except backend.ServiceError as e:
        ctx["error"] = _msg(e)
        ctx["needs_purpose"] = getattr(e, "code", "") == "purpose_required"
        return ctx
    hits = res["items"]
    ctx["engine"] = {"index": "search index", "warehouse": "warehouse table scan"}.get(
        res.get("engine"), res.get("engine"))
    # filters the warehouse fallback cannot apply are applied to what it returned
    if res.get("engine") != "index" and filters.get("nationality"):
        hits = [h for h in hits if h.get("nationality") == filters["nationality"]]
    for h in hits:
        ids = h.get("identifiers") or {}
        if isinstance(ids, dict):
            h["id_text"] = "; ".join(f"{k.replace('_', ' ')} {', '.join(map(str, v))}"
                                     for k, v in ids.items() if v)
        m = h.get("matched")
        h["matched"] = m if isinstance(m, dict) else {}
    ctx["hits"] = hits
    if not hits and not data.has(ws, "persons"):
        ctx["missing"] = data.empty_hint(["persons"])
    return ctx


@router.get("/ui/search")
def search_page(request: Request) -> Response:
    p, r = _gate(request, "search.persons")
    if r is not None:
        return r
    ws = backend.workspace(request)
    params = dict(request.query_params)
    nats = []
    if data.has(ws, "persons"):
        nats = [x["nationality"] for x in data.rows(
            ws, "select distinct nationality from persons where nationality is not null "
                "order by 1 limit 300")]
    ctx = _search_ctx(request, p, params) if params.get("q") else {"q": ""}
    return render(request, "search.html", p, params=params, nationalities=nats,
                  purpose_rule=backend.purpose_rule(ws), **ctx)


@router.get("/ui/search/results")
def search_results(request: Request) -> Response:
    p = backend.principal(request)
    if p is None:
        return HTMLResponse("<p class='msg error'>Your session ended: "
                            "<a href='/ui/login'>log in again</a>.</p>", status_code=401)
    if not backend.allowed(p, "search.persons"):
        return HTMLResponse("<p class='msg error'>Your role may not search people.</p>",
                            status_code=403)
    return render(request, "_search_results.html", p,
                  **_search_ctx(request, p, dict(request.query_params)))


# ---- person profile ---------------------------------------------------------------------------
def _gate_order() -> dict[str, int]:
    try:
        from casegraph.policy.gates import GATE_NAMES
    except ImportError:
        return {}
    return {g: i for i, g in enumerate(GATE_NAMES)}


def _map_view(points: list[dict[str, Any]], *, min_w: float = 480, pad: float = 60
              ) -> str:
    """A viewBox zoomed on the points (the whole country when there are none); marks are
    scaled so they keep their on-screen size."""
    if not points:
        return "0 0 960 500"
    xs = [pt["x"] for pt in points]
    ys = [pt["y"] for pt in points]
    x0, x1, y0, y1 = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    w, h = max(x1 - x0, min_w), max(y1 - y0, min_w * 0.6)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = max(w, h / 0.6), max(h, w * 0.6)
    if w >= 960:
        w, h, cx, cy = 960, 500, 480, 250
    k = w / 450  # marks keep about the same size on screen (maps show ~450 px wide)
    for pt in points:
        pt.update(r=5 * k, fs=13 * k, dx=7 * k)
    return f"{cx - w / 2:.0f} {cy - h / 2:.0f} {w:.0f} {h:.0f}"


@router.get("/ui/persons/{person_id}")
def person_page(request: Request, person_id: str, purpose: str | None = None) -> Response:
    p, r = _gate(request, "person.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    persons = _service("persons")
    try:
        prof = persons.get_profile(ws, p, person_id, purpose)
    except backend.ServiceError as e:
        if getattr(e, "code", "") == "purpose_required":
            return render(request, "purpose.html", p, status=200 if not purpose else 400,
                          person_id=person_id, error=_msg(e) if purpose else None,
                          purpose=purpose or "", rule=backend.purpose_rule(ws))
        return _error(request, p, e.status, "Cannot open this profile", _msg(e) + ".")
    purpose_clean = " ".join((purpose or "").split())
    records = prof["records"]
    by_key = {rec.get("record_key"): rec for rec in records}
    card = []
    for field, label in data.IDENTITY_CARD_FIELDS:
        c = prof["canonical"].get(field)
        if not c or c.get("value") in (None, ""):
            continue
        card.append({"field": field, "label": label, "value": c["value"],
                     "record_key": c.get("record_key"),
                     "source": by_key.get(c.get("record_key"))})
    shown = {f for f, _ in data.IDENTITY_CARD_FIELDS}
    for field, c in prof["canonical"].items():
        if field not in shown and c.get("value") not in (None, "") and \
                not field.endswith("_norm"):
            card.append({"field": field, "label": field.replace("_", " ").capitalize(),
                         "value": c["value"], "record_key": c.get("record_key"),
                         "source": by_key.get(c.get("record_key"))})
    records.sort(key=lambda rec: (-(rec.get("match_probability") or 0), rec.get("record_key")))
    anchor = None
    if records:
        anchor = (prof["canonical"].get("full_name") or {}).get("record_key") \
            or records[0].get("record_key")
        if anchor not in by_key:
            anchor = records[0].get("record_key")
    order = _gate_order()
    gates = sorted(prof["gates"], key=lambda g: (order.get(g.get("gate"), 99), g.get("gate")))
    prio = prof["priority"]
    prio_chart = None
    if prio and prio.get("contributions"):
        items = [(str(c.get("factor", "?")).replace("_", " "), float(c.get("points") or 0))
                 for c in prio["contributions"]]
        prio_chart = charts.hbar(items, label=f"Priority contributions, total {prio['score']}")
    lead = prof["leads"][0] if prof["leads"] else None
    cands = [data.normalise_candidate(c) for c in prof["location_candidates"]]
    pts = []
    for i, c in enumerate(cands, 1):
        c["i"] = i
        xy = geo.project(c.get("longitude"), c.get("latitude"))
        if xy:
            pts.append({"x": xy[0], "y": xy[1], "id": f"cand-{i}", "text": str(i),
                        "colour": "#b3261e" if any("sensitive" in str(f) for f in c["flags"])
                        else "#8a5a00" if c["flags"] else "#0b3d91",
                        "label": f"#{i} {c['address']} (confidence {_conf(c['confidence'])})"})
    evidence_keys = {k for g in gates for k in (g.get("evidence") or []) if isinstance(k, str)}
    timeline = []
    for ev in prof["timeline"]:
        kind = ev.get("kind") or ""
        summ = str(ev.get("summary") or "")
        cat = {"removal_order": "order", "departure_status": "departure"}.get(kind, kind)
        if kind == "case_event" and ev.get("record_key"):
            cat = "stay" if "stay" in summ else "appeal" if any(
                w in summ for w in ("appeal", "motion", "petition")) else "case"
        elif kind == "case_event":
            cat = "casework"
        timeline.append({**ev, "category": cat,
                         "title": {"removal_order": "Removal order", "case_event":
                                   "Case" if not ev.get("record_key") else "Court event",
                                   "departure_status": "Departure status"}.get(
                             kind, kind.replace("_", " ").capitalize())})
    return render(request, "person.html", p, prof=prof, person_id=person_id,
                  name=(prof["canonical"].get("full_name") or {}).get("value") or person_id,
                  card=card, records=records, anchor=anchor, timeline=timeline, gates=gates,
                  elig=prof["eligibility"], prio=prio, prio_chart=prio_chart, lead=lead,
                  cands=cands, map_points=pts, map_view=_map_view(pts),
                  hide_insets=bool(pts) and not any(
                      geo.region_of(None, c.get("longitude"), c.get("latitude")) in ("AK", "HI")
                      for c in cands),
                  departure=prof["departure"], purpose=purpose_clean,
                  evidence_keys=evidence_keys, case_events=prof.get("case_events") or [])


def _explain(ws: Any, a: str, b: str) -> dict[str, Any] | None:
    """The resolution room's pair explanation, shaped for the waterfall."""
    try:
        from casegraph.resolve.explain import explain_pair
    except ImportError:
        return None
    with data.SHARED_CONNECTION:  # explain_pair uses ws.con (temp tables)
        res = explain_pair(ws, a, b)
    return shape_explanation(res)


def shape_explanation(res: Any) -> dict[str, Any] | None:
    if res is None:
        return None
    if not isinstance(res, dict):
        res = res.to_dict() if hasattr(res, "to_dict") else dict(getattr(res, "__dict__", {}))
    comps = (res.get("comparisons") or res.get("fields") or res.get("steps")
             or res.get("contributions") or [])
    steps = []
    for c in comps:
        if not isinstance(c, dict):
            c = c.to_dict() if hasattr(c, "to_dict") else dict(getattr(c, "__dict__", {}))
        name = (c.get("field") or c.get("comparison") or c.get("name")
                or c.get("output_column_name") or "?")
        w = c.get("weight", c.get("match_weight", c.get("log2_bayes_factor")))
        try:
            w = float(w or 0)
            tf = float(c.get("tf_adjustment_weight") or 0)
        except (TypeError, ValueError):
            w, tf = 0.0, 0.0
        steps.append({"field": str(name), "level": str(c.get("level") or c.get("label")
                                                       or c.get("comparison_level") or ""),
                      "weight": w + tf, "tf": tf,
                      "left": _shown(c.get("left", c.get("value_l"))),
                      "right": _shown(c.get("right", c.get("value_r")))})
    prior = res.get("prior_weight", res.get("prior", 0.0)) or 0.0
    total = res.get("match_weight")
    if total is None:
        total = float(prior) + sum(s["weight"] for s in steps)
    rules = [str(r) for r in (res.get("rules") or [])]
    return {"steps": steps, "prior": float(prior), "total": float(total),
            "probability": res.get("match_probability", res.get("probability")),
            "rules": rules, "same_person": res.get("same_person")}


def _shown(v: Any) -> str:
    """A compared value as text: missing parts left out (Splink joins them with commas)."""
    if v is None:
        return ""
    parts = [p.strip() for p in str(v).split(",")]
    kept = [p for p in parts if p and p not in ("None", "nan", "NULL")]
    return ", ".join(kept)


def _waterfall(ex: dict[str, Any] | None, label: str) -> Markup | None:
    if not ex or not ex["steps"]:
        return None
    return charts.waterfall(("prior", ex["prior"]),
                            [(s["field"], s["weight"]) for s in ex["steps"]],
                            "match weight", label=label)


@router.get("/ui/explain")
def explain_fragment(request: Request, a: str, b: str) -> Response:
    p = backend.principal(request)
    if p is None or not backend.allowed(p, "person.read"):
        return HTMLResponse("<p class='msg error'>Not allowed.</p>", status_code=403)
    ws = backend.workspace(request)
    if p.role == "officer":
        return HTMLResponse("<p class='msg error'>Officers cannot open identity "
                            "explanations.</p>", status_code=403)
    backend.audit(ws, p, "identity.explain", [a[:200], b[:200]])
    try:
        ex = _explain(ws, a, b)
    except Exception as e:  # noqa: BLE001 - show the room's message instead of a blank panel
        return render(request, "_explain.html", p, ex=None, a=a, b=b,
                      error=f"The explanation could not be computed: {e}")
    return render(request, "_explain.html", p, ex=ex, a=a, b=b, error=None,
                  chart=_waterfall(ex, f"Match weight waterfall {a} vs {b}"))


# ---- leads ------------------------------------------------------------------------------------
MAX_LEADS = 5000  # one page: the map and the client-side filters work on all of them
PRIORITY_BANDS = ((75, "#b3261e", "top quarter"), (50, "#D55E00", "second quarter"),
                  (0, "#0072B2", "lower half"))


@router.get("/ui/leads")
def leads_page(request: Request, msg: str | None = None, err: str | None = None) -> Response:
    p, r = _gate(request, "leads.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    try:
        res = _service("leads").list_leads(ws, p, limit=MAX_LEADS)
    except backend.ServiceError as e:
        return _error(request, p, e.status, "Leads unavailable", _msg(e))
    leads = res["items"]
    scores = sorted(float(x.get("priority_score") or 0) for x in leads)

    def band(score: float) -> tuple[str, str]:
        if scores:
            rank = sum(1 for s in scores if s <= score) / len(scores) * 100
            for cut, colour, name in PRIORITY_BANDS:
                if rank > cut or cut == 0:
                    return colour, name
        return PRIORITY_BANDS[-1][1], PRIORITY_BANDS[-1][2]

    points = []
    radius = 10 if len(leads) < 60 else 7 if len(leads) < 400 else 5
    for x in leads:
        cands = [data.normalise_candidate(c) for c in x.get("candidates") or []]
        top = cands[0] if cands else {}
        x["top"] = top
        lat = top.get("latitude") if top.get("latitude") is not None else x.get("latitude")
        lon = top.get("longitude") if top.get("longitude") is not None else x.get("longitude")
        x["flag_names"] = [data.flag_names([f])[0] for f in x.get("flags") or []]
        x["colour"], x["band"] = band(float(x.get("priority_score") or 0))
        x["region"] = top.get("region") or geo.region_of(x.get("address") or top.get("address"),
                                                         lon, lat)
        xy = geo.project(lon, lat)
        if xy:
            points.append({"x": xy[0], "y": xy[1], "id": x["lead_id"], "colour": x["colour"],
                           "r": radius, "label": f"{x['lead_id']} {x.get('full_name') or ''}, "
                                            f"priority {float(x.get('priority_score') or 0):.1f}"})
    statuses = sorted({x["workflow_status"] for x in leads})
    flags = sorted({f for x in leads for f in x["flag_names"]})
    regions = sorted({x["region"] for x in leads if x["region"]})
    return render(request, "leads.html", p, leads=leads, map_points=points, statuses=statuses,
                  flags=flags, regions=regions, bands=PRIORITY_BANDS, msg=msg, err=err,
                  run_id=res.get("run_id"), total=res.get("total", len(leads)),
                  missing=not data.has(ws, "leads"),
                  hint=data.empty_hint(["leads"]))


@router.post("/ui/leads/{lead_id}/decision")
async def lead_decision(request: Request, lead_id: str) -> Response:
    def act(ws: Any, p: Any, form: dict[str, Any]) -> Response:
        decision = form.get("decision")
        reason = str(form.get("reason") or "")
        acks = form.get("acknowledge") or []
        acks = acks if isinstance(acks, list) else [acks]
        svc = _service("leads")
        if decision == "approve":
            res = svc.approve_lead(ws, p, lead_id, reason, acknowledge=acks)
            return _redirect("/ui/leads", msg=f"Lead {lead_id} approved; case "
                             f"{res.get('case_id')} opened.")
        if decision == "reject":
            svc.reject_lead(ws, p, lead_id, reason)
            return _redirect("/ui/leads", msg=f"Lead {lead_id} rejected.")
        return _redirect("/ui/leads", err="Choose approve or reject.")

    return await _form_action(request, "leads.decide", act,
                              lambda form, m: _redirect("/ui/leads", err=m))


# ---- cases ------------------------------------------------------------------------------------
@router.get("/ui/cases")
def cases_page(request: Request, msg: str | None = None, err: str | None = None,
               status: str | None = None) -> Response:
    p, r = _gate(request, "cases.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    wf = _service("workflow")
    try:
        res = wf.list_cases(ws, p, limit=1000)
        officers = [o["username"] for o in wf.list_officers(ws, p)] \
            if backend.allowed(p, "cases.assign") else []
    except backend.ServiceError as e:
        return _error(request, p, e.status, "Cases unavailable", _msg(e))
    cases = res["items"]
    names = {}
    if cases and data.has(ws, "persons"):
        for x in data.rows(ws, "select person_id, full_name from persons where person_id in "
                               "(select unnest(?))", [[c.get("person_id") for c in cases]]):
            names[x["person_id"]] = x["full_name"]
    for c in cases:
        c["full_name"] = names.get(c.get("person_id"))
    counts = Counter(c["status"] for c in cases)
    workload = Counter(c["assigned_to"] for c in cases
                       if c.get("assigned_to") and c["status"] != "closed")
    load = [(o, workload.get(o, 0)) for o in officers]
    return render(request, "cases.html", p, cases=cases, officers=officers,
                  purpose_rule=backend.purpose_rule(ws), workload=load,
                  outcomes=wf.OUTCOMES, statuses=wf.CASE_STATUSES, counts=counts, msg=msg,
                  err=err, board=backend.allowed(p, "cases.read_all"), total=res["total"])


@router.post("/ui/cases/{case_id}/assign")
async def case_assign(request: Request, case_id: str) -> Response:
    def act(ws: Any, p: Any, form: dict[str, Any]) -> Response:
        officer = str(form.get("officer") or "")
        _service("workflow").assign_case(ws, p, case_id, officer,
                                         note=str(form.get("note") or "") or None)
        return _redirect("/ui/cases", msg=f"Case {case_id} assigned to {officer}.")

    return await _form_action(
        request, "cases.assign", act,
        lambda form, m: _redirect("/ui/cases", err=f"Case {case_id} not assigned: {m}"))


@router.post("/ui/cases/{case_id}/outcome")
async def case_outcome(request: Request, case_id: str) -> Response:
    def back(form: dict[str, Any]) -> str:
        return f"/ui/cases/{quote(case_id)}" if form.get("back") == "case" else "/ui/cases"

    def act(ws: Any, p: Any, form: dict[str, Any]) -> Response:
        outcome = str(form.get("outcome") or "")
        _service("workflow").record_outcome(ws, p, case_id, outcome,
                                            note=str(form.get("notes") or "") or None)
        return _redirect(back(form), msg=f"Outcome '{outcome.replace('_', ' ')}' recorded on "
                         f"case {case_id}.")

    return await _form_action(
        request, "cases.work", act,
        lambda form, m: _redirect(back(form), err=f"Outcome not recorded on {case_id}: {m}"))


@router.get("/ui/cases/{case_id}")
def case_page(request: Request, case_id: str, msg: str | None = None, err: str | None = None
              ) -> Response:
    p, r = _gate(request, "cases.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    wf = _service("workflow")
    try:
        case = wf.get_case(ws, p, case_id)
    except backend.ServiceError as e:
        return _error(request, p, e.status, "Cannot open this case", _msg(e) + ".")
    name = None
    if case.get("person_id") and data.has(ws, "persons"):
        got = data.rows(ws, "select full_name from persons where person_id = ?",
                        [case["person_id"]])
        name = got[0]["full_name"] if got else None
    return render(request, "case.html", p, case=case, full_name=name, outcomes=wf.OUTCOMES,
                  msg=msg, err=err, purpose_rule=backend.purpose_rule(ws))


@router.post("/ui/cases/{case_id}/note")
async def case_note(request: Request, case_id: str) -> Response:
    back = f"/ui/cases/{quote(case_id)}"

    def act(ws: Any, p: Any, form: dict[str, Any]) -> Response:
        _service("workflow").add_note(ws, p, case_id, str(form.get("note") or ""))
        return _redirect(back, msg="Note added.")

    return await _form_action(request, "cases.work", act,
                              lambda form, m: _redirect(back, err=f"Note not added: {m}"))


# ---- identity review --------------------------------------------------------------------------
@router.get("/ui/review")
def review_page(request: Request, item: str | None = None, msg: str | None = None,
                err: str | None = None) -> Response:
    p, r = _gate(request, "review.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    rv = _service("review")
    try:
        listing = rv.list_reviews(ws, p, limit=200)
        queue = listing["items"]
        current = None
        target = item or (queue[0]["review_id"] if queue else None)
        if target is not None:
            with data.SHARED_CONNECTION:  # the explanation inside uses ws.con
                current = rv.get_review(ws, p, str(target))
    except backend.ServiceError as e:
        if isinstance(e, backend.NotFound):
            return _redirect("/ui/review", err=_msg(e))
        return _error(request, p, e.status, "Review queue unavailable", _msg(e))
    compare, ex, chart = [], None, None
    if current:
        compare = data.side_by_side(current.get("left"), current.get("right"))
        ex = shape_explanation(current.get("explanation"))
        if ex:
            weights = {s["field"]: s for s in ex["steps"]}
            for row in compare:
                w = weights.get(row["field"]) or next(
                    (s for f, s in weights.items() if f and (row["field"] in f or f in
                                                             row["field"])), None)
                row["weight"] = w["weight"] if w else None
                row["level"] = w["level"] if w else ""
            chart = _waterfall(ex, "Match weight waterfall of the pair")
    return render(request, "review.html", p, queue=queue, queue_total=listing["total"],
                  current=current, compare=compare,
                  ex=ex, chart=chart, msg=msg, err=err,
                  missing=not data.has(ws, "identity_review"),
                  hint=data.empty_hint(["identity_review"]))


@router.post("/ui/review/{review_id}")
async def review_decide(request: Request, review_id: str) -> Response:
    def act(ws: Any, p: Any, form: dict[str, Any]) -> Response:
        decision = str(form.get("decision") or "")
        _service("review").decide_review(ws, p, review_id, decision,
                                         str(form.get("reason") or ""))
        return _redirect("/ui/review", msg=f"Review item {review_id}: recorded '{decision}'.")

    return await _form_action(
        request, "review.decide", act,
        lambda form, m: _redirect(f"/ui/review?item={quote(review_id)}",
                                  err=f"Decision not recorded: {m}"))


# ---- departures -------------------------------------------------------------------------------
def _month_range(months: list[str]) -> list[str]:
    """Every month from the first to the last (a time axis without gaps)."""
    if not months:
        return []
    try:
        y, m = (int(v) for v in months[0].split("-")[:2])
        y1, m1 = (int(v) for v in months[-1].split("-")[:2])
    except ValueError:
        return months
    out = []
    while (y, m) <= (y1, m1) and len(out) < 600:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@router.get("/ui/departures")
def departures_page(request: Request) -> Response:
    p, r = _gate(request, "departures.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    try:
        s = _service("departures").departure_summary(ws, p)
        claimed = _service("departures").list_departures(ws, p, status="claimed_departed",
                                                         limit=50)
    except backend.ServiceError as e:
        return _error(request, p, e.status, "Departures unavailable", _msg(e))
    months = _month_range(sorted({x["month"] for x in s["by_month"] if x.get("month")}))
    idx = {m: i for i, m in enumerate(months)}
    by_channel: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(months))
    by_status: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(months))
    channels: Counter[str] = Counter()
    for x in s["by_month"]:
        ch = (x.get("channel") or "unknown").replace("_", " ")
        channels[ch] += x["n"]
        if x.get("month") in idx:
            by_channel[ch][idx[x["month"]]] += x["n"]
            by_status[(x.get("status") or "unknown").replace("_", " ")][idx[x["month"]]] += x["n"]
    nat: dict[str, dict[str, int]] = defaultdict(lambda: {"verified": 0, "claimed": 0,
                                                          "total": 0})
    for x in s["by_nationality"]:
        n = nat[x.get("nationality") or "unknown"]
        n["total"] += x["n"]
        if x.get("status") == "verified_departed":
            n["verified"] += x["n"]
        elif x.get("status") == "claimed_departed":
            n["claimed"] += x["n"]
    nats = sorted(({"nationality": k, **v} for k, v in nat.items()),
                  key=lambda d: (-d["total"], d["nationality"]))[:20]
    totals = s.get("totals") or {}
    total = sum(totals.values())
    ctx = {"total": total, "verified": totals.get("verified_departed", 0),
           "claimed": totals.get("claimed_departed", 0), "channels": channels.most_common(),
           "nationalities": nats}
    return render(request, "departures.html", p, s=ctx, claimed=claimed,
                  purpose_rule=backend.purpose_rule(ws),
                  missing=not data.has(ws, "departure_status"),
                  hint=data.empty_hint(["departure_status"]),
                  by_channel=charts.stacked_columns(months, dict(by_channel),
                                                    label="Departures per month by channel"),
                  by_status=charts.stacked_columns(months, dict(by_status),
                                                   label="Departures per month, verified "
                                                         "vs claimed"))


# ---- logistics --------------------------------------------------------------------------------
@router.get("/ui/logistics")
def logistics_page(request: Request, msg: str | None = None, err: str | None = None
                   ) -> Response:
    p, r = _gate(request, "logistics.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    svc = _service("logistics")
    try:
        board = svc.logistics_board(ws, p)
    except backend.Unavailable as e:  # the logistics room is not installed: records only
        board = data.records_board(ws)
        board["error"] = _msg(e)
        backend.audit(ws, p, "logistics.board", [], detail={"source": "records"})
    except backend.ServiceError as e:
        return _error(request, p, e.status, "Logistics unavailable", _msg(e))
    if board.get("plan"):
        try:
            detail = svc.get_plan(ws, p, board["plan"]["plan_id"])
            board["unassigned_reasons"] = data.unassigned_reasons(detail.get("unassigned") or [])
        except backend.ServiceError:
            board["unassigned_reasons"] = []
    return render(request, "logistics.html", p, board=board, msg=msg, err=err)


@router.post("/ui/logistics/plans/{plan_id}/publish")
async def publish_plan(request: Request, plan_id: str) -> Response:
    def act(ws: Any, p: Any, form: dict[str, Any]) -> Response:
        res = _service("logistics").publish_plan(ws, p, plan_id)
        text = (f"Published {res.get('plan_id', plan_id)}: {res.get('scheduled', 0)} "
                "detainees scheduled")
        if res.get("unscheduled"):
            text += f", {res['unscheduled']} no longer scheduled"
        if res.get("superseded"):
            text += f"; supersedes {res['superseded']}"
        if res.get("withheld"):
            text += f"; {len(res['withheld'])} withheld (gates no longer pass)"
        return _redirect("/ui/logistics", msg=text + ".")

    return await _form_action(
        request, "logistics.plan", act,
        lambda form, m: _redirect("/ui/logistics", err=f"Plan {plan_id} not published: {m}"))


# ---- audit ------------------------------------------------------------------------------------
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+Z?)?$")


@router.get("/ui/audit")
def audit_page(request: Request, user: str | None = None, person: str | None = None,
               action: str | None = None, since: str | None = None, page: int = 1,
               verify: int = 0) -> Response:
    p, r = _gate(request, "audit.read")
    if r is not None:
        return r
    ws = backend.workspace(request)
    page = max(1, min(int(page), 100_000))
    per = 50
    error = None
    if since and not ISO_DATE.match(since):
        error, since = f"'Since' must be a date (YYYY-MM-DD), not {since!r}.", None
    filters = {"user": (user or "")[:128] or None, "person": (person or "")[:128] or None,
               "action": (action or "")[:64] or None, "since": since or None}
    events, total = backend.audit_events(ws, p, limit=per, offset=(page - 1) * per, **filters)
    chain = last_check = None
    if backend.allowed(p, "audit.verify"):
        if verify:
            chain = backend.verify_chain(ws, p)
        else:
            last = backend.gaudit.list_events(ws, action="audit.verify", limit=1)[0]
            last_check = last[0] if last else None
    return render(request, "audit.html", p, events=events, total=total, page=page, per=per,
                  filters={k: v or "" for k, v in filters.items()}, chain=chain,
                  last_check=last_check, error=error,
                  pages=max(1, (total + per - 1) // per),
                  qs=urlencode({k: v for k, v in filters.items() if v}))
