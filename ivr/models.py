"""The tables: calls, voicemails, callbacks and their history, reminders, texts, staff, sign-in
failures and audit.

Every timestamp is stored in UTC and comes back UTC-aware. Statuses and kinds are short strings,
each column's allowed values one StrEnum here (domain modules import them from this module) and a
CHECK constraint built from it, so a value outside the list is refused by the database itself;
adding a value is a migration that replaces the CHECK, never an enum type to alter.

Constraints and indexes are named by `NAMING_CONVENTION`, on SQLite as on PostgreSQL, so a
migration can name what it changes.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    and_,
    column,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """A timestamp kept as naive UTC in the database and handed back UTC-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC time")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The names every constraint and index gets (migrations/versions/0003 renamed the older ones to these).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON}


def _one_of(column_name: str, allowed: type[StrEnum]) -> CheckConstraint:
    """A CHECK that the column holds one of the enum's values (NULL passes, as in every CHECK), named
    ck_<table>_<column>."""
    return CheckConstraint(column(column_name, String).in_([member.value for member in allowed]), name=column_name)


# --- office hours -------------------------------------------------------------------------------


class Closure(Base):
    """A date the office is closed besides weekends and bank holidays."""

    __tablename__ = "closures"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Switch(Base):
    """A named on/off switch administrators flip, e.g. the emergency "closed now"."""

    __tablename__ = "switches"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    on: Mapped[bool] = mapped_column(Boolean, default=False)
    until: Mapped[datetime | None]  # when it goes off by itself; None: when switched off
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(200), default="")


CLOSED_NOW = "closed_now"


# --- calls, voicemails, callbacks ---------------------------------------------------------------


class CallStatus(StrEnum):
    """Twilio's CallStatus values."""

    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    CANCELED = "canceled"


class Call(Base):
    """One inbound call as Twilio reported it."""

    __tablename__ = "calls"
    __table_args__ = (_one_of("status", CallStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str | None] = mapped_column(String(32))  # E.164, or None when withheld
    region: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(32), default=CallStatus.IN_PROGRESS)
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]
    # A number keyed in during callback booking, kept here (never in a URL) until it is confirmed.
    keyed_number: Mapped[str | None] = mapped_column(String(32))


class CallChoice(StrEnum):
    """A step of a call the service's figures count (ivr.figures)."""

    RJ_INFO = "rj_info"  # main menu 1: what Restorative Justice is
    REFERRAL_INFO = "referral_info"  # main menu 2: how a referral works
    TEAM = "team"  # chose a team to speak to (main menu 3, then the region menu)
    CALLBACK = "callback"  # began booking a callback (main menu 4, or closed menu 2)
    MESSAGE = "message"  # chose to leave a message (closed menu 1)
    PUT_THROUGH = "put_through"  # rung through to a team's line
    ANSWERED = "answered"  # ... and the team answered
    NOT_ANSWERED = "not_answered"  # ... and nobody answered (busy, no answer, failed)


