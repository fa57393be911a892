"""What staff see of reach (issue 17): the interpreter a caller asked for, and callbacks to be made
through Relay UK, which the service's "Call now" leaves to the officer's own phone."""

import html

from sqlalchemy import select

from ivr.models import CallAttempt, Callback, CallbackEvent
from tests.conftest import MOBILE, SATURDAY


def page_of(client, callback_id) -> str:
    return html.unescape(client.get(f"/staff/callbacks/{callback_id}").get_data(as_text=True))


def test_a_callback_booked_in_polish_shows_staff_the_interpreter_it_needs(phone, client, staff_login, session):
    phone.ring(MOBILE, at=SATURDAY).press("5").press("1").press("1")
    callback_id = session.scalars(select(Callback.id)).one()
    staff_login.login()
    assert "Needs a Polish interpreter" in page_of(client, callback_id)
    queue = html.unescape(client.get("/staff/?status=open").get_data(as_text=True))
    assert "Polish interpreter" in queue


def test_an_officer_marks_a_callback_call_via_relay_uk_and_call_now_says_how(client, staff_login, make_callback,
                                                                           session):
    callback_id = make_callback()
    staff_login.login()
    page = f"/staff/callbacks/{callback_id}"
    assert "Mark: call via Relay UK (18002)" in page_of(client, callback_id)
    staff_login.post(f"/staff/callbacks/{callback_id}/relay/on", page=page)
    shown = page_of(client, callback_id)
    assert "Call via Relay UK (18002)" in shown and "dial 18002 then their number" in shown
    assert "“Call now” is not available:" in shown and "The service cannot dial through the relay." in shown
    assert "Via Relay UK (18002)" in html.unescape(client.get("/staff/?status=open").get_data(as_text=True))
    refused = staff_login.post(f"/staff/callbacks/{callback_id}/call", page=page, follow_redirects=True)
    assert "The service cannot dial through the relay." in html.unescape(refused.get_data(as_text=True))
    session.expire_all()
    assert session.scalars(select(CallAttempt)).all() == []  # nothing dialled
    assert session.get(Callback, callback_id).via_relay
    assert "Marked: call via Relay UK (18002)." in [e.detail for e in session.scalars(
        select(CallbackEvent).where(CallbackEvent.callback_id == callback_id))]
    staff_login.post(f"/staff/callbacks/{callback_id}/relay/off", page=page)
    session.expire_all()
    assert not session.get(Callback, callback_id).via_relay
