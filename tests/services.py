"""The service's real processes, for tests that need the deployment's shape rather than a test client:
starting and stopping processes with their logs kept, gunicorn run as the Procfile runs it, and
Debian's nginx terminating TLS in front of it with a self-signed certificate made for the test.

Everything is written into the test's own folder and listens on loopback only; nothing is committed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ivr.config import PROJECT_DIR, SETTINGS

NGINX = Path("/usr/sbin/nginx")


def wait_for(what: str, done: Callable[[], object], seconds: float, *, interval: float = 0.1,
             also: Callable[[], None] = lambda: None):
    """Poll `done` until it returns something truthy; `also` may fail early (a process died)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        also()
        if result := done():
            return result
        time.sleep(interval)
    pytest.fail(f"gave up after {seconds}s waiting for {what}")


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


@contextmanager
def started(name: str, args: list[str], env: dict[str, str], folder: Path,
            cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    """A process of the service, logging to `folder/name.log`; stopped (and if need be killed) after."""
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, env=env, cwd=cwd or folder, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    process.log_path = log_path  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        stop(process)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # anything it left behind (gunicorn's workers)
        except ProcessLookupError:
            pass


def stop(process: subprocess.Popen, grace: float = 10) -> int:
    """SIGTERM, as an init system stops a service; SIGKILL if it has not gone within `grace`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(grace)
    return process.returncode


def check_running(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is not None:
            pytest.fail(f"{process.args[:3]} stopped with {process.returncode}:\n{tail(process.log_path)}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def operator_env(settings: dict[str, str]) -> dict[str, str]:
    """This shell's environment with only `settings` for the service: every other setting is set
    empty (its default), so neither this shell nor a developer's `.env` can change what is tested."""
    ours = {setting.name for setting in SETTINGS}
    env = {name: value for name, value in os.environ.items() if name not in ours}
    return env | {name: "" for name in ours} | {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")])),
        # The Procfile's commands (gunicorn, python) come from this venv, as `./dev serve` arranges.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    } | settings


def procfile_command(process: str) -> str:
    for line in (PROJECT_DIR / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process:
            return command.strip()
    raise LookupError(f"the Procfile has no {process!r} process")


def answers(url: str, **kwargs) -> bool:
    try:
        return requests.get(url, timeout=5, **kwargs).status_code == 200
    except requests.RequestException:  # not listening yet, or the workers still loading
        return False


@contextmanager
def web_as_deployed(env: dict[str, str], folder: Path) -> Iterator[str]:
    """The Procfile's `web` process (gunicorn with gunicorn.conf.py), run from the project folder as
    honcho runs it, on a free loopback port; yields its plain-http URL once /healthz answers."""
    port = free_port()
    env = env | {"HOST": "127.0.0.1", "PORT": str(port)}
    with started("web", ["bash", "-c", "exec " + procfile_command("web")], env, folder, cwd=PROJECT_DIR) as web:
        url = f"http://127.0.0.1:{port}"
        wait_for("gunicorn to answer /healthz", lambda: answers(url + "/healthz"), 30, also=lambda: check_running(web))
        web.url = url  # type: ignore[attr-defined]
        yield web


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by openssl for this test only; (cert, key)."""
    certificate, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    return certificate, key


# A TLS-terminating proxy as docs/operations.md advises: it passes the Host the browser used and says
# who the client was and that it came over https. master_process off: one process, as the user
# running the tests, so no worker switches user or needs the system's folders.
NGINX_CONF = """\
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
events {{}}
http {{
    access_log {folder}/nginx-access.log;
    client_body_temp_path {folder}/nginx-body;
    proxy_temp_path {folder}/nginx-proxy;
    fastcgi_temp_path {folder}/nginx-fastcgi;
    uwsgi_temp_path {folder}/nginx-uwsgi;
    scgi_temp_path {folder}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {certificate};
        ssl_certificate_key {key};
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


class Nginx:
    """Debian's nginx on a loopback port chosen before its upstream starts (PUBLIC_URL names it)."""

    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.certificate, self.key = self_signed_certificate(folder)

    @contextmanager
    def in_front_of(self, upstream: str) -> Iterator[subprocess.Popen]:
        """nginx serving `self.url` over TLS, passing every request to `upstream`."""
        conf = self.folder / "nginx.conf"
        conf.write_text(NGINX_CONF.format(folder=self.folder, port=self.port, certificate=self.certificate,
                                          key=self.key, upstream=upstream))
        command = [str(NGINX), "-p", str(self.folder), "-c", str(conf), "-e", str(self.folder / "nginx-error.log")]
        with started("nginx", command, os.environ.copy(), self.folder) as nginx:
            wait_for("nginx to answer over https", lambda: answers(self.url + "/healthz", verify=str(self.certificate)),
                     15, also=lambda: check_running(nginx))
            yield nginx


@dataclass
class Deployed:
    url: str  # https, through nginx
    certificate: Path  # what a client verifies it with
    web: subprocess.Popen  # gunicorn; its output is in web.log_path


@contextmanager
def deployed_behind_nginx(settings: dict[str, str], folder: Path) -> Iterator[Deployed]:
    """The Procfile's web process with `settings` (and PUBLIC_URL, nginx's address), behind nginx."""
    nginx = Nginx(folder)
    with web_as_deployed(operator_env(settings | {"PUBLIC_URL": nginx.url}), folder) as web, \
            nginx.in_front_of(web.url):
        yield Deployed(nginx.url, nginx.certificate, web)