class CallStep(Base):
    """One choice a caller made, or what became of putting them through: what the figures count.
    A step Twilio's retry repeats is stored twice; the figures count calls, not rows."""

    __tablename__ = "call_steps"
    __table_args__ = (_one_of("choice", CallChoice),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    choice: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class VoicemailStatus(StrEnum):
    NEW = "new"
    LISTENED = "listened"
    ACTIONED = "actioned"
    DELETED = "deleted"


class Voicemail(Base):
    __tablename__ = "voicemails"
    __table_args__ = (_one_of("status", VoicemailStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    from_number: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(32))
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    duration_seconds: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=VoicemailStatus.NEW, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    listened_at: Mapped[datetime | None]
    recording_deleted_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]


class VoicemailEventKind(StrEnum):
    """What a line of a voicemail's history records (who viewed or marked it is in the audit trail)."""

    NOTE = "note"
    CALLBACK_BOOKED = "callback_booked"  # an officer booked a callback from the message


class VoicemailEvent(Base):
    """One line of a voicemail's history: an officer's note, or the callback booked from it."""

    __tablename__ = "voicemail_events"
    __table_args__ = (_one_of("kind", VoicemailEventKind),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voicemail_id: Mapped[int] = mapped_column(ForeignKey("voicemails.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class CallbackStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"  # the caller replied YES
    REARRANGE = "rearrange"  # the caller replied CHANGE: staff to rearrange
    OVERDUE = "overdue"  # the window passed with no outcome recorded
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_CALLBACK_STATUSES = (
    CallbackStatus.BOOKED,
    CallbackStatus.CONFIRMED,
    CallbackStatus.REARRANGE,
    CallbackStatus.OVERDUE,
)


class NumberSource(StrEnum):
    """Where the number to call came from: only a caller's own line may be texted unasked."""

    CALLER = "caller"  # the line they rang from
    KEYED = "keyed"  # keyed in during the call: perhaps someone else's
    STAFF = "staff"  # given to an officer


class TextsHeld(StrEnum):
    """Why no text may go about a callback until an officer decides again."""

    NOT_SAFE = "not_safe"  # an officer was told it is not safe to talk
    REPLY = "reply"  # the victim replied, and an officer has yet to read it


_open_callback = column("status", String).in_([status.value for status in OPEN_CALLBACK_STATUSES])


class Callback(Base):
    """A callback a caller booked (or an officer created): who to call, when, and what is safe."""

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_status_window", "status", "window_start"),
        # One team's queue (migrations/versions/0009).
        Index("ix_callbacks_region_status_window", "region", "status", "window_start"),
        # One booking per person and window: a second one for the same number and window, while
        # the first is open, is recognised rather than stored (and texted) again.
        Index("uq_callbacks_open_number_window", "phone_number", "window_start", unique=True,
              sqlite_where=_open_callback, postgresql_where=_open_callback),
        _one_of("status", CallbackStatus),
        _one_of("number_source", NumberSource),
        _one_of("texts_held", TextsHeld),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)  # None when made by staff
    region: Mapped[str] = mapped_column(String(32))
    # E.164. Indexed: a text's sender, a STOP and a START find their callbacks by it.
    phone_number: Mapped[str] = mapped_column(String(32), index=True)
    is_mobile: Mapped[bool] = mapped_column(Boolean, default=False)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    number_source: Mapped[str] = mapped_column(String(16), default=NumberSource.CALLER)
    voicemail_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    texts_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    texts_held: Mapped[str | None] = mapped_column(String(16))  # TextsHeld; None: texts may go
    # The language of a caller who needs an interpreter (the prompts file's [languages]); None: English.
    interpreter_language: Mapped[str | None] = mapped_column(String(16))
    via_relay: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # call via Relay UK (18002)
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.BOOKED)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    anonymised_at: Mapped[datetime | None]

    # Every text about the callback: its reminders, and officers' replies (kind "staff").
    reminders: Mapped[list[Reminder]] = relationship(back_populates="callback", order_by="Reminder.due_at")
    events: Mapped[list[CallbackEvent]] = relationship(back_populates="callback", order_by="CallbackEvent.at")


class EventKind(StrEnum):
    """What a line of a callback's history records."""

    BOOKED = "booked"
    OVERDUE = "overdue"
    ATTEMPT = "attempt"  # a call to the victim; its outcome says how it went
    NOTE = "note"
    RESCHEDULED = "rescheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ASSIGNED = "assigned"
    TEXT_REPLY = "text_reply"  # the caller replied YES or CHANGE
    TEXTS_STOPPED = "texts_stopped"
    TEXTS_RESTARTED = "texts_restarted"
    TEXT_UNKNOWN = "text_unknown"  # a reminder that may or may not have gone
    TEXT_FAILED = "text_failed"
    TEXTS_HELD = "texts_held"  # no text goes until an officer decides again
    TEXTS_RESUMED = "texts_resumed"
    TEXTS_ALLOWED = "texts_allowed"  # an officer who spoke to them turned texts on
    REPLY_READ = "reply_read"


class AttemptOutcome(StrEnum):
    """How a call to the victim went (ivr.callbacks.ATTEMPT_OUTCOMES says it in words)."""

    SPOKE = "spoke"
    NO_ANSWER = "no_answer"
    NOT_SAFE = "not_safe"
    LEFT_VOICEMAIL = "left_voicemail"


class CallbackEvent(Base):
    """One line of a callback's history: an attempt, a note, a reschedule, a reply, a status change."""

    __tablename__ = "callback_events"
    __table_args__ = (_one_of("kind", EventKind), _one_of("outcome", AttemptOutcome))

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))  # attempts only
    detail: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    callback: Mapped[Callback] = relationship(back_populates="events")


