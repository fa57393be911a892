"""The migrations upgrade a database in place: every row and value kept, every reference still
pointing at its row, every constraint named as the models name it. Afterwards the database itself
refuses a status or kind outside its list (a misspelt status would make a callback vanish from the
staff queue), and the app's lookups by phone number and by record use indexes.

Runs on the suite's database: SQLite files, or with IVR_TEST_ON_POSTGRES=1 private PostgreSQL
databases each test makes and drops.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    CheckConstraint,
    Engine,
    ForeignKeyConstraint,
    MetaData,
    UniqueConstraint,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import DEFAULT_NAMING_CONVENTION

from ivr.db.engine import make_engine
from ivr.db.migrations import alembic_config
from ivr.models import (
    AttemptOutcome,
    AuditEvent,
    Base,
    Call,
    CallAttempt,
    Callback,
    CallbackEvent,
    CallbackStatus,
    CallResult,
    CallStatus,
    CallChoice,
    CallStep,
    DeliveryStatus,
    EventKind,
    InboundText,
    Reminder,
    ReminderKind,
    ReminderStatus,
    NumberSource,
    Role,
    StaffUser,
    TextCommand,
    TextKind,
    TextsHeld,
    Voicemail,
    VoicemailEvent,
    VoicemailEventKind,
    VoicemailStatus,
)
from tests.conftest import LANDLINE, MOBILE, on_postgres, utc

# Every checked column and the enum that lists its values.
CHECKED = [
    (Call, "status", CallStatus),
    (Voicemail, "status", VoicemailStatus),
    (Callback, "status", CallbackStatus),
    (CallbackEvent, "kind", EventKind),
    (CallbackEvent, "outcome", AttemptOutcome),
    (Reminder, "kind", TextKind),
    (Reminder, "status", ReminderStatus),
    (Reminder, "delivery_status", DeliveryStatus),
    (InboundText, "command", TextCommand),
    (StaffUser, "role", Role),
    (Callback, "number_source", NumberSource),
    (Callback, "texts_held", TextsHeld),
    (VoicemailEvent, "kind", VoicemailEventKind),
    (CallStep, "choice", CallChoice),
    (CallAttempt, "result", CallResult),
]
NEW_REFERENCES = {("reminders", ("staff_id",), "staff", ("id",))}
NEW_INDEXES = {"ix_callbacks_phone_number", "ix_reminders_to_number", "ix_reminders_to_number_status",
               "ix_audit_events_record"}


# --- databases ----------------------------------------------------------------------------------


@contextmanager
def blank_database(directory) -> Iterator[str]:
    """An empty database of the suite's kind, dropped afterwards."""
    if not on_postgres():
        yield f"sqlite:///{directory / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    server = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"ivr_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def migrate_to_0002_as_before(url: str) -> None:
    """0002 as every database made before 0003 has it. Alembic names what 0001 creates by the models'
    naming convention, which those databases were made without: PostgreSQL named their constraints
    itself (calls_pkey, callbacks_assigned_to_id_fkey, ...) and SQLite not at all."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Base.metadata, "naming_convention", DEFAULT_NAMING_CONVENTION)
        command.upgrade(alembic_config(url), "0002")


def at(*args) -> datetime:
    """A time as the app stores it: naive UTC."""
    return datetime(*args)


def add_realistic_rows(engine: Engine) -> dict[str, int]:
    """A little of everything the service stores, written into the tables as 0002 has them (not
    through the models, which may be newer). Returns the ids the test looks for again."""
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    hashed = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"

    with engine.begin() as db:
        def add(table: str, **values) -> int:
            return db.execute(insert(t[table]).values(**values).returning(t[table].c.id)).scalar_one()

        officer = add("staff", email="officer@example.org", password_hash=hashed,
                      role="staff", active=True, session_token="a" * 64, created_at=at(2026, 11, 1, 9),
                      last_sign_in_at=at(2026, 11, 30, 8, 55))
        admin = add("staff", email="admin@example.org", password_hash=hashed,
                    role="admin", active=False, session_token="b" * 64, created_at=at(2026, 11, 1, 9),
                    last_sign_in_at=None)
        add("calls", call_sid="CA" + "1" * 32, from_number=MOBILE, region="cleveland", started_at=at(2026, 11, 28, 10),
            status="completed", ended_at=at(2026, 11, 28, 10, 3), duration_seconds=180, keyed_number=None)
        add("calls", call_sid="CA" + "2" * 32, from_number=None, region=None, started_at=at(2026, 11, 30, 9),
            status="in-progress", ended_at=None, duration_seconds=None, keyed_number=LANDLINE)
        db.execute(insert(t["closures"]).values(day=date(2026, 12, 24), reason="staff training",
                                                created_at=at(2026, 11, 2, 12)))
        db.execute(insert(t["switches"]).values(name="closed_now", on=False, changed_at=at(2026, 11, 3, 17),
                                                changed_by="admin@example.org"))
        db.execute(insert(t["opt_outs"]).values(phone_number="+447911654321", opted_out_at=at(2026, 11, 29, 19)))
        voicemail = add("voicemails", call_sid="CA" + "1" * 32, from_number=MOBILE, region="durham",
                        recording_sid="RE" + "1" * 32, recording_url="https://api.twilio.com/2010-04-01/Recordings/RE1",
                        duration_seconds=42, status="listened", created_at=at(2026, 11, 28, 10, 2),
                        listened_at=at(2026, 11, 30, 9, 5), recording_deleted_at=None, anonymised_at=None)
        booked = add("callbacks", call_sid="CA" + "1" * 32, region="cleveland", phone_number=MOBILE, is_mobile=True,
                     window_start=at(2026, 11, 30, 9), window_end=at(2026, 11, 30, 12), voicemail_ok=True,
                     texts_ok=True, status="confirmed", assigned_to_id=officer, created_by_id=None,
                     created_at=at(2026, 11, 28, 10, 2), updated_at=at(2026, 11, 29, 11, 5), anonymised_at=None)
        by_staff = add("callbacks", call_sid=None, region="darlington", phone_number=LANDLINE, is_mobile=False,
                       window_start=at(2026, 11, 27, 13), window_end=at(2026, 11, 27, 17), voicemail_ok=False,
                       texts_ok=False, status="overdue", assigned_to_id=None, created_by_id=admin,
                       created_at=at(2026, 11, 26, 9), updated_at=at(2026, 11, 27, 17), anonymised_at=None)
        for kind, outcome, detail, staff_id, when in [
            ("booked", None, "by phone", None, at(2026, 11, 28, 10, 2)),
            ("text_reply", None, "Replied YES: the callback is confirmed.", None, at(2026, 11, 29, 11, 5)),
            ("attempt", "no_answer", "", officer, at(2026, 11, 30, 9, 10)),
            ("note", None, "Prefers calls after school pick-up", officer, at(2026, 11, 30, 9, 12)),
            ("text_failed", None, "The day-before reminder text could not be delivered (error 30003).", None,
             at(2026, 11, 29, 11, 1)),
        ]:
            add("callback_events", callback_id=booked, kind=kind, outcome=outcome, detail=detail, staff_id=staff_id,
                at=when)
        add("callback_events", callback_id=by_staff, kind="overdue", outcome=None,
            detail="The window passed with no outcome recorded.", staff_id=None, at=at(2026, 11, 27, 17))

        def reminder(kind: str, status: str, **values) -> int:
            return add("reminders", **{
                "callback_id": booked, "kind": kind, "to_number": MOBILE, "due_at": at(2026, 11, 29, 11),
                "useful_until": at(2026, 11, 30, 9), "status": status, "attempts": 0, "claimed_at": None,
                "claimed_by": None, "body": "A reminder of your call on Mon 30 Nov, 9am-12 noon.",
                "message_sid": None, "simulated": False, "sent_at": None, "delivery_status": None,
                "error_code": None, "updated_at": at(2026, 11, 28, 10, 2)} | values)

        sent = reminder("day_before", "sent", attempts=1, claimed_at=at(2026, 11, 29, 11), claimed_by="clock-1",
                        message_sid="SM" + "1" * 32, sent_at=at(2026, 11, 29, 11), delivery_status="delivered",
                        updated_at=at(2026, 11, 29, 11, 1))
        reminder("day_before", "failed", attempts=2, message_sid="SM" + "2" * 32, sent_at=at(2026, 11, 29, 11),
                 delivery_status="undelivered", error_code=30003)
        reminder("hour_before", "pending", due_at=at(2026, 11, 30, 8))
        reminder("hour_before", "claimed", due_at=at(2026, 11, 30, 8), useful_until=at(2026, 12, 1, 9),
                 claimed_at=at(2026, 11, 30, 8), claimed_by="clock-2")
        reminder("hour_before", "cancelled", body=None)
        add("inbound_texts", message_sid="SM" + "3" * 32, from_number=MOBILE, body="Yes", command="yes",
            callback_id=booked, received_at=at(2026, 11, 29, 11, 5), handled_at=at(2026, 11, 29, 11, 5),
            anonymised_at=None)
        add("inbound_texts", message_sid="SM" + "4" * 32, from_number="+447911654321", body="STOP", command="stop",
            callback_id=None, received_at=at(2026, 11, 29, 19), handled_at=at(2026, 11, 29, 19), anonymised_at=None)
        add("audit_events", at=at(2026, 11, 30, 9, 1), staff_id=officer, action="view", record_type="callback",
            record_id=booked, detail="")
        add("audit_events", at=at(2026, 11, 30, 9, 6), staff_id=officer, action="play", record_type="voicemail",
            record_id=voicemail, detail="")
        add("sign_in_failures", at=at(2026, 11, 30, 8, 50), account="9f" * 32, address="192.0.2.10")
    return {"officer": officer, "admin": admin, "booked": booked, "by_staff": by_staff, "sent": sent}


def every_row(engine: Engine) -> dict[str, list[dict]]:
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as db:
        return {name: [dict(row._mapping) for row in db.execute(select(table).order_by(*table.primary_key))]
                for name, table in tables.tables.items() if name != "alembic_version"}


def as_before(rows: dict[str, list[dict]], before: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """`rows` with only the tables and columns there were `before` (a later migration may add some)."""
    return {table: [{column: row[column] for column in (before[table][0] if before.get(table) else row)}
                    for row in table_rows] for table, table_rows in rows.items() if table in before}


def references(engine: Engine) -> set[tuple]:
    found = inspect(engine)
    return {(table, tuple(key["constrained_columns"]), key["referred_table"], tuple(key["referred_columns"]))
            for table in found.get_table_names() for key in found.get_foreign_keys(table)}


def rows_pointing_nowhere(engine: Engine) -> int:
    count = 0
    with engine.connect() as db:
        for table, (column,), referred, (referred_column,) in references(engine):
            count += db.execute(text(
                f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL"
                f" AND {column} NOT IN (SELECT {referred_column} FROM {referred})")).scalar()
    return count


def differences_from_the_models(engine: Engine) -> list:
    with engine.connect() as db:
        return compare_metadata(MigrationContext.configure(db), Base.metadata)


def names_in(engine: Engine) -> dict[str, dict]:
    found = inspect(engine)
    return {table: {
        "primary key": found.get_pk_constraint(table)["name"],
        # SQLite's are None when unnamed
        "unique": sorted((u["name"] for u in found.get_unique_constraints(table)), key=str),
        "foreign keys": sorted((f["name"] for f in found.get_foreign_keys(table)), key=str),
        "checks": sorted((c["name"] for c in found.get_check_constraints(table)), key=str),
        "indexes": sorted(i["name"] for i in found.get_indexes(table) if not i.get("duplicates_constraint")),
    } for table in found.get_table_names() if table != "alembic_version"}


def names_in_the_models() -> dict[str, dict]:
    def named(table, kind):
        return sorted(c.name for c in table.constraints if isinstance(c, kind))

    return {table.name: {
        "primary key": table.primary_key.name,
        "unique": named(table, UniqueConstraint),
        "foreign keys": named(table, ForeignKeyConstraint),
        "checks": named(table, CheckConstraint),
        "indexes": sorted(i.name for i in table.indexes),
    } for table in Base.metadata.sorted_tables}


def revision(engine: Engine) -> str:
    with engine.connect() as db:
        return db.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


@pytest.fixture
def legacy_url(tmp_path) -> Iterator[str]:
    """A database at 0002 as it was made before the naming convention, holding realistic rows."""
    with blank_database(tmp_path) as url:
        migrate_to_0002_as_before(url)
        yield url


@pytest.fixture
def engine_for():
    engines = []

    def make(url: str) -> Engine:
        engines.append(make_engine(url))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


# --- upgrading in place -------------------------------------------------------------------------


@pytest.mark.parametrize("made", ["before the naming convention", "by today's 0001 and 0002"])
def test_an_existing_database_upgrades_in_place_with_every_row_kept(made, tmp_path, engine_for):
    with blank_database(tmp_path) as url:
        if made == "before the naming convention":
            migrate_to_0002_as_before(url)
        else:
            command.upgrade(alembic_config(url), "0002")
        engine = engine_for(url)
        ids = add_realistic_rows(engine)
        before, references_before = every_row(engine), references(engine)
        assert all(before.values()), "a row in every table"

        command.upgrade(alembic_config(url), "head")

        assert revision(engine) != "0002"
        assert as_before(every_row(engine), before) == before
        # ... and gain only the references later revisions add (0007: who wrote an officer's text).
        assert {r for r in references(engine) if r[0] in before} == references_before | NEW_REFERENCES
        assert rows_pointing_nowhere(engine) == 0
        assert differences_from_the_models(engine) == []
        assert names_in(engine) == names_in_the_models()

        # The app reads the rows through the models as before, each reference reaching its row.
        with Session(engine) as session:
            booked = session.get(Callback, ids["booked"])
            assert booked.status == CallbackStatus.CONFIRMED and booked.assigned_to_id == ids["officer"]
            assert [e.kind for e in booked.events] == ["booked", "text_failed", "text_reply", "attempt", "note"]
            assert sorted(r.status for r in booked.reminders) == ["cancelled", "claimed", "failed", "pending", "sent"]
            sent = session.get(Reminder, ids["sent"])
            assert (sent.message_sid, sent.delivery_status, sent.callback.phone_number) == ("SM" + "1" * 32,
                                                                                              "delivered", MOBILE)
            assert session.get(Callback, ids["by_staff"]).created_by_id == ids["admin"]
            # Where each number came from, as 0005 read it: booked from the line it calls, or by staff.
            assert (booked.number_source, session.get(Callback, ids["by_staff"]).number_source) == ("caller", "staff")
            assert session.scalars(select(AuditEvent.record_id).where(AuditEvent.record_type == "callback")).one() \
                == ids["booked"]
            # ... and adds new ones after them.
            session.add(CallbackEvent(callback=booked, at=utc(2026, 11, 30, 10), kind=EventKind.ATTEMPT,
                                      outcome=AttemptOutcome.SPOKE, staff_id=ids["officer"]))
            session.commit()
            assert session.scalar(select(func.count()).select_from(CallbackEvent)) == 7


def test_a_database_made_today_has_every_name_the_models_give(database_url, engine_for):
    engine = engine_for(database_url)
    assert names_in(engine) == names_in_the_models()


def test_each_check_lists_exactly_its_enum(database_url, engine_for):
    """The migration writes the lists out; the models build them from the enums: they agree."""
    found = inspect(engine_for(database_url))
    for model, column, enum in CHECKED:
        (check,) = [c for c in found.get_check_constraints(model.__tablename__)
                    if c["name"] == f"ck_{model.__tablename__}_{column}"]
        assert set(re.findall(r"'([^']*)'", check["sqltext"])) == {member.value for member in enum}, check


def test_every_check_in_the_models_is_tested_here():
    checks = {c.name for table in Base.metadata.sorted_tables for c in table.constraints
              if isinstance(c, CheckConstraint)}
    assert checks == {f"ck_{model.__tablename__}_{column}" for model, column, _ in CHECKED}


@pytest.fixture(scope="module")
def upgraded_url(tmp_path_factory) -> Iterator[str]:
    """A database made before the naming convention, with rows, upgraded to the newest revision."""
    with blank_database(tmp_path_factory.mktemp("upgraded")) as url:
        migrate_to_0002_as_before(url)
        engine = make_engine(url)
        add_realistic_rows(engine)
        engine.dispose()
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        with Session(engine) as session:  # tables made after 0002 get a row too
            voicemail_id = session.scalars(select(Voicemail.id)).first()
            session.add(VoicemailEvent(voicemail_id=voicemail_id, at=utc(2026, 12, 1, 10), kind="note", detail=""))
            session.add(CallStep(call_sid="CA" + "1" * 32, choice="team", at=utc(2026, 12, 1, 10)))
            session.add(CallAttempt(callback_id=session.scalars(select(Callback.id)).first(),
                                    staff_id=session.scalars(select(StaffUser.id)).first(), to_number=MOBILE,
                                    officer_number=LANDLINE, placed_at=utc(2026, 12, 1, 10),
                                    ended_at=utc(2026, 12, 1, 10, 5), result="agreed"))
            session.commit()
        engine.dispose()
        yield url


@pytest.mark.parametrize(("model", "column", "enum"), CHECKED, ids=[f"{m.__tablename__}.{c}" for m, c, _ in CHECKED])
def test_after_the_upgrade_only_the_listed_values_are_stored(model, column, enum, upgraded_url, engine_for):
    engine = engine_for(upgraded_url)
    table = model.__table__
    with engine.connect() as db:
        row_id, stored = db.execute(select(table.c.id, table.c[column]).order_by(table.c.id).limit(1)).one()

    def store(value) -> None:
        with engine.begin() as db:
            db.execute(update(table).where(table.c.id == row_id).values({column: value}))

    try:
        for value in enum:
            store(value)
        if table.c[column].nullable:
            store(None)
        for wrong in ("bogus", next(iter(enum)).value.upper(), ""):
            with pytest.raises(IntegrityError):
                store(wrong)
    finally:
        store(stored)


def test_downgrade_to_0002_and_upgrade_again(legacy_url, engine_for):
    engine = engine_for(legacy_url)
    ids = add_realistic_rows(engine)
    before = every_row(engine)
    command.upgrade(alembic_config(legacy_url), "head")

    command.downgrade(alembic_config(legacy_url), "0002")
    assert revision(engine) == "0002"
    assert every_row(engine) == before
    assert rows_pointing_nowhere(engine) == 0
    assert not any(names["checks"] for names in names_in(engine).values())
    assert not NEW_INDEXES & {name for names in names_in(engine).values() for name in names["indexes"]}
    with engine.begin() as db:  # no CHECK any more
        db.execute(text("UPDATE callbacks SET status = 'bogus' WHERE id = :id"), {"id": ids["by_staff"]})
        db.execute(text("UPDATE callbacks SET status = 'overdue' WHERE id = :id"), {"id": ids["by_staff"]})

    command.upgrade(alembic_config(legacy_url), "head")
    assert as_before(every_row(engine), before) == before
    assert differences_from_the_models(engine) == []
    assert names_in(engine) == names_in_the_models()


def test_a_stored_value_outside_a_list_stops_the_upgrade_before_anything_changes(legacy_url, engine_for):
    engine = engine_for(legacy_url)
    ids = add_realistic_rows(engine)
    with engine.begin() as db:
        db.execute(text("UPDATE callbacks SET status = 'closed' WHERE id = :id"), {"id": ids["by_staff"]})
    before, schema_before = every_row(engine), names_in(engine)

    with pytest.raises(RuntimeError, match=r"callbacks\.status = 'closed' in 1 row"):
        command.upgrade(alembic_config(legacy_url), "head")
    assert revision(engine) == "0002"
    assert every_row(engine) == before and names_in(engine) == schema_before

    with engine.begin() as db:
        db.execute(text("UPDATE callbacks SET status = 'cancelled' WHERE id = :id"), {"id": ids["by_staff"]})
    command.upgrade(alembic_config(legacy_url), "head")
    assert differences_from_the_models(engine) == []


def test_an_upgrade_that_fails_half_way_leaves_the_database_as_it_was(legacy_url, engine_for, monkeypatch):
    """SQLite included: its tables are all rebuilt before the last index fails."""
    engine = engine_for(legacy_url)
    add_realistic_rows(engine)
    before, schema_before = every_row(engine), names_in(engine)
    create_index = Operations.create_index

    def disk_full_at_the_last_index(self, name, *args, **kwargs):
        if name == "ix_audit_events_record":
            raise OSError("disk full")
        return create_index(self, name, *args, **kwargs)

    monkeypatch.setattr(Operations, "create_index", disk_full_at_the_last_index)
    with pytest.raises(OSError, match="disk full"):
        command.upgrade(alembic_config(legacy_url), "head")

    assert revision(engine) == "0002"
    assert every_row(engine) == before
    assert names_in(engine) == schema_before
    assert not [name for name in inspect(engine).get_table_names() if name.startswith("_alembic_tmp")]


def test_init_db_upgrades_an_existing_database_and_is_safe_to_run_again(legacy_url, engine_for, app_config):
    from ivr import create_app

    engine = engine_for(legacy_url)
    add_realistic_rows(engine)
    before = every_row(engine)
    app = create_app(app_config | {"DATABASE_URL": legacy_url})
    try:
        for _ in range(2):
            result = app.test_cli_runner().invoke(args=["init-db"])
            assert result.exit_code == 0, result.output
    finally:
        app.extensions["db.engine"].dispose()
    assert as_before(every_row(engine), before) == before
    assert names_in(engine) == names_in_the_models()


# --- the lookups use the indexes ----------------------------------------------------------------


@pytest.mark.skipif(on_postgres(), reason="SQLite's query plans; PostgreSQL scans tables this small anyway")
def test_the_lookups_by_number_and_by_record_use_their_indexes(session):
    from ivr import reminders, replies
    from ivr.staff import audit

    def plan(statement) -> str:
        sql = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        return " | ".join(row[-1] for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))

    class Nothing:
        def first(self):
            return None

        def __iter__(self):
            return iter(())

    number = MOBILE
    captured = []
    with pytest.MonkeyPatch.context() as patch:  # the app's own statements
        patch.setattr(Session, "scalars", lambda self, statement, *a, **k: captured.append(statement) or Nothing())
        replies.callback_replied_to(session, number)
        reminders.open_callbacks_of(session, number)
    reply_lookup, open_callbacks = captured
    by_number = ("ix_callbacks_phone_number", "uq_callbacks_open_number_window")  # both lead with the number
    assert any(index in plan(reply_lookup) for index in by_number)
    assert any(index in plan(open_callbacks) for index in by_number)
    stop = (update(Reminder).where(Reminder.to_number == number, Reminder.status.in_(reminders.NOT_YET_GONE))
            .values(status=ReminderStatus.CANCELLED))
    assert "ix_reminders_to_number_status" in plan(stop)
    trail = (select(AuditEvent).where(AuditEvent.record_type == "callback", AuditEvent.record_id == 1)
             .order_by(AuditEvent.id.desc()).limit(audit.PAGE_SIZE))
    assert "ix_audit_events_record" in plan(trail)
    team = (select(Callback).where(Callback.status.in_(["booked", "confirmed", "rearrange", "overdue"]),
                                   Callback.region == "durham").order_by(Callback.window_start))
    assert "ix_callbacks_region_status_window" in plan(team)  # one team's queue (0009)


# --- the audit trail is append-only in the database ---------------------------------------------


def _refused(engine: Engine, statement) -> None:
    with pytest.raises(DBAPIError, match="audit events are append-only"):
        with engine.begin() as db:
            db.execute(statement)


def test_the_database_itself_refuses_to_change_or_delete_an_audit_row(database_url, engine_for):
    engine = engine_for(database_url)
    trail = AuditEvent.__table__
    with engine.begin() as db:
        row = db.execute(insert(trail).values(at=utc(2026, 11, 30, 9), action="view", record_type="callback",
                                              record_id=7, detail="")).inserted_primary_key[0]
    _refused(engine, update(trail).where(trail.c.id == row).values(staff_id=None, detail="nobody looked"))
    _refused(engine, delete(trail).where(trail.c.id == row))
    _refused(engine, text("DELETE FROM audit_events"))
    with engine.connect() as db:
        assert db.execute(select(trail.c.record_id, trail.c.detail)).all() == [(7, "")]
        db.execute(insert(trail).values(at=utc(2026, 11, 30, 9, 1), action="view", record_type="callback",
                                        record_id=7, detail=""))  # adding rows goes on as before
        db.commit()


def test_downgrading_past_0004_lets_audit_rows_change_again(legacy_url, engine_for):
    engine = engine_for(legacy_url)
    add_realistic_rows(engine)
    command.upgrade(alembic_config(legacy_url), "head")
    _refused(engine, text("UPDATE audit_events SET detail = 'x'"))
    command.downgrade(alembic_config(legacy_url), "0003")
    with engine.begin() as db:
        assert db.execute(text("UPDATE audit_events SET detail = 'x'")).rowcount == 2
    command.upgrade(alembic_config(legacy_url), "head")
    _refused(engine, text("UPDATE audit_events SET detail = 'y'"))


# --- one booking per person and window (0005) -----------------------------------------------------


def test_callbacks_stored_twice_for_one_number_and_window_are_resolved_on_upgrade(tmp_path, engine_for):
    """Before 0005 the same number and window could be booked over and over, each with its texts:
    the upgrade keeps the first booking, cancels the repeats with a line saying so, and cancels
    their texts still to go, so no phone gets the same reminder twice."""
    from sqlalchemy import Boolean, DateTime, Integer, String, column, table

    def naive(*args):
        return utc(*args).replace(tzinfo=None)

    callbacks_0004 = table("callbacks", column("id", Integer), column("call_sid", String), column("region", String),
                           column("phone_number", String), column("is_mobile", Boolean),
                           column("window_start", DateTime), column("window_end", DateTime),
                           column("voicemail_ok", Boolean), column("texts_ok", Boolean), column("status", String),
                           column("created_at", DateTime), column("updated_at", DateTime))
    reminders_0004 = table("reminders", column("callback_id", Integer), column("kind", String),
                           column("to_number", String), column("due_at", DateTime), column("useful_until", DateTime),
                           column("status", String), column("attempts", Integer), column("simulated", Boolean),
                           column("body", String), column("updated_at", DateTime))
    with blank_database(tmp_path) as url:
        command.upgrade(alembic_config(url), "0004")
        engine = engine_for(url)
        with engine.begin() as db:
            ids = []
            for n in range(3):
                ids.append(db.execute(insert(callbacks_0004).values(
                    call_sid=f"CA{n:032d}", region="cleveland", phone_number=MOBILE, is_mobile=True,
                    window_start=naive(2026, 11, 30, 9), window_end=naive(2026, 11, 30, 12), voicemail_ok=False,
                    texts_ok=True, status="booked", created_at=naive(2026, 11, 26, 10),
                    updated_at=naive(2026, 11, 26, 10)).returning(callbacks_0004.c.id)).scalar())
                db.execute(insert(reminders_0004).values(
                    callback_id=ids[-1], kind="day_before", to_number=MOBILE, due_at=naive(2026, 11, 29, 11),
                    useful_until=naive(2026, 11, 30, 9), status="pending", attempts=0, simulated=False, body="x",
                    updated_at=naive(2026, 11, 26, 10)))
        command.upgrade(alembic_config(url), "head")
        with Session(engine) as session:
            assert [session.get(Callback, i).status for i in ids] == ["booked", "cancelled", "cancelled"]
            assert f"as callback {ids[0]}, which is kept" in session.get(Callback, ids[1]).events[-1].detail
            pending = session.scalars(select(Reminder.callback_id).where(Reminder.status == "pending")).all()
            assert pending == [ids[0]]
