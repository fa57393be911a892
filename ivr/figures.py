"""The service's figures for its commissioners: calls, callbacks, voicemails and texts over a period,
by team and in total, each with its definition (what is counted, and what is not).

Every count is made by the database (GROUP BY, on SQLite as on PostgreSQL); Python only turns the
groups into London's wall clock and adds them up. A time is grouped by its UTC hour (a few
thousand groups a year, however many calls), and each hour is then placed in London's day, hour
and weekday by ivr.hours: London's offset from UTC changes only on a whole UTC hour, so the
weeks the clocks change need no care here, and the hour from 1am that October repeats is
counted twice, as it happened.

A period is whole London days, `first` to `last` included. Records are counted in the period in
which they began: a call when it came in (one that runs past midnight counts on the day it
started), a callback when it was booked, a voicemail when it was left, a text when it was due.
Anonymised records are counted like any other: the figures need no number or name.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from sqlalchemy import and_, case, distinct, exists, func, or_, select
from sqlalchemy.orm import Session

from ivr.helpline import Helpline
from ivr.hours import OfficeHours, london, london_time
from ivr.models import (
    AttemptOutcome,
    Call,
    CallAttempt,
    CallbackEvent,
    Callback,
    CallbackStatus,
    CallChoice,
    CallResult,
    CallStep,
    Closure,
    DeliveryStatus,
    EventKind,
    InboundText,
    Reminder,
    ReminderStatus,
    TextCommand,
    TextKind,
    Voicemail,
)

NO_TEAM = "none"  # a call that never chose a team, a text from a number with no callback
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_DAYS = 2 * 366


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def starts(self) -> datetime:
        return london_time(self.first, time(0))

    @property
    def ends(self) -> datetime:
        return london_time(self.last + timedelta(days=1), time(0))

    def covers(self, column):
        return and_(column >= self.starts, column < self.ends)


def quarter_of(day: date) -> Period:
    """The calendar quarter (Jan-Mar, Apr-Jun, Jul-Sep, Oct-Dec) `day` is in."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    next_first = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return Period(first, next_first - timedelta(days=1))


@dataclass
class Figure:
    """One line of the figures: a count (or a share, or an average) for each team and in total."""

    key: str
    label: str
    definition: str
    by_team: dict[str, float]
    total: float
    kind: str = "count"  # "count", "share" (0..1, None when nothing to share), or "average"


@dataclass
class Series:
    """Counts over categories (hours, weekdays, choices), drawn as a chart with a table beside it."""

    key: str
    title: str
    definition: str
    labels: list[str]
    by_team: dict[str, list[int]]
    totals: list[int] = field(default_factory=list)


@dataclass
class Figures:
    period: Period
    teams: list[tuple[str, str]]  # (id, name), NO_TEAM last
    sections: dict[str, list[Figure]]
    series: list[Series]


# --- grouping by hour -----------------------------------------------------------------------------

_PG_BUCKETS = ("YYYY-MM-DD HH24", "YYYY-MM-DD HH24:MI")


