"""Settings come from the environment and .env, and production refuses to run half-configured."""

import re

import pytest

from ivr import config, create_app


def test_environment_wins_over_dotenv_and_defaults_fill_the_rest(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("PUBLIC_URL=https://from-dotenv.example\nSMS_RATE_PER_SECOND=5\n")
    values = config.load({"PUBLIC_URL": "https://from-env.example"}, dotenv_path=dotenv)
    assert values["PUBLIC_URL"] == "https://from-env.example"
    assert values["SMS_RATE_PER_SECOND"] == 5.0
    assert values["TWILIO_API_BASE_URL"] == "https://api.twilio.com"


@pytest.mark.parametrize("change, message", [
    ({"SECRET_KEY": None}, "set SECRET_KEY"),
    ({"PUBLIC_URL": None}, "set PUBLIC_URL"),
    ({"TWILIO_ACCOUNT_SID": None}, "set TWILIO_ACCOUNT_SID"),
    ({"TWILIO_AUTH_TOKEN": None}, "set TWILIO_AUTH_TOKEN"),
    ({"TWILIO_PHONE_NUMBER": None}, r"set TWILIO_PHONE_NUMBER \(the number texts come from\) or TWILIO_MESSAGING_SERVICE_SID"),
    ({"PUBLIC_URL": "http://rj-helpline.example.org"}, "set PUBLIC_URL to the service's https:// address"),
    ({"SECRET_KEY": "k" * 31}, r"set SECRET_KEY to at least 32 random characters \(it has 31\)"),
])
def test_production_refuses_to_start_unsafely_and_says_what_to_set(app_config, change, message):
    with pytest.raises(RuntimeError, match=message):
        create_app(app_config | {"IVR_ENV": "production"} | change)


def test_production_names_every_problem_at_once(app_config):
    unsafe = {"IVR_ENV": "production", "SECRET_KEY": "short", "PUBLIC_URL": "http://rj.example.org",
              "TWILIO_ACCOUNT_SID": None, "TWILIO_PHONE_NUMBER": None}
    with pytest.raises(RuntimeError) as refused:
        create_app(app_config | unsafe)
    assert str(refused.value).count("\n- set ") == 4


@pytest.mark.parametrize("sender", [{}, {"TWILIO_PHONE_NUMBER": None, "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32}])
def test_production_starts_when_set_up_safely(app_config, sender):
    app = create_app(app_config | {"IVR_ENV": "production"} | sender)
    assert app.config["SESSION_COOKIE_SECURE"]
    app.extensions["db.engine"].dispose()


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    settings = config.load({}, dotenv_path=None)
    config.finish(settings, str(tmp_path))
    again = config.load({}, dotenv_path=None)
    config.finish(again, str(tmp_path))
    assert len(settings["SECRET_KEY"]) == 64
    assert settings["SECRET_KEY"] == again["SECRET_KEY"]
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'ivr.sqlite3'}"


def test_a_broken_helpline_file_stops_the_app_with_the_reason(app_config, tmp_path):
    broken = tmp_path / "helpline.toml"
    source = (config.PACKAGE_DIR / "helpline.toml").read_text()
    broken.write_text(source.replace('line = "03302 234312"', 'line = "12345"'))
    app_config["HELPLINE_CONFIG"] = str(broken)
    with pytest.raises(ValueError, match="cleveland"):
        create_app(app_config)


def test_the_readme_documents_every_setting():
    readme = (config.PROJECT_DIR / "README.md").read_text()
    # The first cell of each row of its settings table names one setting or a few that go together.
    named = {name for row in readme.splitlines() if row.startswith("| `")
             for name in re.findall(r"`([A-Z0-9_]+)`", row.split("|")[1])}
    assert [s.name for s in config.SETTINGS if s.name not in named] == []
