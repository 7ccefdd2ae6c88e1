"""The web UI in a real browser: every role's main journey, screenshots, no internet.

Each test is independent (xdist may run them on different workers, each with its own
workspace, server and browser); the dependent lead → case → audit steps are one test.
Screenshots land in tests/artefacts/web/ (git-ignored).
"""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import UI

pytestmark = pytest.mark.browser

PURPOSE = "CASE-2026-0042"


def expect_text(ui: UI, selector: str, text: str) -> None:
    ui.page.wait_for_selector(selector)
    got = ui.page.inner_text(selector)
    assert text in got, f"{text!r} not in {selector}: {got[:400]!r}"


def nav_labels(ui: UI) -> list[str]:
    return [t.strip() for t in ui.page.locator("header nav a").all_inner_texts()]


def test_login_errors_lockout_and_role_navigation(ui: UI) -> None:
    ui.go("/ui/search")
    assert "/ui/login" in ui.page.url  # not logged in: sent to the login page
    ui.login("analyst", "not-the-password")
    expect_text(ui, "#login-error", "Wrong user name or password")
    assert ui.page.get_attribute("#username", "aria-invalid") == "true"
    ui.shot("login-error")
    for _ in range(5):
        ui.login("lockme", "wrong-password-again")
    expect_text(ui, "#login-error", "Account locked")
    expect_text(ui, "#login-error", "locked")
    ui.login("lockme")  # even the right password is refused while locked
    expect_text(ui, "#login-error", "locked until")
    ui.shot("login-locked")

    expected = {
        "analyst": ["Search", "Leads", "Identity review", "Departures"],
        "supervisor": ["Search", "Leads", "Cases", "Identity review", "Departures", "Logistics"],
        "officer": ["Cases", "Departures"],
        "logistics": ["Departures", "Logistics"],
        "auditor": ["Audit"],
        "admin": [],
    }
    for role, labels in expected.items():
        ui.login(role)
        assert nav_labels(ui) == labels, role
        expect_text(ui, "[data-testid=role]", role)
        ui.page.click("header form button")  # log out
        ui.page.wait_for_load_state("load")
        expect_text(ui, "main", "You are logged out")
    # a page the role may not use is refused with a message, not a blank page
    ui.login("logistics")
    resp = ui.go("/ui/audit")
    assert resp.status == 403
    expect_text(ui, "main", "may not read the audit trail")


def test_analyst_searches_and_opens_a_profile_with_a_purpose(ui: UI) -> None:
    ui.login("analyst")
    assert ui.page.url.endswith("/ui/search")
    ui.page.fill("#q", "lopez")  # results as you type: no submit
    ui.page.wait_for_selector("#results li[data-person='P-000001']")
    assert ui.page.locator("#results mark").count() >= 1  # matched words highlighted
    expect_text(ui, "#results mark", "Lopez")
    ui.shot("search")
    # an identifier search needs a purpose
    ui.page.fill("#q", "012345678")
    expect_text(ui, "[data-testid=search-error]", "purpose")
    ui.page.fill("#f-purpose", PURPOSE)
    ui.page.wait_for_selector("#results li[data-person='P-000001']")

    # opening the profile asks for the purpose first (dialog)
    ui.page.click("#results li[data-person='P-000001'] a.name")
    dlg = ui.page.locator("#purpose-dialog")
    assert dlg.is_visible()
    expect_text(ui, "#purpose-dialog", "Purpose of use")
    ui.page.fill("#purpose-input", "too short")
    ui.page.click("#purpose-dialog button[type=submit]")
    ui.page.wait_for_load_state("load")
    expect_text(ui, "#purpose-error", "neither a case number nor a justification")
    ui.page.fill("#purpose", PURPOSE)
    ui.page.click("main form button[type=submit]")
    ui.page.wait_for_selector("[data-testid=person-name]")
    expect_text(ui, "[data-testid=person-name]", "Maria Lopez Garcia")
    expect_text(ui, "[data-testid=purpose]", PURPOSE)
    expect_text(ui, "#gates-h", "Legal gates")
    assert ui.page.locator(".gate").count() == 7
    expect_text(ui, "main", "Linked records")
    assert ui.page.locator("#recs-h ~ div table tbody tr").count() == 6
    expect_text(ui, "ol.timeline", "Removal order")
    expect_text(ui, "ol.timeline", "Conviction")
    assert ui.page.locator("svg.chart").count() >= 1  # priority contributions
    assert ui.page.locator(".map svg path.state").count() == 49  # zoomed: no AK/HI insets
    assert ui.page.locator(".map circle.pt").count() == 1
    # provenance of a canonical value, on hover and on click
    ui.page.hover("button.prov[data-field=full_name]")
    expect_text(ui, "#prov-pop", "eoir:O1")
    expect_text(ui, "#prov-pop", "load batch")
    # explain a link
    ui.page.locator("button[data-explain-url]").first.click()
    ui.page.wait_for_selector("#explain-panel h3")
    expect_text(ui, "#explain-panel", "Why")
    ui.shot("profile")
    # an analyst sees no approve/reject buttons on the worklist
    ui.go("/ui/leads")
    expect_text(ui, "#leads-table", "L-0001")
    assert ui.page.locator("button:has-text('Approve')").count() == 0


