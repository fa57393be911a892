"""Texting back and the Figures page in a real browser (Debian's chromium, through Playwright): an
officer answers a victim's text from the callback page with JavaScript off and sees it delivered in
the conversation; the service manager reads the Figures page, its charts drawn without a script.
Both pages pass axe-core. Screenshots go to /tmp/notes for the lead's note."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.db.sessions import session_scope
from ivr.models import Call, Callback, CallbackEvent, CallStep, Reminder, TextKind, Voicemail
from scheduler import run_once
from tests.conftest import MOBILE, StaffActions, TwilioSigner, at_london
from tests.test_staff_browser import (  # noqa: F401 - the fixtures, shared
    AXE_JS,
    _serious_violations,
    browser,
    live_server,
    sign_in,
)

NOTES = Path("/tmp/notes")
MONDAY_10AM = at_london(2026, 11, 30, 10)

pytestmark = pytest.mark.skipif(not AXE_JS.exists(), reason=f"axe-core is not at {AXE_JS} (./dev test fetches it)")


@pytest.fixture
def app_config(app_config, double):
    # Served over plain http on 127.0.0.1 (so no PUBLIC_URL: the cookie cannot be Secure), with the Twilio double.
    return app_config | {"PUBLIC_URL": None, "TWILIO_API_BASE_URL": double.base_url, "TWILIO_HTTP_TIMEOUT": 1.0,
                         "SMS_RATE_PER_SECOND": 0, "OFFICE_HOURS_CACHE_SECONDS": 0}


def test_an_officer_texts_back_without_javascript_and_sees_it_delivered(browser, live_server, app, make_callback,
                                                                         clock, double):
    clock.moment = MONDAY_10AM
    callback_id = make_callback(phone_number=MOBILE, day=at_london(2026, 12, 2, 9).date())
    StaffActions(app, None).create("officer@example.org", "staff")
    twilio = TwilioSigner(app.test_client(), public_url="http://localhost")
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "7" * 32, "From": MOBILE,
                                  "Body": "Can you call after 3 instead? Not before."})
    context = browser.new_context(java_script_enabled=False, bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "officer@example.org")
    page.goto(f"{live_server}/staff/callbacks/{callback_id}")
    page.get_by_label("What day and time suits you? Reply here and we'll call you then.").check()
    page.get_by_role("button", name="Send the text").click()
    assert "on its way" in page.get_by_role("status").inner_text()

    assert run_once(app) == {"sent": 1}
    with session_scope(app) as session:
        sid = session.scalars(select(Reminder.message_sid).where(Reminder.kind == TextKind.STAFF)).one()
    twilio.post("/sms/status", {"MessageSid": sid, "MessageStatus": "delivered"})
    page.reload()
    conversation = page.locator("section.conversation")
    lines = conversation.locator("ol.thread > li").all_inner_texts()
    assert "Can you call after 3 instead?" in lines[0] and "What day and time suits you?" in lines[1]
    assert "Delivered" in lines[1]
    context.close()
    # axe needs a script of its own: a second look at the page, with JavaScript on.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "officer@example.org")
    page.goto(f"{live_server}/staff/callbacks/{callback_id}#conversation-heading")
    NOTES.mkdir(exist_ok=True)
    page.locator("section.conversation").screenshot(path=str(NOTES / "texts-thread.png"))
    problems = _serious_violations(page)
    context.close()
    assert problems == []
    assert [m.form["Body"] for m in double.messages] == ["What day and time suits you? Reply here and we'll call you then."]


def test_the_figures_page_draws_its_charts_without_a_script_and_passes_axe(browser, live_server, app, clock):
    clock.moment = at_london(2026, 12, 15, 12)
    StaffActions(app, None).create("manager@example.org", "admin")
    with session_scope(app) as session:
        for n in range(60):
            started = at_london(2026, 10, 1, 8) + timedelta(days=n, hours=n % 11)
            sid = f"CA{n:032d}"
            session.add(Call(call_sid=sid, region=("cleveland", "durham", "vcas", None)[n % 4], started_at=started,
                             status="completed"))
            session.add_all(CallStep(call_sid=sid, choice=choice, at=started)
                            for choice in (("rj_info",), ("team", "put_through", "answered"), ("callback",),
                                           ("team", "put_through", "not_answered", "message"))[n % 4])
            if n % 3 == 0:
                booked = Callback(region=("cleveland", "durham", "vcas")[n // 3 % 3], phone_number=f"+4479111{n:05d}",
                                  window_start=started + timedelta(days=1),
                                  window_end=started + timedelta(days=1, hours=3),
                                  status=("completed", "booked", "cancelled")[n % 9 // 3], created_at=started,
                                  call_sid=f"CB{n:032d}" if n % 2 else None)
                session.add(booked)
                session.flush()
                session.add(CallbackEvent(callback_id=booked.id, at=booked.window_start + timedelta(hours=1),
                                          kind="attempt", outcome=("spoke", "no_answer", "not_safe")[n % 9 // 3]))
            if n % 5 == 0:
                session.add(Voicemail(recording_sid=f"RE{n:032d}", region="durham", created_at=started,
                                      listened_at=started + timedelta(hours=20)))
    context = browser.new_context(bypass_csp=True, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "manager@example.org")
    page.get_by_role("link", name="Figures").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Figures"
    charts = page.locator("svg.chart")
    assert charts.count() == 4 and charts.first.is_visible()
    assert page.locator("script").count() == 0  # drawn on the server: nothing to run, nothing from elsewhere
    assert page.get_by_role("img", name="Calls by hour of day, all teams").is_visible()
    NOTES.mkdir(exist_ok=True)
    page.screenshot(path=str(NOTES / "figures.png"), full_page=True)
    problems = _serious_violations(page)
    context.close()
    assert problems == []
