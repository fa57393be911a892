"""`flask --app ivr staff create EMAIL`: the way the first administrator gets in."""

import logging

from sqlalchemy import select

from ivr.models import StaffUser
from tests.conftest import StaffActions


def test_create_with_a_prompted_password(app, runner, session):
    result = runner.invoke(args=["staff", "create", "Admin@Example.org", "--role", "admin"],
                           input="a long enough pass\na long enough pass\n")
    assert result.exit_code == 0, result.output
    assert "Created the admin account admin@example.org" in result.output
    assert "a long enough pass" not in result.output
    user = session.scalar(select(StaffUser))
    assert (user.email, user.role, user.active) == ("admin@example.org", "admin", True)
    assert StaffActions(app, app.test_client()).login("admin@example.org", "a long enough pass").status_code == 302


def test_the_prompt_asks_twice(runner, session):
    result = runner.invoke(args=["staff", "create", "a@example.org"],
                           input="a long enough pass\nanother long pass\na long enough pass\na long enough pass\n")
    assert result.exit_code == 0
    assert "do not match" in result.output


def test_a_too_short_password_is_asked_for_again_not_the_end_of_the_command(runner, session):
    result = runner.invoke(args=["staff", "create", "first@example.org", "--role", "admin"],
                           input="short\na long enough pass\na long enough pass\n")
    assert result.exit_code == 0, result.output
    assert "The password must be at least 12 characters long." in result.output
    assert result.output.count("Password (at least 12 characters):") == 2
    assert "Created the admin account first@example.org" in result.output
    assert session.scalar(select(StaffUser)).email == "first@example.org"


def test_a_malformed_address_is_refused_before_any_password_is_asked_for(runner, session):
    result = runner.invoke(args=["staff", "create", "not-an-address"], input="a long enough pass\n" * 2)
    assert result.exit_code == 2 and "Enter an email address like name@example.org." in result.output
    assert "Password" not in result.output
    assert session.scalar(select(StaffUser)) is None


def test_create_with_a_password_file(runner, session, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("from a file, long enough\n")
    result = runner.invoke(args=["staff", "create", "officer@example.org", "--password-file", str(secret)])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(StaffUser)).role == "staff"


def test_short_passwords_and_duplicates_are_refused(runner, session, tmp_path):
    short = tmp_path / "short"
    short.write_text("tooshort\n")
    result = runner.invoke(args=["staff", "create", "officer@example.org", "--password-file", str(short)])
    assert result.exit_code != 0 and "at least 12 characters" in result.output
    good = tmp_path / "good"
    good.write_text("long enough password\n")
    runner.invoke(args=["staff", "create", "officer@example.org", "--password-file", str(good)])
    result = runner.invoke(args=["staff", "create", "OFFICER@example.org", "--password-file", str(good)])
    assert result.exit_code != 0 and "already an account" in result.output


def test_disable(runner, session, tmp_path, caplog):
    caplog.set_level(logging.INFO, "ivr.security")
    good = tmp_path / "good"
    good.write_text("long enough password\n")
    runner.invoke(args=["staff", "create", "officer@example.org", "--password-file", str(good)])
    result = runner.invoke(args=["staff", "disable", "officer@example.org"])
    assert result.exit_code == 0
    session.expire_all()
    officer = session.scalar(select(StaffUser))
    assert officer.active is False
    # Both changes are security events, naming the account by its id, never its address.
    logged = [r.getMessage() for r in caplog.records if r.name == "ivr.security"]
    assert logged == [f"staff_account_changed change=created staff_id={officer.id} role=staff by=command_line",
                      f"staff_account_changed change=disabled staff_id={officer.id} by=command_line"]
