"""The `flask --app ivr` commands, all registered here: `init-db`, `closures …`, `staff …` (in
ivr.staff.cli) and `call`, the terminal phone (in ivr.voice.phone_cli)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from ivr import closures as closure_store
from ivr import current_time
from ivr.db.migrations import upgrade
from ivr.db.sessions import session_scope
from ivr.hours import london, london_time


def register(app: Flask) -> None:
    from ivr.staff.cli import staff
    from ivr.voice.phone_cli import call

    for command in (init_db, closures, staff, call, places):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database schema, or upgrade it to the newest version (safe to run twice)."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo("The database schema is up to date.")


places = AppGroup("places", help="The gazetteer: the places callers may name, and the team for each.")


@places.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Where to write the gazetteer (default: the one the helpline file names).")
@click.option("--extracted-in", default=None,
              help="For an extract (name lat lon district places): where it was published, e.g. "
                   "'owner/repo path/file.tsv at commit abc123'.")
@click.option("--edition", default="2024", show_default=True, help="For an extract: the year of the Index it copies.")
@click.option("--keep", "keep_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A list whose places the published source lacks are kept, marked added by hand "
                   "(default: the gazetteer being replaced).")
@with_appcontext
def import_places(sources: tuple[str, ...], out: str | None, extracted_in: str | None, edition: str,
                  keep_file: str | None) -> None:
    """Write the gazetteer from the ONS Index of Place Names CSV, or from an extract of it (one file
    or several parts), keeping the helpline's council areas and the places added by hand."""
    from pathlib import Path

    import tomllib

    from ivr.places import import_extract, import_ipn, read_gazetteer

    helpline_file = Path(current_app.config["HELPLINE_CONFIG"])
    with open(helpline_file, "rb") as file:
        gazetteer = tomllib.load(file).get("places", {}).get("gazetteer", "places.tsv")
    target = Path(out) if out else helpline_file.parent / gazetteer
    areas = [area for region in current_app.extensions["helpline"].regions for area in region.council_areas]
    today = london(current_time.now()).date()
    try:
        # The gazetteer being replaced keeps its places added by hand; a list named with --keep was
        # made by hand, so each of its places the published source lacks is kept, saying so.
        if keep_file:
            reason = f"not in the published source; listed in {Path(keep_file).name}"
            keep = [place if place.by_hand else place._replace(by_hand=reason) for place in read_gazetteer(keep_file)]
        else:
            keep = read_gazetteer(target) if target.exists() else []
        if all(source.lower().endswith(".csv") for source in sources) and len(sources) == 1:
            counts = import_ipn(sources[0], areas, target, today, keep)
        elif extracted_in:
            counts = import_extract(sources, areas, target, today, extracted_in, edition, keep)
        else:
            raise ValueError("not the Index of Place Names CSV; for an extract of it (name lat lon district places), "
                             "say with --extracted-in where it was published, for the gazetteer's header")
    except (ValueError, KeyError, UnicodeDecodeError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Wrote {sum(counts.values())} places to {target}: "
               + ", ".join(f"{area} {counts[area]}" for area in areas) + ". Restart the app to use them.")


closures = AppGroup("closures", help="Days the office is closed, and the emergency 'closed now' switch.")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-12-24")


@closures.command("list")
def closures_list() -> None:
    """List the closures from today on, and whether 'closed now' is on."""
    today = london(datetime.now(timezone.utc)).date()
    with session_scope(current_app) as session:
        rows = closure_store.list_closures(session, since=today)
        for closure in rows:
            click.echo(f"{closure.day.isoformat()}  {closure.day:%A}  {closure.reason}".rstrip())
        if not rows:
            click.echo("No closures ahead.")
        click.echo(_closed_now_line(closure_store.closed_now(session, current_app.extensions["helpline"],
                                                             current_time.now())))


@closures.command("add")
@click.argument("day")
@click.option("--reason", default="", help="Shown to staff, e.g. 'staff training'.")
def closures_add(day: str, reason: str) -> None:
    """Close the office on DAY (YYYY-MM-DD)."""
    when = _day(day)
    with session_scope(current_app) as session:
        try:
            closed_anyway = closure_store.close_on(session, current_app.extensions["helpline"], when, reason,
                                                   london(current_time.now()).date())
        except closure_store.ClosureInThePast:
            raise click.ClickException(f"{when.isoformat()} has already passed; give today or a later date.")
    click.echo(f"Closed on {when:%A %d %B %Y}."
               + (f" (It was already closed then: {closed_anyway}.)" if closed_anyway else ""))


@closures.command("remove")
@click.argument("day")
def closures_remove(day: str) -> None:
    """Open the office again on DAY (YYYY-MM-DD)."""
    when = _day(day)
    with session_scope(current_app) as session:
        removed = closure_store.remove_closure(session, when)
    if not removed:
        raise click.ClickException(f"{when.isoformat()} was not a closure date.")
    click.echo(f"Open again on {when:%A %d %B %Y}.")


def _london_wall_clock(value: str) -> datetime:
    """A London date and time as written, e.g. `2026-12-03 14:00`, as the UTC moment it names."""
    try:
        written = datetime.fromisoformat(value)
    except ValueError:
        written = None
    if written is None or written.tzinfo is not None:
        raise click.BadParameter(f"{value!r} is not a London date and time; write it as "
                                 "'YYYY-MM-DD HH:MM', e.g. '2026-12-03 14:00'", param_hint="--until")
    return london_time(written.date(), written.time())


def _at(moment: datetime) -> str:
    """`Thursday 3 December 2026 14:00`, London time."""
    local = london(moment)
    return f"{local:%A} {local.day} {local:%B %Y %H:%M}"


def _closed_now_line(switch: closure_store.ClosedNow | None) -> str:
    if switch is None:
        return "Closed now: off."
    ends = f" until {_at(switch.until)}" if switch.until else " until switched off"
    hear = f"that we open again {_at(switch.reopens)}" if switch.reopens else "nothing about when we open again"
    return f"Closed now: ON{ends}. Callers hear the closed menu, and {hear}."


@closures.command("closed-now")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.option("--until", metavar="'YYYY-MM-DD HH:MM'",
              help="London time at which the office opens again by itself (and callers are told so).")
def closures_closed_now(state: str, until: str | None) -> None:
    """Switch the emergency 'closed now' on (calls go to the closed menu) or off."""
    if until is not None and state == "off":
        raise click.UsageError("--until goes with 'on': the time the office opens again by itself.")
    reopening = _london_wall_clock(until) if until is not None else None
    now = current_time.now()
    with session_scope(current_app) as session:
        try:
            closure_store.set_closed_now(session, state == "on", by="cli", now=now, until=reopening)
        except closure_store.ReopeningPassed:
            raise click.BadParameter(f"{_at(reopening)} has already passed (it is {_at(now)} in London); "
                                     "give a later time, or leave --until out.", param_hint="--until")
        click.echo(_closed_now_line(closure_store.closed_now(session, current_app.extensions["helpline"], now)))
