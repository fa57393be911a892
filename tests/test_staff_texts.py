"""Texts that match no callback are kept for staff: the queue shows them, whatever the filter,
until an officer marks them handled, and both the view and the change are audited."""

import pytest
from sqlalchemy import select

from ivr.models import AuditEvent, InboundText
from tests.conftest import LANDLINE, MOBILE, utc

NOW = utc(2026, 11, 30, 10)
HEADING = "Texts that match no callback"


@pytest.fixture(autouse=True)
def monday_morning(clock):
    clock.moment = NOW


@pytest.fixture
def officer(staff_login):
    staff_login.login()
    return staff_login


def received(session, body: str, *, callback_id: int | None = None, command: str = "other",
             handled: bool = False, anonymised: bool = False, from_number: str = MOBILE) -> int:
    """A text as the reply handler stores it."""
    text = InboundText(message_sid=f"SM{body.encode().hex()[:32]}", from_number=from_number, body=body,
                       command=command, callback_id=callback_id, received_at=utc(2026, 11, 30, 9),
                       handled_at=NOW if handled else None, anonymised_at=NOW if anonymised else None)
    session.add(text)
    session.commit()
    return text.id


def texts_section(client, query: str = "") -> str:
    page = client.get("/staff/" + query).get_data(as_text=True)
    start = page.index(f">{HEADING}")
    return page[start:page.find("</section>", start)]


def test_the_queue_shows_texts_that_match_no_callback_and_only_those(client, officer, session, make_callback):
    received(session, "Who is this? I got a text from this number", from_number=LANDLINE)
    received(session, "Thanks, talk Monday", callback_id=make_callback())  # shows on its callback
    received(session, "STOP", command="stop", handled=True)  # the opt-out was carried out
    received(session, "", anonymised=True)  # past retention: nothing left to read
    section = texts_section(client)
    assert f"{HEADING} (1)" in section
    assert "Who is this? I got a text from this number" in section and "01642 123456" in section
    assert "Thanks, talk Monday" not in section and "STOP" not in section


@pytest.mark.parametrize("query", ["?region=durham", "?status=completed", "?mine=1"])
def test_every_filter_shows_them_because_they_belong_to_no_team(client, officer, session, query):
    received(session, "Can someone call me")
    assert "Can someone call me" in texts_section(client, query)


def test_marking_a_text_handled_takes_it_off_the_queue_and_is_audited(client, officer, session):
    text_id = received(session, "Can someone call me")
    response = officer.post(f"/staff/texts/{text_id}/handled")
    assert response.status_code == 303 and response.headers["Location"] == "/staff/"
    page = client.get("/staff/").get_data(as_text=True)
    assert "The text is marked handled." in page
    assert "Can someone call me" not in page and f"{HEADING} (0)" in page
    session.expire_all()
    assert session.get(InboundText, text_id).handled_at == NOW
    changes = session.scalars(select(AuditEvent).where(AuditEvent.action == "update")).all()
    assert [(e.staff_id, e.record_type, e.record_id, e.detail) for e in changes] == [
        (1, "text", text_id, "marked handled")]


def test_marking_it_again_changes_nothing(officer, session, clock):
    text_id = received(session, "Can someone call me")
    for moment in (NOW, utc(2026, 11, 30, 10, 20)):
        clock.moment = moment
        assert officer.post(f"/staff/texts/{text_id}/handled").status_code == 303
    session.expire_all()
    assert session.get(InboundText, text_id).handled_at == NOW
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "update")).all()) == 1


def test_the_queue_view_is_audited_with_the_texts_it_showed(client, officer, session):
    text_id = received(session, "Can someone call me")
    client.get("/staff/")
    view = session.scalars(select(AuditEvent).where(AuditEvent.record_type == "queue")).one()
    assert view.detail.endswith(f"texts [{text_id}]")


def test_marking_needs_the_form_token_and_a_text_that_exists(client, officer, session):
    text_id = received(session, "Can someone call me")
    assert client.post(f"/staff/texts/{text_id}/handled").status_code == 400
    assert officer.post("/staff/texts/999/handled").status_code == 404
    session.expire_all()
    assert session.get(InboundText, text_id).handled_at is None


def test_signed_out_nobody_can_mark_a_text(client, staff_login, session):
    text_id = received(session, "Can someone call me")
    token = staff_login.csrf_token("/staff/sign-in")
    response = client.post(f"/staff/texts/{text_id}/handled", data={"csrf_token": token})
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]
    session.expire_all()
    assert session.get(InboundText, text_id).handled_at is None
