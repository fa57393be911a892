"""The staff pages in a real browser (Debian's chromium, driven by Playwright) against a real server:
an officer works the queue with JavaScript switched off, starting from a callback a caller booked
through a simulated call, and axe-core finds no serious accessibility problems. Then the same work
as deployed: over https through Debian's nginx, in front of gunicorn in production mode. `./dev test`
installs chromium and nginx, and fetches axe-core, when they are missing."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from ivr.db.sessions import session_scope
from ivr.models import Callback, CallbackEvent, InboundText, Reminder, Voicemail
from tests.conftest import LANDLINE, MOBILE, STAFF_PASSWORD, StaffActions

CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parent.parent / ".cache" / "axe-core" / "axe.min.js"
SCREENSHOT = Path("/tmp/staff-queue.png")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not installed at /usr/bin/chromium (./dev test installs it)")


@pytest.fixture
def app_config(app_config):
    # Served over plain http on 127.0.0.1, so the session cookie cannot be Secure here.
    return app_config | {"PUBLIC_URL": None}


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def officer_account(app):
    StaffActions(app, None).create("officer@example.org", "staff")
    return "officer@example.org"


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/staff/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == base_url + "/staff/", page.locator("main").inner_text()


# A mobile other than the landline below, so the number ending alone tells the two callbacks apart.
CALLER = "+447911000789"


def test_an_officer_records_spoke_on_a_callback_booked_by_phone_and_reschedules_another_without_javascript(
        browser, live_server, officer_account, book_by_phone, make_callback, app):
    first = book_by_phone(CALLER)  # on Saturday 28 November, for Monday morning
    second = make_callback(phone_number=LANDLINE, region="durham", texts_ok=False)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, officer_account)

    ending_789 = page.locator("td.number", has_text=re.compile(r"789$"))
    page.get_by_role("row").filter(has=ending_789).get_by_role("link").click()
    page.wait_for_url(f"{live_server}/staff/callbacks/{first}")
    assert "07911 000789" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_label("Spoke to them").check()
    page.get_by_label("Note (optional)").fill("Talked it through; sending the leaflet")
    page.get_by_role("button", name="Record the attempt").click()
    assert page.get_by_role("status").inner_text() == "The attempt is recorded."

    page.get_by_role("link", name="Queue", exact=True).click()
    page.get_by_role("row").filter(has_text="01642 123456").get_by_role("link").click()
    day_choices = page.get_by_label("Day").locator("option").all()
    new_day = day_choices[2].get_attribute("value")  # [0] is "Choose a day"; [2] is never today
    page.get_by_label("Day").select_option(new_day)
    page.get_by_label("Afternoon").check()
    page.get_by_role("button", name="Reschedule").click()
    assert "rescheduled" in page.get_by_role("status").inner_text()
    context.close()

    with session_scope(app) as session:
        attempt = session.scalars(select(CallbackEvent).where(CallbackEvent.kind == "attempt")).one()
        assert (attempt.callback_id, attempt.outcome) == (first, "spoke")
        moved = session.get(Callback, second)
        assert moved.window_start.date().isoformat() == new_day


def test_the_skip_link_is_the_first_thing_the_keyboard_reaches(browser, live_server):
    page = browser.new_page()
    page.goto(live_server + "/staff/sign-in")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.close()


def _serious_violations(page) -> list[str]:
    page.add_script_tag(content=AXE_JS.read_text())
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.skipif(not AXE_JS.exists(), reason=f"axe-core is not at {AXE_JS} (./dev test fetches it with npm)")
def test_sign_in_queue_and_callback_pages_pass_axe(browser, live_server, officer_account, make_callback, app):
    first = make_callback()
    make_callback(phone_number=LANDLINE, region="durham", voicemail_ok=False, texts_ok=False)
    flagged = make_callback(region="vcas")
    with session_scope(app) as session:
        callback = session.get(Callback, first)
        session.add(Reminder(callback_id=flagged, kind="day_before", to_number=MOBILE, due_at=callback.window_start,
                             useful_until=callback.window_end, status="unknown"))
        session.add(Voicemail(recording_sid="RE" + "2" * 32, region="cleveland", from_number=MOBILE,
                              duration_seconds=37))
        session.add(InboundText(message_sid="SM" + "3" * 32, from_number=LANDLINE, body="Who is this?",
                                command="other"))
    # The page's own CSP rightly forbids injected scripts; the audit alone is allowed past it.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server + "/staff/sign-in")
    problems = {"sign-in": _serious_violations(page)}
    sign_in(page, live_server, officer_account)
    problems["queue"] = _serious_violations(page)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.goto(f"{live_server}/staff/callbacks/{first}")
    problems["callback"] = _serious_violations(page)
    page.goto(f"{live_server}/staff/callbacks/new")
    problems["new callback"] = _serious_violations(page)
    context.close()
    assert problems == {"sign-in": [], "queue": [], "callback": [], "new callback": []}


@pytest.mark.skipif(not AXE_JS.exists(), reason=f"axe-core is not at {AXE_JS} (./dev test fetches it with npm)")
def test_closed_now_banner_and_closures_page_pass_axe(browser, live_server, app):
    StaffActions(app, None).create("admin@example.org", "admin")
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    sign_in(page, live_server, "admin@example.org")
    page.goto(live_server + "/staff/admin/closures")
    page.get_by_label("Open again by itself at").fill("2099-12-03T14:00")
    page.get_by_role("button", name="Close the office now").click()
    banner = page.get_by_role("region", name="Closed now", exact=True)
    assert "It ends by itself on Thu 3 Dec 2099, 2pm." in banner.inner_text()
    problems = {"closures": _serious_violations(page)}
    page.goto(live_server + "/staff/")
    assert page.get_by_role("region", name="Closed now", exact=True).is_visible()
    problems["queue"] = _serious_violations(page)
    context.close()
    assert problems == {"closures": [], "queue": []}


# --- as deployed: https through nginx, gunicorn in production mode --------------------------------


def test_over_https_behind_nginx_an_officer_signs_in_works_a_callback_and_signs_out(
        browser, behind_nginx, officer_account, make_callback, app):
    base = behind_nginx.url
    callback_id = make_callback()
    # The certificate is the test's own; the browser is told to accept it, and nothing else changes.
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    sign_in(page, base, officer_account)
    [cookie] = [c for c in context.cookies() if c["name"] == "session"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.goto(f"{base}/staff/callbacks/{callback_id}")
    page.get_by_label("No answer").check()
    page.get_by_role("button", name="Record the attempt").click()
    assert page.get_by_role("status").inner_text() == "The attempt is recorded."
    page.get_by_label("Note", exact=True).fill("Try again after lunch")
    page.get_by_role("button", name="Add the note").click()
    assert "note" in page.get_by_role("status").inner_text().lower()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(base + "/staff/sign-in")
    assert page.get_by_role("status").inner_text() == "You have signed out."
    page.goto(f"{base}/staff/callbacks/{callback_id}")
    assert page.url == base + "/staff/sign-in"
    context.close()

    with session_scope(app) as session:
        events = session.scalars(select(CallbackEvent).where(CallbackEvent.callback_id == callback_id)
                                 .order_by(CallbackEvent.id)).all()
        assert [(e.kind, e.outcome, e.detail) for e in events if e.kind in ("attempt", "note")] == [
            ("attempt", "no_answer", ""), ("note", None, "Try again after lunch")]


# --- at a desk and on a phone: 1366 and 390 px wide -----------------------------------------------

WIDTHS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
NOTES = Path("/tmp/notes")

# What sticks out of the viewport, or scrolls sideways inside it: each a line saying which element.
CUT_OFF = """() => {
  const width = document.documentElement.clientWidth, found = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                       (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  if (document.documentElement.scrollWidth > width) found.push(`the page is ${document.documentElement.scrollWidth}px wide`);
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.visually-hidden, .skip-link, thead')) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.left < -1 || box.right > width + 1) found.push(`${name(el)} spans ${Math.round(box.left)} to ${Math.round(box.right)}px`);
    const sideways = getComputedStyle(el).overflowX;
    if (sideways !== 'visible' && el.scrollWidth > el.clientWidth + 1) found.push(`${name(el)} hides ${el.scrollWidth - el.clientWidth}px sideways`);
  }
  return found.slice(0, 8);
}"""


def cut_off(page) -> list[str]:
    return page.evaluate(CUT_OFF)


def in_view(locator) -> bool:
    box, viewport = locator.bounding_box(), locator.page.viewport_size
    return (box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
            and box["y"] >= 0 and box["y"] < viewport["height"])


@pytest.fixture
def busy_queue(app, make_callback):
    """A queue with something in every section: due, upcoming, flagged, a voicemail, a stray text."""
    ids = [make_callback(region=region) for region in ("cleveland", "durham", "vcas")]
    with session_scope(app) as session:
        first = session.get(Callback, ids[0])
        session.add(Reminder(callback_id=ids[1], kind="day_before", to_number=MOBILE, due_at=first.window_start,
                             useful_until=first.window_end, status="unknown"))
        session.add(InboundText(message_sid="SM" + "4" * 32, from_number=MOBILE, callback_id=ids[0],
                                body="Yes please, after 3 would be best as I collect the children first", command="other"))
        voicemail = Voicemail(recording_sid="RE" + "5" * 32, region="durham", from_number=LANDLINE, duration_seconds=41)
        session.add(voicemail)
        session.add(InboundText(message_sid="SM" + "6" * 32, from_number=LANDLINE, body="Who is this please?",
                                command="other"))
        session.flush()
        return {"callbacks": ids, "voicemail": voicemail.id}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen_at_a_desk_and_on_a_phone(browser, live_server, officer_account, busy_queue,
                                                              width):
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    sign_in(page, live_server, officer_account)
    problems = {"queue": cut_off(page)}
    rows = page.locator("table.queue tbody tr")
    assert rows.count() >= 3
    if width == "phone":  # stacked: one block per callback, each cell under its column's name
        assert rows.first.evaluate("row => getComputedStyle(row).display") == "block"
        assert rows.first.locator("td.number").evaluate("td => getComputedStyle(td, '::before').content") \
            == '"Number: "'

    NOTES.mkdir(exist_ok=True)
    page.screenshot(path=str(NOTES / f"queue-{WIDTHS[width]['width']}.png"), full_page=True)

    page.goto(f"{live_server}/staff/callbacks/{busy_queue['callbacks'][0]}")
    problems["callback"] = cut_off(page)
    for name in ("Record the attempt", "Reschedule", "Assign to me", "Mark complete", "Cancel the callback",
                 "Add the note"):
        button = page.get_by_role("button", name=name, exact=True)
        button.scroll_into_view_if_needed()
        assert in_view(button), f"{name} is not within the screen"

    page.goto(f"{live_server}/staff/voicemails/{busy_queue['voicemail']}")
    problems["voicemail"] = cut_off(page)
    for name in ("Book a callback",):
        link = page.get_by_role("link", name=name, exact=True)
        link.scroll_into_view_if_needed()
        assert in_view(link)
    page.goto(f"{live_server}/staff/voicemails")
    problems["voicemails"] = cut_off(page)
    page.goto(f"{live_server}/staff/callbacks/new")
    problems["new callback"] = cut_off(page)
    context.close()
    assert problems == {"queue": [], "callback": [], "voicemail": [], "voicemails": [], "new callback": []}


@pytest.mark.parametrize("width", WIDTHS)
def test_after_a_form_error_the_officer_lands_on_it(browser, live_server, officer_account, busy_queue, width):
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    sign_in(page, live_server, officer_account)

    # A form with a summary: the summary has the focus, in view, and nothing is cut off.
    page.goto(f"{live_server}/staff/callbacks/new")
    page.get_by_role("button", name="Book the callback").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    assert "There is a problem" in summary.inner_text() and in_view(summary)
    assert cut_off(page) == []

    # Far down a long page: the first field in error has the focus, and is in view.
    page.goto(f"{live_server}/staff/callbacks/{busy_queue['callbacks'][0]}")
    page.get_by_role("button", name="Add the note").click()
    expect(page.locator("#text")).to_be_focused()  # autofocus is applied as the page settles: wait for it
    assert in_view(page.locator("#text")) and "Write the note first." in page.locator("#text-error").inner_text()

    # A filter the queue cannot use.
    page.goto(f"{live_server}/staff/?number=12")
    alert = page.get_by_role("alert")
    expect(alert).to_be_focused()
    assert "The filter could not be used" in alert.inner_text() and in_view(alert)
    assert cut_off(page) == []
    context.close()
