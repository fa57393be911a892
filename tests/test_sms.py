"""Replies to our texts and Twilio's delivery reports, posted and signed exactly as Twilio does."""

from datetime import date, time

import pytest
from sqlalchemy import func, select

from ivr.hours import london_time
from ivr.models import Callback, CallbackEvent, CallbackStatus, InboundText, OptOut, Reminder, ReminderStatus
from ivr.replies import Command, parse_command
from tests.conftest import MOBILE, book, utc

MONDAY = date(2026, 11, 30)
BOOKED = utc(2026, 11, 26, 10)


@pytest.fixture(autouse=True)
def sunday_noon(clock):
    clock.moment = utc(2026, 11, 29, 12)


@pytest.fixture
def callback(session):
    booked = book(session, london_time(MONDAY, time(9)), london_time(MONDAY, time(12)), BOOKED)
    session.commit()
    return booked


class Phone:
    """The caller's phone texting the helpline: each text a new MessageSid, as Twilio sends them."""

    def __init__(self, twilio, number=MOBILE):
        self.twilio, self.number, self.sent = twilio, number, 0

    def text(self, body, sid=None):
        self.sent += 1
        sid = sid or f"SM{self.sent:032d}"
        return self.twilio.post("/sms/incoming", {"MessageSid": sid, "From": self.number, "To": "+441642000000",
                                                  "Body": body})


@pytest.fixture
def phone(twilio):
    return Phone(twilio)


def answer_of(response) -> str:
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return response.get_data(as_text=True)


def fresh(session, model, key):
    session.expire_all()
    return session.get(model, key)


@pytest.mark.parametrize("body, command", [
    ("YES", Command.YES), ("Yes.", Command.YES), (" yes ", Command.YES), ("yes!", Command.YES),
    ("Change", Command.CHANGE), ("CHANGE.", Command.CHANGE),
    *[(word, Command.STOP) for word in ("STOP", "stopall", "Unsubscribe", "END", "quit", "CANCEL", "revoke", "OPTOUT")],
    ("Stop.", Command.STOP), ("START", Command.START), ("unstop", Command.START),
    ("HELP", Command.HELP), ("info?", Command.HELP),
    ("yes please", Command.OTHER), ("Can you call after 3?", Command.OTHER), ("", Command.OTHER),
    ("don't stop", Command.OTHER), ("Y", Command.OTHER),
])
def test_the_keyword_table(body, command):
    assert parse_command(body) is command


def test_yes_confirms_the_callback_and_thanks_the_sender(session, phone, callback):
    assert "confirmed" in answer_of(phone.text("Yes."))
    assert fresh(session, Callback, callback.id).status == CallbackStatus.CONFIRMED
    stored = session.scalars(select(InboundText)).one()
    assert (stored.command, stored.callback_id, stored.body) == ("yes", callback.id, "Yes.")
    assert stored.handled_at is not None


def test_change_asks_staff_to_rearrange_and_stops_the_reminders(session, phone, callback):
    answer = answer_of(phone.text("change"))
    assert "<Message>" in answer and "in touch" in answer
    found = fresh(session, Callback, callback.id)
    assert found.status == CallbackStatus.REARRANGE
    assert any("Please rearrange" in event.detail for event in found.events)
    assert {r.status for r in found.reminders} == {ReminderStatus.CANCELLED}


