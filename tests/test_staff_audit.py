"""The audit trail: every view and change of a victim's record is written down, never altered,
and administrators can read it."""

import pytest
from sqlalchemy import delete, select, update

from ivr.models import AuditEvent, AuditIsAppendOnly


@pytest.fixture
def officer(staff_login):
    staff_login.login()
    return staff_login


def audit_rows(session):
    session.expire_all()
    return [(e.staff_id, e.action, e.record_type, e.record_id) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_viewing_and_changing_a_callback_are_audited(client, officer, make_callback, session):
    callback_id = make_callback()
    client.get(f"/staff/callbacks/{callback_id}")
    officer.post(f"/staff/callbacks/{callback_id}/note", {"text": "Called back later"}, page=f"/staff/callbacks/{callback_id}")
    rows = audit_rows(session)
    assert (1, "view", "callback", callback_id) in rows
    assert (1, "update", "callback", callback_id) in rows
    assert all(event.at is not None for event in session.scalars(select(AuditEvent)))


def test_the_callback_page_shows_who_has_seen_it(client, officer, make_callback):
    callback_id = make_callback()
    client.get(f"/staff/callbacks/{callback_id}")
    page = client.get(f"/staff/callbacks/{callback_id}").get_data(as_text=True)
    audit_part = page[page.index("Who has seen or changed this record"):]
    assert audit_part.count("officer@example.org") >= 2


def test_audit_rows_cannot_be_changed_or_deleted(session, officer, make_callback, client):
    client.get(f"/staff/callbacks/{make_callback()}")
    event = session.scalars(select(AuditEvent)).first()
    event.detail = "nothing to see"
    with pytest.raises(AuditIsAppendOnly):
        session.flush()
    session.rollback()
    session.delete(session.scalars(select(AuditEvent)).first())
    with pytest.raises(AuditIsAppendOnly):
        session.flush()
    session.rollback()
    with pytest.raises(AuditIsAppendOnly):
        session.execute(update(AuditEvent).values(detail="x"))
    with pytest.raises(AuditIsAppendOnly):
        session.execute(delete(AuditEvent))
    session.rollback()


def test_an_admin_reads_the_audit_trail_and_filters_it(client, staff_login, make_callback):
    first, second = make_callback(), make_callback()
    staff_login.login("admin@example.org", role="admin")
    client.get(f"/staff/callbacks/{first}")
    client.get(f"/staff/callbacks/{second}")
    page = client.get(f"/staff/admin/audit?record_type=callback&record_id={first}").get_data(as_text=True)
    assert f"callback {first}</a>" in page and f"callback {second}</a>" not in page
    assert "admin@example.org" in page
    bad = client.get("/staff/admin/audit?record_id=abc")
    assert bad.status_code == 400 and "whole number" in bad.get_data(as_text=True)