def _bucket(session: Session, column, minutes: bool = False):
    """SQL for the UTC hour (or minute) a stored time falls in, as text, e.g. '2026-11-30 09'.

    SQLite keeps a time as the text '2026-11-30 09:41:07.000000' (SQLAlchemy's fixed format), so
    its first 13 (or 16) characters are the hour (minute): cheaper than strftime over a year of calls."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 16 if minutes else 13)
    return func.to_char(column, _PG_BUCKETS[minutes])


@lru_cache(maxsize=20_000)
def _moment(bucket: str) -> datetime:
    minute = int(bucket[14:16]) if len(bucket) > 13 else 0
    return datetime(int(bucket[0:4]), int(bucket[5:7]), int(bucket[8:10]), int(bucket[11:13]), minute,
                    tzinfo=timezone.utc)


@lru_cache(maxsize=20_000)
def _local(bucket: str) -> datetime:
    return london(_moment(bucket))


def _team(region: str | None) -> str:
    return region or NO_TEAM


def _counts(rows) -> dict[str, float]:
    counted: Counter = Counter()
    for team, count in rows:
        counted[_team(team)] += count
    return dict(counted)


def _figure(key: str, label: str, definition: str, by_team: dict[str, float]) -> Figure:
    return Figure(key, label, definition, by_team, sum(by_team.values()))


def _share(key: str, label: str, definition: str, part: dict[str, float], whole: dict[str, float],
           kind: str = "share") -> Figure:
    def ratio(a: float, b: float) -> float | None:
        return a / b if b else None
    by_team = {team: ratio(part.get(team, 0), count) for team, count in whole.items()}
    return Figure(key, label, definition, by_team, ratio(sum(part.values()), sum(whole.values())), kind)


# --- the figures ----------------------------------------------------------------------------------


def figures(session: Session, helpline: Helpline, period: Period) -> Figures:
    teams = [(region.id, region.name) for region in helpline.regions] + [(NO_TEAM, "No team")]
    closures = frozenset(session.connection().scalars(
        select(Closure.day).where(Closure.day.between(period.first, period.last))))
    office = helpline.office_hours(closures)
    # Each team's own hours where the helpline file gives them; a call that chose no team, the office's.
    hours = {region.id: helpline.team_hours(region, office) for region in helpline.regions} | {NO_TEAM: office}
    sections: dict[str, list[Figure]] = {}
    series: list[Series] = []
    # The heaviest query (every call's choices) runs on a connection of its own meanwhile: the
    # database works while this thread waits on the others (both drivers let go of Python's lock).
    with ThreadPoolExecutor(max_workers=1) as helper:
        step_rows = helper.submit(_on_own_connection, session, _step_counts, period)
        callbacks = _callbacks(session, period, [t for t, _ in teams])
        voicemails = _voicemails(session, period, hours)
        texts = _texts(session, period)
        sections["Calls"], series = _calls(session, period, hours, [t for t, _ in teams], step_rows)
    sections["Callbacks"], callback_series = callbacks
    series += callback_series
    sections["Voicemails"] = voicemails
    sections["Texts"] = texts
    for one in series:
        one.totals = [sum(one.by_team[team][i] for team in one.by_team) for i in range(len(one.labels))]
    return Figures(period, teams, sections, series)


def _on_own_connection(session: Session, query, *args):
    with Session(session.get_bind()) as own:
        return query(own, *args)


CHOICES = {
    CallChoice.RJ_INFO: "Heard what Restorative Justice is (1)",
    CallChoice.REFERRAL_INFO: "Heard how a referral works (2)",
    CallChoice.TEAM: "Asked to speak to someone (3)",
    CallChoice.CALLBACK: "Began booking a callback (4, or 2 when closed)",
    CallChoice.MESSAGE: "Chose to leave a message (1 when closed)",
}


def _step_counts(session: Session, period: Period) -> list:
    """Calls in the period that made each choice, by team (a call pressing 1 twice counts once)."""
    return session.connection().execute(
        select(Call.region, CallStep.choice, func.count(distinct(CallStep.call_sid)))
        .join(Call, Call.call_sid == CallStep.call_sid).where(period.covers(Call.started_at))
        .group_by(Call.region, CallStep.choice)).all()


def _calls(session: Session, period: Period, hours: dict[str, OfficeHours], teams: list[str],
           step_rows: Future) -> tuple[list[Figure], list[Series]]:
    bucket = _bucket(session, Call.started_at)
    rows = session.connection().execute(select(Call.region, bucket, func.count()).where(period.covers(Call.started_at))
                           .group_by(Call.region, bucket)).all()
    total: Counter = Counter()
    in_hours: Counter = Counter()
    by_hour = {team: [0] * 24 for team in teams}
    by_day = {team: [0] * 7 for team in teams}
    placed: dict[str, datetime] = {}  # each UTC hour in London time, worked out once
    working: dict[tuple[str, date], bool] = {}  # whether a team worked on a day, worked out once
    for region, hour, count in rows:
        if hour not in placed:
            placed[hour] = _local(hour)
        team, local = region or NO_TEAM, placed[hour]
        total[team] += count
        by_hour[team][local.hour] += count
        by_day[team][local.weekday()] += count
        team_hours = hours.get(team, hours[NO_TEAM])
        if (team, local.date()) not in working:
            working[team, local.date()] = team_hours.is_working_day(local.date())
        if working[team, local.date()] and team_hours.opens <= local.time() < team_hours.closes:
            in_hours[team] += count
    out_of_hours = {team: total[team] - in_hours[team] for team in total}
    steps: dict[CallChoice, dict[str, int]] = {choice: {} for choice in CallChoice}
    for region, choice, count in step_rows.result():
        steps[CallChoice(choice)][_team(region)] = steps[CallChoice(choice)].get(_team(region), 0) + count
    choices = Series("menu_choices", "Menu choices", "Calls in which the caller made each choice at least once "
                     "(a call may make several). Counted from 3 December 2026, when the service began keeping them.",
                     list(CHOICES.values()), {team: [steps[c].get(team, 0) for c in CHOICES] for team in teams})
    office = hours[NO_TEAM]
    figures = [
        _figure("calls", "Calls", "Calls that reached the helpline number in the period, counted on the London day "
                "they began (a call running past midnight counts once, on its first day). Withheld numbers included.",
                dict(total)),
        _figure("calls_in_hours", "In office hours", "Calls that began while the team they chose was open, by "
                "London time: its opening hours (the office's, " + f"{office.opens:%H:%M}-{office.closes:%H:%M}, "
                "unless the team has its own) on its working days, not bank holidays in England or closures. A call "
                "that chose no team counts by the office's hours. The emergency \"closed now\" switch keeps no "
                "history and is not taken into account.", dict(in_hours)),
        _figure("calls_out_of_hours", "Out of hours", "All other calls.", out_of_hours),
        _figure("put_through", "Put through to a team", "Calls rung through to a team's line (in hours, after "
                "choosing a team).", steps[CallChoice.PUT_THROUGH]),
        _figure("answered", "Answered by the team", "Calls put through that a team member answered.",
                steps[CallChoice.ANSWERED]),
        _figure("not_answered", "Not answered", "Calls put through that nobody answered (no answer, busy or failed); "
                "the caller was then offered a message or a callback.", steps[CallChoice.NOT_ANSWERED]),
    ]
    series = [
        Series("calls_by_hour", "Calls by hour of day", "Calls by the London hour in which they began "
               "(British Summer Time when in force).", [f"{h:02d}:00" for h in range(24)], by_hour),
        Series("calls_by_weekday", "Calls by day of the week", "Calls by the London day on which they began.",
               list(WEEKDAYS), by_day),
        choices,
    ]
    return figures, series


def _callbacks(session: Session, period: Period, teams: list[str]) -> tuple[list[Figure], list[Series]]:
    events = CallbackEvent.__table__.c
    spoke_in_window = exists().where(events.callback_id == Callback.id, events.kind == EventKind.ATTEMPT,
                                     events.outcome == AttemptOutcome.SPOKE,
                                     events.at >= Callback.window_start, events.at < Callback.window_end)
    agreed_in_window = exists().where(CallAttempt.callback_id == Callback.id, CallAttempt.result == CallResult.AGREED,
                                      CallAttempt.answered_at >= Callback.window_start,
                                      CallAttempt.answered_at < Callback.window_end)
    not_safe = or_(
        exists().where(events.callback_id == Callback.id, events.kind == EventKind.ATTEMPT,
                       events.outcome == AttemptOutcome.NOT_SAFE),
        exists().where(CallAttempt.callback_id == Callback.id, CallAttempt.result == CallResult.NOT_GOOD_TIME))
    flag = lambda condition: case((condition, 1), else_=0)  # noqa: E731
    by_phone = Callback.call_sid.is_not(None)
    # Each callback's flags in a subquery, grouped outside it: PostgreSQL would not see two copies of
    # a CASE with its own parameters as the same expression.
    each = (select(Callback.region.label("region"), flag(by_phone).label("by_phone"), Callback.status.label("status"),
                   flag(or_(spoke_in_window, agreed_in_window)).label("reached"), flag(not_safe).label("not_safe"))
            .where(period.covers(Callback.created_at)).subquery())
    grouped = (each.c.region, each.c.by_phone, each.c.status, each.c.reached, each.c.not_safe)
    rows = session.connection().execute(select(*grouped, func.count()).group_by(*grouped)).all()
    counts: dict[str, Counter] = defaultdict(Counter)
    for region, phone, status, reached, unsafe, count in rows:
        team = _team(region)
        counts["booked"][team] += count
        counts["by_phone" if phone else "by_hand"][team] += count
        counts["completed"][team] += count * (status == CallbackStatus.COMPLETED)
        counts["cancelled"][team] += count * (status == CallbackStatus.CANCELLED)
        counts["not_cancelled"][team] += count * (status != CallbackStatus.CANCELLED)
        counts["reached"][team] += count * bool(reached and status != CallbackStatus.CANCELLED)
        counts["not_safe"][team] += count * bool(unsafe)
    attempt_rows = session.connection().execute(
        select(Callback.region, CallbackEvent.outcome, func.count())
        .join(CallbackEvent, CallbackEvent.callback_id == Callback.id)
        .where(period.covers(Callback.created_at), CallbackEvent.kind == EventKind.ATTEMPT)
        .group_by(Callback.region, CallbackEvent.outcome)).all()
    attempts: Counter = Counter()
    outcomes = {outcome: dict.fromkeys(teams, 0) for outcome in (*AttemptOutcome, None)}
    for region, outcome, count in attempt_rows:
        attempts[_team(region)] += count
        outcomes[AttemptOutcome(outcome) if outcome else None][_team(region)] += count
    figures = [
        _figure("callbacks_booked", "Callbacks booked", "Callbacks booked in the period, however they end.",
                dict(counts["booked"])),
        _figure("booked_by_phone", "Booked on the phone line", "Booked by the caller on the phone line (menu 4).",
                dict(counts["by_phone"])),
        _figure("booked_by_hand", "Booked by hand", "Booked by an officer for someone they spoke to.",
                dict(counts["by_hand"])),
        _figure("completed", "Completed", "Of those booked, marked complete by an officer.", dict(counts["completed"])),
        _share("reached_in_window", "Reached within their window", "Of those booked and not cancelled, the share "
               "an officer spoke to during the window they chose: an attempt recorded as \"spoke\", or a call placed "
               "through the service that they answered and agreed to. Contact outside the window is not counted.",
               dict(counts["reached"]), dict(counts["not_cancelled"])),
        _share("attempts_per_callback", "Call attempts per callback", "Attempts recorded on the callbacks booked, "
               "divided by the callbacks booked: those officers recorded by hand and those placed through the "
               "service (each placed call records itself as an attempt).", dict(attempts), dict(counts["booked"]),
               kind="average"),
        _figure("cancelled", "Cancelled", "Of those booked, cancelled (by an officer, or a second booking of the "
                "same number and window).", dict(counts["cancelled"])),
        _figure("not_safe", "Not a good time / not safe", "Of those booked, callbacks where an attempt found it was "
                "not safe to talk, or the person answering a placed call said it was not a good time.",
                dict(counts["not_safe"])),
    ]
    labels = {AttemptOutcome.SPOKE: "Spoke", AttemptOutcome.NO_ANSWER: "No answer",
              AttemptOutcome.NOT_SAFE: "Not safe to talk", AttemptOutcome.LEFT_VOICEMAIL: "Left a voicemail",
              None: "Placed through the service, other results"}
    series = [Series("attempt_outcomes", "Call attempts by outcome", "Attempts on the callbacks booked in the period, "
                     "by what happened.", [labels[o] for o in outcomes], {
                         team: [outcomes[o][team] for o in outcomes] for team in teams})]
    return figures, series


def listened_in_time(left: datetime, hours: OfficeHours) -> datetime:
    """When a message left at `left` must have been first listened to, to count as "within one working
    day": the close of the first working day after the London day it was left."""
    day = next(hours.working_days(london(left).date() + timedelta(days=1)))
    return london_time(day, hours.closes)


