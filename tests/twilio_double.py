"""A local stand-in for Twilio's REST API, for tests that drive the real twilio SDK.

It serves, on http://127.0.0.1:<free port>, the few endpoints the app uses:

    POST   /2010-04-01/Accounts/{AC}/Messages.json          create a message (201, Twilio-shaped JSON)
    POST   /2010-04-01/Accounts/{AC}/Calls.json             place a call (201); `answer_call` plays its TwiML
    GET    /2010-04-01/Accounts/{AC}/Recordings/{RE}.mp3    recording audio (also .wav); 404 if unknown
    DELETE /2010-04-01/Accounts/{AC}/Recordings/{RE}.json   delete a recording (204); 404 if unknown

Every request needs HTTP basic auth with the double's account sid and auth token (else 401, code
20003). Every request is recorded in `.requests`; successful creates also in `.messages`, or in
`.calls` (with the CallSid given, in `.call_sids`).

    with TwilioDouble() as double:                       # or double.start() ... double.stop()
        client = sdk_client(double, double.account_sid, double.auth_token, timeout=1)
        double.queue(429, code=20429)                    # next create answers 429 ...
        double.queue("hang")                             # ... the one after never answers
        double.add_recording("RE" + "0" * 32, b"ID3...")
        # app config: TWILIO_API_BASE_URL = double.base_url

Scripted answers are used in order, one per request on their route ("messages", "calls" or "recordings"),
before the default answer; with times=None an answer is used for every request from then on.
"""
import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "test-auth-token"
_GSM = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_ROUTE = re.compile(r"^/2010-04-01/Accounts/(?P<ac>[^/]+)/(?:(?P<msg>Messages\.json)|"
                    r"(?P<calls>Calls\.json)|Recordings/(?P<re>[^/.]+)\.(?P<ext>mp3|wav|json))$")
_MESSAGES = {21602: "Message body is required.", 21603: "A 'From' phone number is required.",
             21604: "A 'To' phone number is required.", 20003: "Authenticate",
             20404: "The requested resource was not found", 20429: "Too Many Requests",
             21610: "Attempt to send to unsubscribed recipient", 20500: "Internal Server Error",
             21205: "Url parameter is required.", 21213: "No 'From' number is specified"}


def sdk_client(double, account_sid, auth_token, timeout=5):
    """A real twilio.rest.Client whose requests go to `double` (the app's own factory is used)."""
    from ivr.twilio_client import client_for
    return client_for(double.base_url, account_sid, auth_token, timeout)