def supervisor_filters_on_the_map_approves_and_assigns(ui: UI) -> None:
    ui.login("supervisor")
    ui.go("/ui/leads")
    rows = ui.page.locator("#leads-table tbody tr")
    assert rows.count() == 4
    assert ui.page.locator(".map circle.pt").count() == 4
    # selecting a state on the map filters the table
    ui.page.locator(".map path.state[data-region=TX]").click()
    assert ui.page.locator("#leads-table tbody tr:visible").count() == 1
    expect_text(ui, "#leads-table tbody tr:visible", "L-0001")
    expect_text(ui, "[data-selection-status]", "TX")
    ui.shot("leads-map-filter")
    ui.page.click("[data-clear-selection]")
    assert ui.page.locator("#leads-table tbody tr:visible").count() == 4
    # the same with the keyboard: focus a state, press Enter
    ui.page.focus(".map path.state[data-region=CA]")
    ui.page.keyboard.press("Enter")
    assert ui.page.locator("#leads-table tbody tr:visible").count() == 1
    expect_text(ui, "#leads-table tbody tr:visible", "L-0002")
    ui.page.click("[data-clear-selection]")
    # clicking a point selects its lead
    ui.page.locator(".map circle.pt[data-id='L-0003']").click()
    assert ui.page.locator("#leads-table tbody tr:visible").count() == 1
    ui.page.click("[data-clear-selection]")
    # sorting by a column
    ui.page.click("#leads-table th:nth-child(2) button.sort")
    assert ui.page.locator("#leads-table tbody tr").first.get_attribute("data-id") == "L-0001"

    # approving a lead with a sensitive-site flag needs an explicit acknowledgement
    ui.page.click("button[aria-label='Approve lead L-0002']")
    expect_text(ui, "#decide-dialog", "Safeguard flags need your acknowledgement")
    expect_text(ui, "#decide-dialog", "sensitive_site")
    ui.page.fill("#reason", "Final order, no stay; verified address")
    ui.page.click("#decide-dialog button[type=submit]")
    # the browser refuses the form until the flag is acknowledged
    assert ui.page.locator("#decide-dialog").is_visible()
    ui.page.check("#decide-dialog input[name=acknowledge]")
    ui.shot("lead-approve-dialog")
    ui.page.click("#decide-dialog button[type=submit]")
    ui.page.wait_for_selector("[data-testid=flash]")
    expect_text(ui, "[data-testid=flash]", "Lead L-0002 approved; case C-")
    expect_text(ui, "#leads-table tr[data-id='L-0002']", "open")
    # rejecting another one with a reason
    ui.page.click("button[aria-label='Reject lead L-0004']")
    ui.page.fill("#reason", "Address is a shelter; do not pursue")
    ui.page.click("#decide-dialog button[type=submit]")
    expect_text(ui, "[data-testid=flash]", "Lead L-0004 rejected")
    ui.shot("leads")

    # assignment board: assign the new case to the officer
    ui.go("/ui/cases")
    expect_text(ui, "h1", "Case assignment board")
    row = ui.page.locator("#cases-table tbody tr").first
    row.locator("select[name=officer]").select_option("officer")
    row.locator("button:has-text('Assign')").click()
    ui.page.wait_for_selector("[data-testid=flash]")
    expect_text(ui, "[data-testid=flash]", "assigned to officer")
    expect_text(ui, "#cases-table", "assigned")
    ui.shot("cases-board")


def officer_records_a_case_outcome(ui: UI) -> None:
    ui.login("officer")
    assert ui.page.url.endswith("/ui/cases")
    expect_text(ui, "h1", "My cases")
    expect_text(ui, "#cases-table", "Jose Hernandez")
    assert ui.page.locator("select[name=officer]").count() == 0  # officers cannot assign
    ui.page.locator("#cases-table button:has-text('Record outcome')").first.click()
    ui.page.select_option("#outcome", "located")
    ui.page.fill("#notes", "Subject located at the candidate address; no incident.")
    ui.shot("case-outcome-dialog")
    ui.page.click("#outcome-dialog button[type=submit]")
    ui.page.wait_for_selector("[data-testid=flash]")
    expect_text(ui, "[data-testid=flash]", "Outcome 'located' recorded")
    expect_text(ui, "[data-testid=case-status]", "located")
    ui.shot("cases-officer")
    # the case page: its history and a contact note
    ui.page.click("#cases-table a[href^='/ui/cases/C-']")
    expect_text(ui, "[data-testid=case-history]", "Subject located at the candidate address")
    ui.page.fill("#c-note", "Spoke with the landlord; subject present.")
    ui.page.click("button:has-text('Add note')")
    expect_text(ui, "[data-testid=flash]", "Note added")
    expect_text(ui, "[data-testid=case-history]", "Spoke with the landlord")
    ui.shot("case")
    ui.go("/ui/cases")
    # the officer may open the person of their own case, not anybody else
    # opening the person of a case asks for the purpose, prefilled with the case number
    ui.page.click("#cases-table a[data-purpose]")
    assert ui.page.input_value("#purpose-input").startswith("C-")
    ui.page.click("#purpose-dialog button[type=submit]")
    ui.page.wait_for_selector("[data-testid=person-name]")
    expect_text(ui, "[data-testid=person-name]", "Jose Hernandez")
    assert ui.page.inner_text("[data-testid=purpose]").startswith("C-")
    expect_text(ui, "main", "Case history")
    resp = ui.go(f"/ui/persons/P-000003?purpose={PURPOSE}")
    assert resp.status == 404


