"""`./dev`: the commands a newcomer types first, run as they would type them."""

from __future__ import annotations

import json
import subprocess

import requests

from ivr.config import PROJECT_DIR
from tests.services import answers, check_running, free_port, operator_env, started, wait_for

DEV = str(PROJECT_DIR / "dev")


def test_serve_says_what_it_is_doing_and_where_to_go_once_the_service_answers(database_url, tmp_path):
    port = free_port()
    env = operator_env({"DATABASE_URL": database_url, "SPOOL_DIR": str(tmp_path / "spool"),
                        "HOST": "127.0.0.1", "PORT": str(port)})
    with started("serve", [DEV, "serve"], env, tmp_path) as serve:
        said = wait_for("./dev serve to say where to go", lambda: "First account:" in serve.log_path.read_text()
                        and serve.log_path.read_text(), 60, also=lambda: check_running(serve))
        assert said.index("preparing the database") < said.index("starting the web process and the clock")
        assert f"Staff pages:       http://127.0.0.1:{port}/staff/sign-in" in said
        assert "First account:     ./dev flask staff create you@example.org --role admin" in said
        assert "Running job" not in said  # the clock's every tick is not shouted
        front = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert front.status_code == 200 and 'href="/staff/sign-in"' in front.text
        assert answers(f"http://127.0.0.1:{port}/staff/sign-in")


def test_clock_once_at_a_pretend_time_runs_one_pass_and_prints_it(database_url, tmp_path):
    env = operator_env({"DATABASE_URL": database_url, "SPOOL_DIR": str(tmp_path / "spool")})
    done = subprocess.run([DEV, "clock", "--once", "--at", "2026-12-07 08:00"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {}
