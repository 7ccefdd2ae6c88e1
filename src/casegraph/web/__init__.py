"""The web UI: server-rendered pages on the API's FastAPI app (``casegraph serve``).

``casegraph.web.routes.router`` is included by ``casegraph.api.app.create_app``; ``/``
redirects to ``/ui/``, which sends each role to its first page.

Pages (all under ``/ui``; a role sees only the pages and buttons its permissions allow):

- ``/ui/login`` — errors and lockout messages from ``governance.users.login``.
- ``/ui/search`` — search as you type (debounced fetch of ``/ui/search/results``), matched
  words highlighted, filters; identifier searches need a purpose.
- ``/ui/persons/{id}`` — asks for the purpose of use first (dialog; a page without
  JavaScript), then: identity card with per-value provenance, linked records with match
  probability and an explanation waterfall (``/ui/explain``), timeline, legal gates with
  evidence links, priority contributions chart, location candidates on a map.
- ``/ui/leads`` — sortable/filterable worklist and a US map (click a state or point, drag a
  rectangle, or use the keyboard) that filters the table; approve/reject with reason and
  flag acknowledgements (supervisors).
- ``/ui/cases`` and ``/ui/cases/{id}`` — officers' own cases, the supervisors' assignment
  board, outcomes and contact notes, case history.
- ``/ui/review`` — identity review queue: two records side by side, differences
  highlighted, per-field weights, same/different with reason.
- ``/ui/departures`` — departures per month by channel, verified vs claimed, nationality.
- ``/ui/logistics`` — facility occupancy, legs with seats filled, the current plan, why
  detainees are unassigned, publishing a draft plan (logistics officers).
- ``/ui/audit`` — filterable audit events and hash-chain verification (auditors).

Modules: ``routes`` (pages), ``backend`` (the seam to ``api.deps`` and the governance
services), ``data`` (read-only warehouse helpers tolerant of missing tables), ``charts``
(server-side SVG charts), ``geo`` (the bundled ``us-atlas`` state outlines and an
AlbersUsa projection). Every asset is in ``static/``: nothing loads from the internet.
"""