def twilio_error(status, code=None, message=None):
    code = code or {401: 20003, 404: 20404, 429: 20429}.get(status, status * 100 if status >= 500 else 21000)
    return {"code": code, "message": message or _MESSAGES.get(code, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def num_segments(body):
    single, multi = (160, 153) if set(body) <= _GSM else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // multi)


@dataclass
class RecordedRequest:
    method: str
    path: str
    form: dict          # one value -> str; a repeated param -> list of str
    headers: Any        # http.client.HTTPMessage: case-insensitive .get()/[]
    auth: tuple | None  # (user, password) from basic auth, or None
    query: dict = field(default_factory=dict)
    # When the whole request had arrived (time.monotonic, which tests' pretend times leave alone).
    received_at: float = field(default_factory=time.monotonic)



class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 refuses connections when several clock senders and
    # benchmark clients connect at once; Twilio itself never does.
    request_queue_size = 128

class TwilioDouble:
    def __init__(self, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, hang_seconds=30.0):
        self.account_sid, self.auth_token, self.hang_seconds = account_sid, auth_token, hang_seconds
        self.requests: list[RecordedRequest] = []
        self.messages: list[RecordedRequest] = []     # creates answered 201
        self.calls: list[RecordedRequest] = []        # calls placed (answered 201)
        self.call_sids: list[str] = []                # the CallSid given to each
        self.deleted_recordings: list[str] = []
        self.recordings: dict[str, bytes] = {}
        self.recording_types: dict[str, str | None] = {}
        self._scripts = {"messages": [], "calls": [], "recordings": []}
        self._lock, self._stopping, self._server = threading.Lock(), threading.Event(), None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self):
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"double": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._server.daemon_threads, self._server.block_on_close = True, False
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._stopping.set()          # wakes hanging handlers; they are daemons, never joined
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    __enter__ = start

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- scripting ---------------------------------------------------------------------------
    def queue(self, status, code=None, body=None, times=1, route="messages"):
        """Script the next answer(s) on `route`: an HTTP status (Twilio error body unless `body`
        is given; 2xx without body -> the normal answer with that status) or "hang"."""
        with self._lock:
            self._scripts[route].append([status, code, body, times])

    def respond_with(self, status, body_dict=None, times=1, route="messages"):
        self.queue(status, body=body_dict, times=times, route=route)

    def add_recording(self, sid, data=b"ID3\x03\x00fake-mp3", content_type=None):
        """A recording to serve; `content_type` overrides the type Twilio gives its .mp3 and .wav."""
        with self._lock:
            self.recordings[sid] = data
            self.recording_types[sid] = content_type

    def _next_script(self, route):
        with self._lock:
            scripts = self._scripts[route]
            if not scripts:
                return None
            script = scripts[0]
            if script[3] is not None:
                script[3] -= 1
                if script[3] <= 0:
                    scripts.pop(0)
            return script[:3]

    def _record(self, req, as_message=False):
        with self._lock:
            (self.messages if as_message else self.requests).append(req)

    def answer_call(self, transport, index=-1, public_url="", **walker_options):
        """Answer a call the app placed, as the phone it rang: a started ivr.walker.Call playing the
        TwiML its Url gives (the path is posted through `transport`, so requests are signed for it)."""
        from ivr.walker import Call

        placed, sid = self.calls[index], self.call_sids[index]
        url = placed.form["Url"].removeprefix(public_url)
        return Call(transport, placed.form["From"], placed.form["To"], call_sid=sid, account_sid=self.account_sid,
                    start_url=url, direction="outbound-api", **walker_options).start()

    def call_json(self, form, sid, status="queued"):
        now = formatdate(usegmt=True)
        return {"account_sid": self.account_sid, "api_version": "2010-04-01", "sid": sid, "status": status,
                "to": form.get("To"), "from": form.get("From"), "direction": "outbound-api",
                "date_created": now, "date_updated": now, "start_time": None, "end_time": None,
                "duration": None, "price": None, "price_unit": "GBP", "parent_call_sid": None,
                "answered_by": None, "caller_name": None, "forwarded_from": None, "group_sid": None,
                "phone_number_sid": None, "queue_time": "0", "trunk_sid": None, "annotation": None,
                "subresource_uris": {}, "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json"}

    def message_json(self, form, status="queued"):
        sid, now = "SM" + secrets.token_hex(16), formatdate(usegmt=True)
        body, ac = form.get("Body", ""), self.account_sid
        return {"account_sid": ac, "api_version": "2010-04-01", "body": body,
                "date_created": now, "date_updated": now, "date_sent": None,
                "direction": "outbound-api", "error_code": None, "error_message": None,
                "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
                "num_media": "0", "num_segments": str(num_segments(body)), "price": None,
                "price_unit": "GBP", "sid": sid, "status": status, "to": form.get("To"),
                "subresource_uris": {"media": f"/2010-04-01/Accounts/{ac}/Messages/{sid}/Media.json"},
                "uri": f"/2010-04-01/Accounts/{ac}/Messages/{sid}.json"}


class _Handler(BaseHTTPRequestHandler):
    double: TwilioDouble
    # Keep-alive, as Twilio's API: a client reuses its connection rather than opening one a request.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go as separate writes: no 40 ms delayed-ACK stall

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_DELETE = do_GET

    def _send(self, status, body=None, content_type="application/json", extra_headers=()):
        data = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        self.send_response(status)
        for name, value in extra_headers:
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 204:
            self.wfile.write(data)

    def _handle(self):
        d, url = self.double, urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw, keep_blank_values=True).items()}
        auth = None
        if (self.headers.get("Authorization") or "").startswith("Basic "):
            user, _, pw = base64.b64decode(self.headers["Authorization"][6:]).decode().partition(":")
            auth = (user, pw)
        req = RecordedRequest(self.command, url.path, form, self.headers, auth, parse_qs(url.query))
        d._record(req)

        if auth != (d.account_sid, d.auth_token):
            return self._send(401, twilio_error(401), extra_headers=[("WWW-Authenticate", 'Basic realm="Twilio API"')])
        m = _ROUTE.match(url.path)
        if not m or m["ac"] != d.account_sid or ((m["msg"] or m["calls"]) and self.command != "POST") or \
                (m["re"] and (self.command, m["ext"] == "json") not in {("GET", False), ("DELETE", True)}):
            return self._send(404, twilio_error(404))

        script = d._next_script("messages" if m["msg"] else "calls" if m["calls"] else "recordings")
        if script and script[0] == "hang":
            d._stopping.wait(d.hang_seconds)
            self.close_connection = True  # close without answering
            return
        if script and not (200 <= script[0] < 300 and script[2] is None):
            status, code, body = script
            return self._send(status, body if body is not None else twilio_error(status, code))
        ok_status = script[0] if script else None

        if m["msg"]:
            for key, code in (("To", 21604), ("Body", 21602)):
                if not form.get(key):
                    return self._send(400, twilio_error(400, code))
            if not (form.get("From") or form.get("MessagingServiceSid")):
                return self._send(400, twilio_error(400, 21603))
            d._record(req, as_message=True)
            status = "queued" if form.get("From") else "accepted"
            return self._send(ok_status or 201, d.message_json(form, status))
        if m["calls"]:
            for key, code in (("To", 21604), ("From", 21213), ("Url", 21205)):
                if not form.get(key):
                    return self._send(400, twilio_error(400, code))
            sid = "CA" + secrets.token_hex(16)
            with d._lock:
                d.calls.append(req)
                d.call_sids.append(sid)
            return self._send(ok_status or 201, d.call_json(form, sid))
        if self.command == "DELETE":
            with d._lock:
                found = d.recordings.pop(m["re"], None) is not None
                if found:
                    d.deleted_recordings.append(m["re"])
            return self._send(ok_status or 204) if found else self._send(404, twilio_error(404))
        data = d.recordings.get(m["re"])
        if data is None:
            return self._send(404, twilio_error(404))
        content_type = d.recording_types.get(m["re"]) or ("audio/mpeg" if m["ext"] == "mp3" else "audio/x-wav")
        return self._send(ok_status or 200, data, content_type)
