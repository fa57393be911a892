"""`flask --app ivr staff create EMAIL --role staff|admin [--password-file PATH]`, and `staff disable EMAIL`.
Each change is logged as a security event, as when an administrator makes it on the staff pages."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup

from ivr import current_time
from ivr.db.sessions import session_scope
from ivr.logs import security_event
from ivr.models import Role
from ivr.staff import accounts

staff = AppGroup("staff", help="Staff accounts for the staff pages (there is no self-registration).")


@staff.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value, show_default=True)
@click.option("--password-file", type=click.File("r"),
              help="Read the password from this file's first line instead of asking for it.")
def create(email: str, role: str, password_file) -> None:
    """Add an account for EMAIL; the password is asked for twice unless --password-file is given."""
    if problem := accounts.email_problem(accounts.normalise_email(email)):
        raise click.BadParameter(problem, param_hint="EMAIL")
    if password_file is not None:
        password = password_file.readline().rstrip("\r\n")
    else:
        # One that will not do is asked for again, saying why, rather than ending the command.
        password = click.prompt(f"Password (at least {accounts.MIN_PASSWORD_LENGTH} characters)", hide_input=True,
                                confirmation_prompt=True, value_proc=_acceptable_password)
    try:
        with session_scope(current_app) as session:
            user = accounts.create_account(session, email, password, role, current_time.now())
            email, role, user_id = user.email, user.role, user.id
    except accounts.AccountError as problem:
        raise click.ClickException(str(problem))
    security_event("staff_account_changed", logging.INFO, change="created", staff_id=user_id, role=role,
                   by="command_line")
    click.echo(f"Created the {role} account {email}.")


def _acceptable_password(password: str) -> str:
    if problem := accounts.password_problem(password):
        raise click.UsageError(problem)
    return password


@staff.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable the account for EMAIL and end its sessions."""
    with session_scope(current_app) as session:
        user = accounts.find(session, email)
        if user is None:
            raise click.ClickException(f"There is no account for {email}.")
        accounts.set_active(user, False)
        user_id = user.id
    security_event("staff_account_changed", logging.INFO, change="disabled", staff_id=user_id, by="command_line")
    click.echo(f"Disabled {accounts.normalise_email(email)}; its sessions have ended.")