class CallResult(StrEnum):
    """How a call the service placed for a callback went (ivr.outbound.RESULTS says it in words)."""

    AGREED = "agreed"  # they answered and pressed 1: a good time to talk; the officer was put through
    NOT_GOOD_TIME = "not_good_time"  # they answered and pressed 2
    NO_ANSWER = "no_answer"  # not answered; or answered, then silence or a hang-up
    BUSY = "busy"
    VOICEMAIL_LEFT = "voicemail_left"  # a machine answered, and they had agreed to a voicemail
    MACHINE = "machine"  # a machine answered; no voicemail agreed, so nothing was left
    FAILED = "failed"  # the call could not be placed
    OFFICER_MISSED = "officer_missed"  # the officer did not answer or did not start it: they were never rung


_live_attempt = column("ended_at", DateTime).is_(None)


class CallAttempt(Base):
    """One call the service placed for a callback: the officer's phone first, then the victim's."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        # Never two calls to one victim at once, however many clicks or workers ask: one live
        # attempt per callback, and per number.
        Index("uq_call_attempts_live_callback", "callback_id", unique=True,
              sqlite_where=_live_attempt, postgresql_where=_live_attempt),
        Index("uq_call_attempts_live_number", "to_number", unique=True,
              sqlite_where=_live_attempt, postgresql_where=_live_attempt),
        _one_of("result", CallResult),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))  # who placed it
    to_number: Mapped[str] = mapped_column(String(32))  # E.164: the victim's
    officer_number: Mapped[str] = mapped_column(String(32))  # E.164: the officer's work number
    outside_window: Mapped[bool] = mapped_column(Boolean, default=False)  # the officer confirmed an override
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)  # no Twilio account: nothing was dialled
    placed_at: Mapped[datetime]
    # Twilio's CallSids, unique: a retried webhook finds the attempt it already changed.
    officer_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    victim_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    victim_rung_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]  # the victim (or their machine) answered
    result: Mapped[str | None] = mapped_column(String(16))  # CallResult; None until known
    result_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]  # None: in progress


# --- texts --------------------------------------------------------------------------------------


class ReminderStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time (or a retry)
    CLAIMED = "claimed"  # taken by a clock process, not yet handed to Twilio: safe to hand back
    SENDING = "sending"  # being handed to Twilio; if a crash leaves it here it may have gone
    SENT = "sent"  # Twilio accepted it (or it was simulated)
    FAILED = "failed"  # permanently failed; shown to staff
    UNKNOWN = "unknown"  # a crash or an ambiguous answer: it may have gone; staff decide, never resent
    CANCELLED = "cancelled"
    MISSED = "missed"  # fell due while the clock was down and is no longer useful
    HELD = "held"  # not to go while the callback's texts are held (planned again when they resume)


# A text on its way: at most one of each kind per number and window (uq_reminders_one_on_its_way).
ON_ITS_WAY = (ReminderStatus.PENDING, ReminderStatus.CLAIMED, ReminderStatus.SENDING, ReminderStatus.HELD)


class ReminderKind(StrEnum):
    """Which reminder a text is (templates/sms/NAME.txt holds its words)."""

    DAY_BEFORE = "day_before"
    HOUR_BEFORE = "hour_before"


class TextKind(StrEnum):
    """What a row of the outbox is: one of the reminders, or a text an officer wrote."""

    DAY_BEFORE = ReminderKind.DAY_BEFORE.value
    HOUR_BEFORE = ReminderKind.HOUR_BEFORE.value
    STAFF = "staff"  # an officer's reply (ivr.staff_texts), sent by the clock like a reminder


class DeliveryStatus(StrEnum):
    """Twilio's message statuses, as its delivery reports give them (ivr.outbox.DELIVERY_ORDER)."""

    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELED = "canceled"
    READ = "read"


