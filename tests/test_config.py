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


@pytest.mark.parametrize("missing", config.REQUIRED_IN_PRODUCTION)
def test_production_refuses_to_start_without_a_required_setting(app_config, missing):
    app_config.update(IVR_ENV="production")
    app_config[missing] = None
    with pytest.raises(RuntimeError, match=missing):
        create_app(app_config)


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