def _voicemails(session: Session, period: Period, hours: dict[str, OfficeHours]) -> list[Figure]:
    left_bucket = _bucket(session, Voicemail.created_at)
    listened_bucket = _bucket(session, Voicemail.listened_at, minutes=True)
    rows = session.connection().execute(select(Voicemail.region, left_bucket, listened_bucket, func.count())
                           .where(period.covers(Voicemail.created_at))
                           .group_by(Voicemail.region, left_bucket, listened_bucket)).all()
    left: Counter = Counter()
    in_time: Counter = Counter()
    deadlines: dict[tuple[str, str], datetime] = {}
    for region, left_hour, listened_minute, count in rows:
        team = _team(region)
        left[team] += count
        if listened_minute is None:
            continue
        if (team, left_hour) not in deadlines:
            deadlines[team, left_hour] = listened_in_time(_moment(left_hour), hours.get(team, hours[NO_TEAM]))
        if _moment(listened_minute) < deadlines[team, left_hour]:
            in_time[team] += count
    return [
        _figure("voicemails_left", "Messages left", "Voicemails recorded in the period (deleted ones included).",
                dict(left)),
        _share("listened_in_time", "First listened to within one working day", "Of the messages left, the share "
               "first played by an officer before its team closed on the team's next working day after the day it "
               f"was left (e.g. a message left on Friday, by {hours[NO_TEAM].closes:%H:%M} on Monday for a team "
               "keeping the office's hours).", dict(in_time), dict(left)),
    ]