_on_its_way = and_(column("status", String).in_([status.value for status in ON_ITS_WAY]),
                   column("kind", String).in_([kind.value for kind in ReminderKind]))


class Reminder(Base):
    """A text the service sends: a reminder planned for a callback, or a reply an officer wrote
    (kind "staff", perhaps to a number with no callback). The row is its own queue entry."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_status_due", "status", "due_at"),
        # A STOP and a hold stop the number's texts not yet gone: by number, then status.
        Index("ix_reminders_to_number_status", "to_number", "status"),
        # No reminder is ever duplicated to a number for one window, whatever booked it.
        Index("uq_reminders_one_on_its_way", "to_number", "kind", "useful_until", unique=True,
              sqlite_where=_on_its_way, postgresql_where=_on_its_way),
        _one_of("kind", TextKind),
        _one_of("status", ReminderStatus),
        _one_of("delivery_status", DeliveryStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None only for an officer's reply to a text that matches no callback.
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    useful_until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=ReminderStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(String(320))
    message_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_at: Mapped[datetime | None]
    delivery_status: Mapped[str | None] = mapped_column(String(16))  # None until Twilio reports
    error_code: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # who wrote an officer's text
    # The key the officer's form carried: the same form sent twice is one text (the database decides).
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    callback: Mapped[Callback | None] = relationship(back_populates="reminders")


class TextCommand(StrEnum):
    """What a text someone sent us asks for (ivr.replies reads it from the words)."""

    YES = "yes"
    CHANGE = "change"
    STOP = "stop"
    START = "start"
    HELP = "help"
    OTHER = "other"


class InboundText(Base):
    """A text someone sent to the helpline number (a reply to a reminder, or anything else)."""

    __tablename__ = "inbound_texts"
    __table_args__ = (_one_of("command", TextCommand),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    command: Mapped[str] = mapped_column(String(16))
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]


class OptOut(Base):
    """A number that said STOP: nothing is texted to it until it says START."""

    __tablename__ = "opt_outs"

    phone_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- staff and audit ----------------------------------------------------------------------------


class Role(StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


class StaffUser(Base):
    __tablename__ = "staff"
    __table_args__ = (_one_of("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.STAFF)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changing it ends every session of this account (sign-out everywhere, disable, password reset).
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    # E.164: the service rings it first when this officer presses "Call now" (ivr.phone.callable_number's rule).
    work_number: Mapped[str | None] = mapped_column(String(32))


class SignInFailure(Base):
    """A wrong password. Counted here, not in a worker's memory, so every worker on every machine
    sees the same count; rows outside the sign-in limits' window are pruned."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_account_at", "account", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    # A keyed hash of the email address typed: whatever was typed is not kept.
    account: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))  # the client's IP address


class AuditEvent(Base):
    """Append-only: who viewed or changed which victim record, and when."""

    __tablename__ = "audit_events"
    # The trail of one record (a callback's page shows it; administrators filter by it).
    __table_args__ = (Index("ix_audit_events_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(32))  # view, create, update, play, delete, ...
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text, default="")


class AuditIsAppendOnly(Exception):
    """Raised when code tries to change or remove an audit row."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_changing_an_audit_row(_mapper, _connection, target: AuditEvent) -> None:
    raise AuditIsAppendOnly(f"audit event {target.id} cannot be changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEvent for m in state.all_mappers):
        raise AuditIsAppendOnly("audit events cannot be changed or deleted")
