"""Real database faults for tests, no patching: a PostgreSQL server that stops answering, a lock
held by another session, a SQLite write lock held by another process, and connections ended by
the server."""

from __future__ import annotations

import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


class StallingProxy:
    """A TCP proxy in front of PostgreSQL that can stall, as a hung server, a frozen virtual machine
    or a lost network would: while stalled it still accepts connections, and nothing sent on any
    connection, old or new, gets an answer. `resume()` lets everything through again."""

    def __init__(self, database_url: str):
        url = make_url(database_url)
        self.upstream = (url.host or "127.0.0.1", url.port or 5432)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = url.set(host="127.0.0.1", port=self.listener.getsockname()[1]).render_as_string(hide_password=False)
        self.flowing = threading.Event()
        self.flowing.set()
        self.closing = threading.Event()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    def close(self) -> None:
        self.closing.set()
        self.flowing.set()
        for each in [self.listener, *self.sockets]:
            each.close()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.sockets.append(client)
            threading.Thread(target=self._pump, args=(client,), daemon=True).start()

    def _pump(self, client: socket.socket) -> None:
        self.flowing.wait()  # a connection made while stalled is accepted, and then nothing happens
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        self.sockets.append(server)
        other = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            for end in other:
                selector.register(end, selectors.EVENT_READ)
            while not self.closing.is_set():
                if not self.flowing.is_set():  # stalled: read nothing, so nothing is answered
                    time.sleep(0.02)
                    continue
                for key, _ in selector.select(0.05):
                    try:
                        data = key.fileobj.recv(65536)
                        if not data:
                            raise OSError("closed")
                        other[key.fileobj].sendall(data)
                    except OSError:
                        client.close()
                        server.close()
                        return


@contextmanager
def stalling_proxy(database_url: str) -> Iterator[StallingProxy]:
    proxy = StallingProxy(database_url)
    try:
        yield proxy
    finally:
        proxy.close()


# A migration's statements, each holding ACCESS EXCLUSIVE on the tables until its transaction ends.
MIGRATION_LOCKS = {
    "LOCK TABLE": "LOCK TABLE calls, voicemails, inbound_texts IN ACCESS EXCLUSIVE MODE",
    "ALTER TABLE": "ALTER TABLE calls ADD COLUMN being_added integer; ALTER TABLE voicemails ADD COLUMN being_added integer;"
                   " ALTER TABLE inbound_texts ADD COLUMN being_added integer",
}


@contextmanager
def postgresql_lock_held(database_url: str, statement: str) -> Iterator[None]:
    """Another session runs `statement` in a transaction left open while the block runs, then rolls back."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        connection.execute(text(statement))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def terminate_backends(database_url: str, where: str = "true") -> int:
    """End the server processes serving other connections to the database (as an administrator or a
    restart does), those matching `where` in pg_stat_activity; how many."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            f" WHERE datname = current_database() AND pid <> pg_backend_pid() AND ({where})")).scalar()
    engine.dispose()
    return ended


SQLITE_LOCKER = """\
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
connection.execute("ROLLBACK")
"""


@contextmanager
def sqlite_lock_held(database_url: str) -> Iterator[None]:
    """Another process holds SQLite's write lock (BEGIN EXCLUSIVE) while the block runs."""
    locker = subprocess.Popen([sys.executable, "-c", SQLITE_LOCKER, make_url(database_url).database],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        yield
    finally:
        locker.stdin.close()
        locker.wait(10)