def _texts(session: Session, period: Period) -> list[Figure]:
    delivered = Reminder.delivery_status.in_((DeliveryStatus.DELIVERED, DeliveryStatus.READ))
    failed = or_(Reminder.status == ReminderStatus.FAILED,
                 Reminder.delivery_status.in_((DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)))
    sent = Reminder.sent_at.is_not(None)
    rows = session.connection().execute(
        select(Callback.region, func.sum(case((sent, 1), else_=0)), func.sum(case((delivered, 1), else_=0)),
               func.sum(case((failed, 1), else_=0)),
               func.sum(case((and_(sent, Reminder.kind == TextKind.STAFF), 1), else_=0)))
        .select_from(Reminder).outerjoin(Callback, Callback.id == Reminder.callback_id)
        .where(period.covers(Reminder.due_at)).group_by(Callback.region)).all()
    replies = [(region, command == TextCommand.STOP, count) for region, command, count in session.connection().execute(
        select(Callback.region, InboundText.command, func.count())
        .select_from(InboundText).outerjoin(Callback, Callback.id == InboundText.callback_id)
        .where(period.covers(InboundText.received_at))
        .group_by(Callback.region, InboundText.command))]
    return [
        _figure("texts_sent", "Texts sent", "Texts handed to Twilio (or recorded as simulated without an account) that "
                "were due in the period: reminders and officers' replies. Held, cancelled and missed texts are not "
                "counted.", _counts((r[0], r[1] or 0) for r in rows)),
        _figure("texts_by_officers", "of which officers' replies", "Texts an officer wrote from a callback's page or a "
                "stray text's page.", _counts((r[0], r[4] or 0) for r in rows)),
        _figure("texts_delivered", "Delivered", "Texts the phone network reported delivered.",
                _counts((r[0], r[2] or 0) for r in rows)),
        _figure("texts_failed", "Failed", "Texts Twilio refused for good, or the network reported undelivered.",
                _counts((r[0], r[3] or 0) for r in rows)),
        _figure("replies", "Texts received", "Texts sent to the helpline number in the period, opt-outs included; "
                "those from a number with no open callback count under No team.",
                _counts((region, count) for region, _, count in replies)),
        _figure("opt_outs", "Opt-outs", "Texts received that said STOP (or another opt-out word).",
                _counts((region, count) for region, is_stop, count in replies if is_stop)),
    ]


