"""Keeping personal data only as long as needed: recordings deleted, closed records anonymised.

Run daily by the clock. Idempotent: what was already deleted or anonymised is not touched again,
and a recording Twilio would not delete today is tried again tomorrow. Works in batches so a
large backlog never sits in memory at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ivr.models import (Call, CallAttempt, Callback, CallbackEvent, CallbackStatus, InboundText, Reminder,
                        SignInFailure, Voicemail, VoicemailEvent)

BATCH = 500
# Failed sign-ins only count for minutes; a day later the client addresses they hold go.
SIGN_IN_FAILURES_KEPT = timedelta(days=1)
CLOSED = (CallbackStatus.COMPLETED, CallbackStatus.CANCELLED)
REDACTED = "(removed)"


@dataclass
class RetentionSummary:
    recordings_deleted: int = 0
    recordings_kept_for_retry: int = 0
    callbacks_anonymised: int = 0
    texts_anonymised: int = 0
    voicemails_anonymised: int = 0
    calls_anonymised: int = 0
    sign_in_failures_deleted: int = 0


def delete_old_recordings(session: Session, gateway, now: datetime, days: int, summary: RetentionSummary) -> None:
    """Delete recordings older than `days` on Twilio, then forget where they were."""
    cutoff = now - timedelta(days=days)
    last_id = 0
    while True:
        batch = session.scalars(
            select(Voicemail)
            .where(Voicemail.created_at < cutoff, Voicemail.recording_deleted_at.is_(None), Voicemail.id > last_id)
            .order_by(Voicemail.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        for voicemail in batch:
            if gateway.delete_recording(voicemail.recording_sid):
                voicemail.recording_deleted_at = now
                voicemail.recording_url = None
                summary.recordings_deleted += 1
            else:
                summary.recordings_kept_for_retry += 1
        last_id = batch[-1].id
        session.flush()


def anonymise_closed_callbacks(session: Session, now: datetime, days: int, summary: RetentionSummary) -> None:
    """Strip numbers, texts' bodies and notes from callbacks closed more than `days` ago."""
    cutoff = now - timedelta(days=days)
    while True:
        ids = session.scalars(
            select(Callback.id)
            .where(Callback.status.in_(CLOSED), Callback.updated_at < cutoff, Callback.anonymised_at.is_(None))
            .limit(BATCH)
        ).all()
        if not ids:
            return
        session.execute(update(Reminder).where(Reminder.callback_id.in_(ids)).values(to_number=REDACTED, body=None))
        session.execute(update(CallbackEvent).where(CallbackEvent.callback_id.in_(ids)).values(detail=""))
        # The calls placed for them: ended (one left live would hold the redacted "number"), then redacted.
        session.execute(update(CallAttempt).where(CallAttempt.callback_id.in_(ids), CallAttempt.ended_at.is_(None))
                        .values(ended_at=now))
        session.execute(update(CallAttempt).where(CallAttempt.callback_id.in_(ids)).values(to_number=REDACTED))
        summary.texts_anonymised += session.execute(
            update(InboundText).where(InboundText.callback_id.in_(ids), InboundText.anonymised_at.is_(None))
            .values(from_number=REDACTED, body="", anonymised_at=now)).rowcount
        # updated_at is set explicitly: the anonymising is not a change staff made to the callback.
        session.execute(update(Callback).where(Callback.id.in_(ids))
                        .values(phone_number=REDACTED, anonymised_at=now, updated_at=Callback.updated_at))
        summary.callbacks_anonymised += len(ids)


def anonymise_old_contacts(session: Session, now: datetime, days: int, summary: RetentionSummary) -> None:
    """Forget callers' numbers on calls, voicemails and stray texts older than `days`."""
    cutoff = now - timedelta(days=days)
    summary.calls_anonymised += session.execute(
        update(Call).where(Call.started_at < cutoff, or_(Call.from_number.is_not(None), Call.keyed_number.is_not(None)))
        .values(from_number=None, keyed_number=None)).rowcount
    old_voicemails = select(Voicemail.id).where(Voicemail.created_at < cutoff, Voicemail.anonymised_at.is_(None))
    # Officers' notes on a message may hold what the caller said: they go with its number.
    session.execute(update(VoicemailEvent).where(VoicemailEvent.voicemail_id.in_(old_voicemails),
                                                 VoicemailEvent.detail != "").values(detail=""))
    summary.voicemails_anonymised += session.execute(
        update(Voicemail).where(Voicemail.created_at < cutoff, Voicemail.anonymised_at.is_(None))
        .values(from_number=None, anonymised_at=now)).rowcount
    # An officer's reply to a text that matched no callback: its number and words go too.
    summary.texts_anonymised += session.execute(
        update(Reminder).where(Reminder.callback_id.is_(None), Reminder.due_at < cutoff, Reminder.to_number != REDACTED)
        .values(to_number=REDACTED, body=None)).rowcount
    summary.texts_anonymised += session.execute(
        update(InboundText).where(InboundText.received_at < cutoff, InboundText.callback_id.is_(None),
                                  InboundText.anonymised_at.is_(None))
        .values(from_number=REDACTED, body="", anonymised_at=now)).rowcount


def apply_retention(session: Session, gateway, now: datetime, *, recording_days: int, closed_days: int) -> RetentionSummary:
    """One retention pass: what the daily clock job runs."""
    summary = RetentionSummary()
    delete_old_recordings(session, gateway, now, recording_days, summary)
    anonymise_closed_callbacks(session, now, closed_days, summary)
    anonymise_old_contacts(session, now, closed_days, summary)
    summary.sign_in_failures_deleted = session.execute(
        delete(SignInFailure).where(SignInFailure.at < now - SIGN_IN_FAILURES_KEPT)).rowcount
    return summary
