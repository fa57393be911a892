"""The Figures page (/staff/admin/figures, administrators): the service's figures for any range of
London days, the current quarter by default, by team and in total, each with its definition; the
series drawn as SVG charts (no script, nothing from another site) beside tables of their numbers;
and both as CSV, with the anonymised list of the callbacks booked in the period."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Response, current_app, render_template, request

from ivr import current_time, figures
from ivr.db.sessions import request_session
from ivr.hours import london
from ivr.staff import bp
from ivr.staff.audit import audit
from ivr.staff.security import admin_required

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """A CSV cell a spreadsheet shows as text: one that would start a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def shown(figure: figures.Figure, value) -> str:
    """A figure's value as the page and the CSV write it: 12, 63%, 1.5, or — when there is nothing to divide."""
    if value is None:
        return "—"
    if figure.kind == "share":
        return f"{round(100 * value)}%"
    if figure.kind == "average":
        return f"{value:.1f}"
    return str(int(value))


def _period() -> tuple[figures.Period, list[str]]:
    """The period asked for in the query string (start, end: YYYY-MM-DD), or this quarter; and any errors."""
    default = figures.quarter_of(london(current_time.now()).date())
    errors, days = [], {}
    for name, fallback in (("start", default.first), ("end", default.last)):
        raw = request.args.get(name, "").strip()
        try:
            days[name] = date.fromisoformat(raw) if raw else fallback
        except ValueError:
            errors.append(f"The {name} date must be a date like {fallback.isoformat()} (year-month-day).")
            days[name] = fallback
    if not errors and days["end"] < days["start"]:
        errors.append("The end date is before the start date.")
    elif not errors and (days["end"] - days["start"]).days >= figures.MAX_DAYS:
        errors.append(f"Choose a period of at most {figures.MAX_DAYS} days.")
    if errors:
        return default, errors
    return figures.Period(days["start"], days["end"]), []


def _figures(period: figures.Period) -> figures.Figures:
    return figures.figures(request_session(), current_app.extensions["helpline"], period)


@bp.get("/admin/figures")
@admin_required
def figures_page():
    period, errors = _period()
    found = None if errors else _figures(period)
    return render_template("staff/admin/figures.html", period=period, errors=errors, figures=found, shown=shown,
                           start=request.args.get("start", period.first.isoformat()),
                           end=request.args.get("end", period.last.isoformat())), 400 if errors else 200


def _csv(rows, filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/admin/figures.csv")
@admin_required
def figures_csv():
    period, errors = _period()
    if errors:
        return Response(" ".join(errors), status=400, mimetype="text/plain")
    found = _figures(period)
    team_ids = [team for team, _ in found.teams]

    def rows():
        yield ["section", "figure", *[name for _, name in found.teams], "total", "definition"]
        for section, lines in found.sections.items():
            for figure in lines:
                yield [section, figure.label, *[shown(figure, figure.by_team.get(team, 0) if figure.kind == "count"
                                                      else figure.by_team.get(team)) for team in team_ids],
                       shown(figure, figure.total), figure.definition]
        for series in found.series:
            for i, label in enumerate(series.labels):
                yield [series.title, label, *[series.by_team[team][i] for team in team_ids], series.totals[i],
                       series.definition if i == 0 else ""]
    return _csv(rows(), f"figures-{period.first}-to-{period.last}.csv")


@bp.get("/admin/figures/callbacks.csv")
@admin_required
def callbacks_csv():
    period, errors = _period()
    if errors:
        return Response(" ".join(errors), status=400, mimetype="text/plain")
    audit("export", "callback", None, f"anonymised list, {period.first} to {period.last}")
    request_session().commit()
    listed = figures.callback_list(request_session(), period)
    header = ["reference", "team", "booked_on", "booked_by", "window_day", "window", "status", "texts_agreed",
              "voicemail_agreed", "attempts"]

    def rows():
        yield header
        for row in listed:
            yield [row[name] for name in header]
    return _csv(rows(), f"callbacks-{period.first}-to-{period.last}.csv")