@pytest.mark.parametrize("word", ["STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "REVOKE", "OPTOUT"])
def test_every_opt_out_word_stops_texts_and_leaves_the_callback_booked(session, phone, callback, word):
    answer = answer_of(phone.text(word))
    assert "<Message" not in answer  # Twilio's own opt-out handling answers
    assert fresh(session, OptOut, MOBILE) is not None
    found = fresh(session, Callback, callback.id)
    assert found.status == CallbackStatus.BOOKED  # CANCEL stops texts; it never cancels the call
    assert {r.status for r in found.reminders} == {ReminderStatus.CANCELLED}


def test_start_undoes_stop_and_texts_go_again_once_an_officer_has_read_the_replies(session, phone, callback):
    from ivr import callbacks

    phone.text("STOP")
    assert "<Message" not in answer_of(phone.text("Start"))
    assert fresh(session, OptOut, MOBILE) is None
    assert fresh(session, Callback, callback.id).texts_held == "reply"  # an officer reads the replies first
    assert session.scalars(select(Reminder).where(Reminder.status == ReminderStatus.PENDING)).all() == []
    callbacks.mark_replies_read(session, fresh(session, Callback, callback.id), now=utc(2026, 11, 29, 12), staff_id=None)
    session.commit()
    pending = session.scalars(select(Reminder).where(Reminder.status == ReminderStatus.PENDING)).all()
    assert [r.kind for r in pending] == ["hour_before"]  # it is Sunday noon: the day-before time is gone


def test_help_answers_briefly_without_naming_the_service(phone):
    answer = answer_of(phone.text("HELP"))
    assert "YES" in answer and "CHANGE" in answer and "STOP" in answer and "999" in answer
    for word in ("Victim", "Restorative", "VCAS", "Justice"):
        assert word not in answer


def test_anything_else_is_kept_for_staff_unanswered(session, phone, callback):
    assert "<Message" not in answer_of(phone.text("Can you ring after 3? My partner is home before then"))
    stored = session.scalars(select(InboundText)).one()
    assert (stored.command, stored.callback_id, stored.handled_at) == ("other", callback.id, None)
    assert fresh(session, Callback, callback.id).status == CallbackStatus.BOOKED


def test_a_worrying_reply_holds_the_texts_on_its_callback_until_an_officer_reads_it(app, session, phone, clock):
    """"Please don't ring today, he is home" from the number of a callback booked without texts:
    it shows on that callback, and nothing more is texted until an officer has read it."""
    from ivr import callbacks

    clock.moment = BOOKED
    texted = book(session, london_time(MONDAY, time(9)), london_time(MONDAY, time(12)), BOOKED)
    session.commit()
    clock.moment = utc(2026, 11, 29, 10)  # Sunday: the day-before text is due at 11am
    answer_of(phone.text("Please don't ring today, he is home"))
    found = fresh(session, Callback, texted.id)
    assert found.texts_held == "reply" and found.status == CallbackStatus.BOOKED
    assert {r.status for r in found.reminders} == {ReminderStatus.HELD}
    assert session.scalars(select(InboundText)).one().callback_id == texted.id
    from scheduler import run_once

    clock.moment = utc(2026, 11, 29, 11, 5)
    outcomes = run_once(app)  # the day-before text falls due while held: it does not go
    assert not {"sent", "simulated"} & set(outcomes)
    callbacks.mark_replies_read(session, found, now=utc(2026, 11, 29, 11, 10), staff_id=None)
    session.commit()
    pending = session.scalars(select(Reminder).where(Reminder.callback_id == texted.id,
                                                     Reminder.status == ReminderStatus.PENDING)).all()
    assert [r.kind for r in pending] == ["hour_before"]  # the day-before time passed while it was held


def test_a_reply_reaches_a_callback_booked_without_texts(session, phone):
    from tests.conftest import book as book_by_hand

    no_texts = book_by_hand(session, london_time(MONDAY, time(12)), london_time(MONDAY, time(17)), BOOKED,
                            texts_ok=False)
    session.commit()
    phone.text("Can you call after 3?")
    assert session.scalars(select(InboundText)).one().callback_id == no_texts.id
    assert fresh(session, Callback, no_texts.id).texts_held == "reply"


def test_yes_from_a_number_with_no_callback_is_kept_for_staff(session, twilio):
    answer = answer_of(Phone(twilio, "+447911999888").text("YES"))
    assert "<Message" not in answer
    stored = session.scalars(select(InboundText)).one()
    assert (stored.command, stored.callback_id, stored.handled_at) == ("yes", None, None)


def test_a_text_delivered_twice_is_acted_on_once(session, phone, callback):
    first = answer_of(phone.text("CHANGE", sid="SM" + "7" * 32))
    again = answer_of(phone.text("CHANGE", sid="SM" + "7" * 32))
    assert first == again
    assert session.scalar(select(func.count()).select_from(InboundText)) == 1
    replies = session.scalars(select(CallbackEvent).where(CallbackEvent.kind == "text_reply")).all()
    assert len(replies) == 1


def test_the_reply_webhook_needs_twilios_signature_and_its_parameters(client, twilio):
    assert client.post("/sms/incoming", data={"MessageSid": "SM1", "From": MOBILE, "Body": "YES"}).status_code == 403
    missing = twilio.post("/sms/incoming", {"MessageSid": "SM1", "Body": "YES"})
    assert missing.status_code == 400 and b"From is missing" in missing.data


# --- delivery reports ------------------------------------------------------------------------------

SID = "SM" + "5" * 32


@pytest.fixture
def sent(session, callback):
    reminder = callback.reminders[0]
    reminder.status, reminder.message_sid, reminder.attempts = ReminderStatus.SENT, SID, 1
    session.commit()
    return reminder


def report(twilio, status, sid=SID, **extra):
    return twilio.post("/sms/status", {"MessageSid": sid, "MessageStatus": status, **extra})


def test_delivery_statuses_only_move_forward(session, twilio, sent):
    for status, stored in (("queued", "queued"), ("sent", "sent"), ("delivered", "delivered"),
                           ("sent", "delivered"), ("delivered", "delivered"), ("queued", "delivered")):
        assert report(twilio, status).status_code == 204
        assert fresh(session, Reminder, sent.id).delivery_status == stored
    assert fresh(session, Reminder, sent.id).status == ReminderStatus.SENT


@pytest.mark.parametrize("code", ["30005", "30006", "30007", "21610"])
def test_a_permanent_delivery_failure_is_shown_to_staff(session, twilio, sent, code):
    assert report(twilio, "undelivered", ErrorCode=code).status_code == 204
    reminder = fresh(session, Reminder, sent.id)
    assert (reminder.status, reminder.error_code, reminder.delivery_status) == (ReminderStatus.FAILED, int(code), "undelivered")
    assert "text_failed" in [e.kind for e in reminder.callback.events]


def test_an_unreachable_phone_gets_one_later_try(session, twilio, sent):
    report(twilio, "undelivered", ErrorCode="30003")
    reminder = fresh(session, Reminder, sent.id)
    assert (reminder.status, reminder.error_code, reminder.message_sid) == (ReminderStatus.PENDING, 30003, None)
    assert reminder.due_at == utc(2026, 11, 29, 12, 30)
    # The retry went (attempt 2) and was undelivered again: that is the end of it.
    reminder.status, reminder.message_sid, reminder.attempts, reminder.delivery_status = ReminderStatus.SENT, SID, 2, None
    session.commit()
    report(twilio, "undelivered", ErrorCode="30003")
    assert fresh(session, Reminder, sent.id).status == ReminderStatus.FAILED


@pytest.mark.parametrize("params, reason", [
    ({"MessageStatus": "sent"}, b"MessageSid is missing"),
    ({"MessageSid": SID}, b"MessageStatus"),
    ({"MessageSid": SID, "MessageStatus": "exploded"}, b"MessageStatus"),
    ({"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "abc"}, b"ErrorCode is not a number"),
])
def test_a_malformed_report_is_refused_with_a_reason(twilio, params, reason):
    response = twilio.post("/sms/status", params)
    assert response.status_code == 400 and reason in response.data


def test_a_report_on_a_text_we_do_not_know_is_accepted_and_ignored(twilio):
    assert report(twilio, "delivered", sid="SM" + "9" * 32).status_code == 204