# --- the anonymised callback list ------------------------------------------------------------------


def callback_list(session: Session, period: Period):
    """The callbacks booked in the period, one row each, with nothing that identifies anyone: no
    number, no notes, no names. Yields dicts in booking order."""
    attempts = (select(func.count()).where(CallbackEvent.callback_id == Callback.id,
                                          CallbackEvent.kind == EventKind.ATTEMPT).scalar_subquery())
    query = (select(Callback.id, Callback.region, Callback.call_sid.is_not(None), Callback.created_at,
                    Callback.window_start, Callback.window_end, Callback.status, Callback.texts_ok,
                    Callback.voicemail_ok, attempts)
             .where(period.covers(Callback.created_at)).order_by(Callback.created_at, Callback.id))
    for (callback_id, region, by_phone, created, starts, ends, status, texts_ok, voicemail_ok,
         tried) in session.connection().execute(query):
        yield {"reference": callback_id, "team": region, "booked_on": london(created).date().isoformat(),
               "booked_by": "phone line" if by_phone else "officer", "window_day": london(starts).date().isoformat(),
               "window": f"{london(starts):%H:%M}-{london(ends):%H:%M}", "status": status,
               "texts_agreed": "yes" if texts_ok else "no", "voicemail_agreed": "yes" if voicemail_ok else "no",
               "attempts": tried}