def test_analyst_resolves_an_identity_review_item(ui: UI) -> None:
    ui.login("analyst")
    ui.go("/ui/review?item=R-0001")
    expect_text(ui, "#cmp-h", "R-0001")
    # differences are highlighted side by side
    assert ui.page.locator("table.compare td.differs").count() >= 2
    expect_text(ui, "table.compare", "Lopez Garcia")
    ui.shot("review")
    ui.page.fill("#rv-reason", "Same birth date and given name; DMV record omits second surname")
    ui.page.click("button[value=same]")
    ui.page.wait_for_selector("[data-testid=flash]")
    expect_text(ui, "[data-testid=flash]", "R-0001: recorded 'same'")
    expect_text(ui, "#q-h", "Open items (1)")


def test_departures_and_logistics_dashboards(ui: UI) -> None:
    ui.login("logistics")
    assert ui.page.url.endswith("/ui/logistics")
    expect_text(ui, "#fac-h", "Facilities")
    expect_text(ui, "main", "South Texas Processing Center")
    assert ui.page.locator("svg.meter").count() >= 4  # occupancy and seat bars
    expect_text(ui, "main", "LEG-1")
    if ui.page.locator("[data-testid=seat-utilisation]").count():  # the planner is installed
        expect_text(ui, "#plan-h ~ dl", "TP-000001")
        expect_text(ui, "main", "Why detainees are not assigned")
        ui.shot("logistics")
        ui.page.click("button:has-text('Publish plan TP-000001')")
        ui.page.wait_for_selector("[data-testid=flash]")
        expect_text(ui, "[data-testid=flash]", "Published TP-000001")
        expect_text(ui, "#plan-h ~ dl", "published")
    else:
        ui.shot("logistics")
    ui.go("/ui/departures")
    expect_text(ui, "[data-testid=dep-total]", "2")
    expect_text(ui, "main", "claimed (self-report only)")
    assert ui.page.locator("svg.chart").count() == 2
    expect_text(ui, "#claimed-table", "Li Wei")
    ui.shot("departures")


def auditor_sees_the_events_and_the_chain(ui: UI) -> None:
    ui.login("auditor")
    assert ui.page.url.endswith("/ui/audit")
    ui.page.click("button:has-text('Verify the hash chain now')")
    expect_text(ui, "[data-testid=chain-status]", "audit chain intact")
    ui.go("/ui/audit")
    expect_text(ui, "[data-testid=chain-last]", "audit chain intact")
    ui.page.fill("#a-action", "lead.*")
    ui.page.click("main form button[type=submit]")
    ui.page.wait_for_load_state("load")
    table = ui.page.inner_text("#audit-table")
    assert "lead.approve" in table and "lead.reject" in table
    assert "supervisor" in table
    ui.page.fill("#a-action", "person.read")
    ui.page.fill("#a-person", "P-000002")
    ui.page.click("main form button[type=submit]")
    ui.page.wait_for_load_state("load")
    expect_text(ui, "#audit-table", "officer")  # the officer's read, with the case as purpose
    assert re.search(r"\bC-\d+", ui.page.inner_text("#audit-table"))
    ui.go("/ui/audit?action=case.assign")
    expect_text(ui, "#audit-table", "supervisor")
    ui.go("/ui/audit?action=case.outcome")
    expect_text(ui, "#audit-table", "officer")
    ui.go("/ui/audit")
    assert re.search(r"\d+ events", ui.page.inner_text("main"))
    ui.shot("audit")


def test_lead_to_case_journey_and_its_audit_trail(ui: UI) -> None:
    """Supervisor approves a flagged lead and assigns the case; the officer records an
    outcome and a note; the auditor finds every step in the verified audit trail.
    (One test: the steps depend on each other, and xdist may split tests over workers.)"""
    supervisor_filters_on_the_map_approves_and_assigns(ui)
    officer_records_a_case_outcome(ui)
    auditor_sees_the_events_and_the_chain(ui)
