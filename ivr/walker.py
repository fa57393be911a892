"""Play a phone call against the app the way Twilio does: the terminal phone and scenario tests.

The walker posts Twilio's webhook parameters, reads the TwiML that comes back and carries out its
verbs in order, stopping at each <Gather> or <Record> until the caller acts. It knows nothing of
Flask: it is given a transport, a function that POSTs form parameters and returns the body.

Twilio's rules it follows: action URLs resolve against the current document's URL, and a Gather or
Record without one posts back to that document; a Gather that hears nothing moves on to the next
verb, as do a silent Record and a Dial without an action; when a document runs out of verbs Twilio
hangs up. A withheld number arrives as From="anonymous". Only POST is played (method="GET" is an
error), and no status callback is posted when the call ends.

A call the app places (`direction="outbound-api"`) is played the same way from the TwiML its url
gives. A <Dial> whose <Number> has a `url` plays the called party's end too, as Twilio does
before connecting them: `callee` is handed that leg (a Call not yet started) and acts for the
person answering; when its TwiML runs out the two are connected, and a <Hangup> there ends it
without connecting. Its lines join the transcript after LEG.
"""

from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import urljoin

Params = dict[str, str]
Transport = Callable[[str, Params], str]
DialOutcome = Callable[[list[str]], str]
Request = tuple[str, Params]

WITHHELD = "anonymous"
DIAL_STATUSES = ("completed", "no-answer", "busy", "failed", "canceled")
DTMF_KEYS = "0123456789*#"
CALLER = "caller: "
LEG = "» "  # a line of the called party's end of a <Dial>
API_VERSION = "2010-04-01"


class WalkerError(Exception):
    """The call cannot go on the way Twilio would play it."""


class TwiMLError(WalkerError):
    """The app answered with something that is not TwiML."""


def parse_twiml(body: str, url: str) -> list[ET.Element]:
    """The verbs of a TwiML <Response>, or TwiMLError showing what came back instead."""
    try:
        root: ET.Element | None = ET.fromstring(body)
    except ET.ParseError:
        root = None
    if root is None or root.tag != "Response":
        raise TwiMLError(f"{url} did not answer with TwiML: {body[:200]!r}")
    return list(root)


def _sid(prefix: str) -> str:
    """A made-up Twilio identifier: the prefix and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def _text(element: ET.Element) -> str:
    """The words inside an element (SSML tags and all), whitespace tidied."""
    return " ".join("".join(element.itertext()).split())


class Call:
    """One inbound call, played a caller's action at a time."""

    def __init__(
        self,
        transport: Transport,
        from_number: str | None = "+447911123456",
        to_number: str = "+441632960000",
        *,
        call_sid: str | None = None,
        account_sid: str | None = None,
        start_url: str = "/voice/incoming",
        dial_outcome: str | DialOutcome = "completed",
        max_requests: int = 200,
        direction: str = "inbound",
        callee: Callable[[Call], None] | None = None,
    ) -> None:
        caller = from_number or WITHHELD
        self.transport, self.start_url, self.url = transport, start_url, start_url
        self.call_sid, self.account_sid = call_sid or _sid("CA"), account_sid or _sid("AC")
        self.base_params: Params = {
            "CallSid": self.call_sid, "AccountSid": self.account_sid, "From": caller, "Caller": caller,
            "To": to_number, "Called": to_number, "CallStatus": "in-progress",
            "Direction": direction, "ApiVersion": API_VERSION,
        }
        self.callee = callee
        self.legs: list[Call] = []  # the called parties' ends of its <Dial>s
        self.how_ended: str | None = None  # "hangup" (a <Hangup>), "caller", or "end" (the TwiML ran out)
        self.dial_outcome, self.max_requests, self.requests = dial_outcome, max_requests, 0
        self.transcript: list[str] = []  # what was said, "caller: " lines for what the caller did
        self.dialled: list[str] = []
        self.recorded: list[Params] = []  # the Recording* parameters posted for each message
        self.ended = False
        self.waiting: ET.Element | None = None  # the Gather or Record waiting for the caller
        self._rest: list[ET.Element] = []  # the verbs after it, played if it hears nothing
        self._heard: list[str] = []

    @property
    def heard(self) -> str:
        """Everything said to the caller since they last acted."""
        return " ".join(self._heard)

    def start(self) -> Call:
        """Ring the helpline and listen until the caller must act or the call ends."""
        if self.requests:
            raise WalkerError("this call has already started")
        # As Twilio's first request: an inbound call is still ringing, a placed one has been answered.
        first = "ringing" if self.base_params["Direction"] == "inbound" else "in-progress"
        return self._carry_on((self.start_url, {"CallStatus": first}))

    def press(self, keys: str) -> Call:
        """Press keys at a Gather, e.g. "1" or "07700900123#"."""
        if not keys or any(key not in DTMF_KEYS for key in keys):
            raise ValueError(f"not keypad keys: {keys!r}")
        return self._carry_on(self._gathered(self._take("Gather", f"presses {keys}"), digits=keys))

    def say_words(self, words: str, confidence: float = 0.9) -> Call:
        """Speak at a Gather; it is posted as SpeechResult if the Gather listens for speech."""
        gather = self._take("Gather", f"says {words!r}")
        speech = {"SpeechResult": words, "Confidence": f"{confidence:.2f}"}
        return self._carry_on(self._gathered(gather, speech=speech))

    def silence(self) -> Call:
        """Do nothing at a Gather or Record: the document goes on with the next verb."""
        verb = self._take(self.waiting.tag if self.waiting is not None else "Gather", "(silence)")
        return self._carry_on(self._gathered(verb) if verb.tag == "Gather" else self._run(self._rest))

    def record(self, seconds: int = 10, ended_by: str = "#") -> Call:
        """Leave a message at a Record, ended by a key or by "hangup"; it is posted to the action."""
        if seconds <= 0:
            return self.silence()  # Twilio skips the action for an empty recording
        hangs_up = ended_by == "hangup"
        then = "hangs up" if hangs_up else f"presses {ended_by}"
        record = self._take("Record", f"speaks for {seconds}s, then {then}")
        finish_keys = record.get("finishOnKey", "1234567890*#")
        if not hangs_up and ended_by not in finish_keys:
            raise WalkerError(f"{ended_by!r} does not end this recording (finishOnKey={finish_keys!r})")
        max_length, sid = int(record.get("maxLength", "3600")) or 3600, _sid("RE")
        params = {
            "RecordingSid": sid,
            "RecordingUrl": f"https://api.twilio.com/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}",
            "RecordingDuration": str(min(seconds, max_length)),
        }
        if seconds <= max_length:  # else maxLength ended it, not a key
            params["Digits"] = ended_by
        self.recorded.append(params)
        if not hangs_up:
            return self._carry_on((self._action(record), params))
        self._fetch(self._action(record), params | {"CallStatus": "completed"})  # Twilio ignores the reply
        self._end("(call ended)", "caller")
        return self

    def hang_up(self) -> Call:
        """Put the phone down; an unfinished Gather or an empty Record posts nothing."""
        if not self.ended:
            self.transcript.append(CALLER + "hangs up")
            self._end("(call ended)", "caller")
        return self

    def _take(self, tag: str, what: str) -> ET.Element:
        """The `tag` verb the call was waiting at, now that the caller did `what`."""
        verb = self.waiting
        if verb is None:
            raise WalkerError("the call has ended" if self.ended else "the call has not started")
        if verb.tag != tag:
            raise WalkerError(f"the call is waiting at <{verb.tag}>, not <{tag}>")
        self.waiting = None
        self._heard.clear()
        self.transcript.append(CALLER + what)
        return verb

    def _gathered(self, gather: ET.Element, digits: str = "", speech: Params | None = None) -> Request | None:
        """The request a finished Gather makes, or, if it heard nothing, wherever the document goes next."""
        modes = gather.get("input", "dtmf").split()
        finish_key, num_digits = gather.get("finishOnKey", "#"), int(gather.get("numDigits", "0"))
        params: Params = {}
        if digits and "dtmf" in modes:
            collected = ""
            for key in digits:
                if finish_key and key in finish_key:
                    break
                collected += key
                if len(collected) == num_digits:
                    break
            params = {"Digits": collected} if collected else {}
        elif speech and "speech" in modes:
            params = speech
        elif speech or digits:
            self.transcript.append(f"(not listening for {'speech' if speech else 'keys'} here)")
        if params or gather.get("actionOnEmptyResult") == "true":
            return self._action(gather), params
        return self._run(self._rest)

    def _carry_on(self, request: Request | None) -> Call:
        """Make requests and play their TwiML until the caller must act or the call ends."""
        while request is not None:
            request = self._run(self._fetch(*request))
        return self

    def _fetch(self, url: str, params: Params) -> list[ET.Element]:
        """POST to url with Twilio's parameters; the verbs that come back."""
        if self.requests >= self.max_requests:
            tail = "\n".join(self.transcript[-12:])
            raise WalkerError(f"{self.max_requests} requests in one call; is the app looping?\n{tail}")
        self.requests += 1
        self.url = urljoin(self.url, url)  # relative to the current document, as Twilio resolves it
        return parse_twiml(self.transport(self.url, self.base_params | params), self.url)

    def _run(self, verbs: list[ET.Element]) -> Request | None:
        """Play verbs in order; the next request to make, or None when waiting or ended."""
        while verbs:
            verb = verbs.pop(0)
            if verb.tag in ("Say", "Play", "Pause"):
                self._play(verb)
            elif verb.tag in ("Gather", "Record"):
                for inner in verb:
                    self._play(inner)
                if verb.tag == "Record" and verb.get("playBeep", "true") == "true":
                    self.transcript.append("(beep)")
                self.waiting, self._rest = verb, verbs
                return None
            elif verb.tag == "Redirect":
                return self._action(verb, _text(verb)), {}
            elif verb.tag == "Dial":
                if (request := self._dial(verb)) is not None:
                    return request
            elif verb.tag in ("Hangup", "Reject"):
                self._end("(the line hangs up)" if verb.tag == "Hangup" else "(call rejected)", "hangup")
                return None
            else:
                raise WalkerError(f"{self.url} uses <{verb.tag}>, which the walker does not play")
        self._end("(call ended)", "end")
        return None

    def _play(self, verb: ET.Element) -> None:
        """Say a Say's words; note a Play or Pause."""
        if verb.tag == "Say":
            self._heard.append(_text(verb))
            self.transcript.append(f"VCAS: {_text(verb)}")
        elif verb.tag == "Play":
            self.transcript.append(f"(plays {_text(verb)})")
        elif verb.tag == "Pause":
            self.transcript.append(f"(pause {verb.get('length', '1')}s)")
        else:
            raise WalkerError(f"{self.url} nests <{verb.tag}> where only Say, Play and Pause may go")

    def _dial(self, dial: ET.Element) -> Request | None:
        """Put the call through and ask dial_outcome how it went; the request to the action, if any."""
        numbers = [_text(noun) for noun in dial] or [_text(dial)]
        self.dialled.extend(numbers)
        self.transcript.append(f"(dialling {', '.join(numbers)}, ringing up to {dial.get('timeout', '30')}s)")
        status = self.dial_outcome(numbers) if callable(self.dial_outcome) else self.dial_outcome
        if status not in DIAL_STATUSES:
            raise ValueError(f"a dial outcome is one of {DIAL_STATUSES}, not {status!r}")
        self.transcript.append(f"({status})")
        noun = next((n for n in dial if n.tag == "Number" and n.get("url")), None)
        if status == "completed" and noun is not None:
            self._play_callee(dial, noun)
        if dial.get("action") is None:
            return None
        params = {"DialCallStatus": status, "DialCallDuration": "60" if status == "completed" else "0"}
        if status == "completed":
            params["DialCallSid"] = _sid("CA")
        return self._action(dial), params

    def _play_callee(self, dial: ET.Element, number: ET.Element) -> None:
        """The called party answered: play their end from the <Number>'s url, then connect or not."""
        if self.callee is None:
            raise WalkerError(f"{self.url} plays TwiML to the person it dials: give the call a callee")
        if number.get("method", "POST").upper() != "POST":
            raise WalkerError(f"<Number> at {self.url} asks for {number.get('method')}; only POST is played")
        leg = Call(self.transport, dial.get("callerId") or self.base_params["To"], _text(number),
                   start_url=urljoin(self.url, number.get("url")), direction="outbound-dial",
                   max_requests=self.max_requests)
        leg.base_params["ParentCallSid"] = self.call_sid
        if number.get("machineDetection"):
            leg.base_params["AnsweredBy"] = "human"  # the callee may say otherwise before starting the leg
        self.callee(leg)
        leg.hang_up()  # if the callee left it waiting
        self.legs.append(leg)
        self.transcript.extend(LEG + line for line in leg.transcript)
        self.transcript.append("(connected: they talk)" if leg.how_ended == "end" else "(not connected)")

    def _action(self, verb: ET.Element, url: str | None = None) -> str:
        """Where a verb sends the call next: its action, else ("") the current document."""
        if verb.get("method", "POST").upper() != "POST":
            raise WalkerError(f"<{verb.tag}> at {self.url} asks for {verb.get('method')}; only POST is played")
        return verb.get("action", "") if url is None else url

    def _end(self, how: str, reason: str) -> None:
        """End the call, noting how."""
        self.ended, self.waiting, self.how_ended = True, None, reason
        self.transcript.append(how)


class NotAnAnswer(WalkerError):
    """What the caller typed is not something they can do at this point of the call."""


def act(call: Call, entry: str) -> Call:
    """Do what the caller typed, the same way at the keyboard and in a script: "" or "-" is silence,
    "q" or "hangup" puts the phone down; at a Gather, keys are pressed ("4", "07911 123456#": spaces
    ignored) and anything else is spoken; at a Record, "30" speaks for 30 s then presses #, "30h"
    speaks for 30 s then hangs up, and "0" says nothing."""
    entry = " ".join(entry.split())
    keys = entry.replace(" ", "")
    if entry.lower() in ("q", "hangup", "hang up"):
        return call.hang_up()
    if entry in ("", "-"):
        return call.silence()
    if call.waiting is not None and call.waiting.tag == "Record":
        length = re.fullmatch(r"([0-9]{1,4}) ?s? ?(h|hangup|hang up)?", entry.lower())
        if length is None:
            raise NotAnAnswer(f"{entry!r} at a recording: give its length in seconds, e.g. 30 (then #) "
                              "or 30h (then hang up)")
        return call.record(int(length[1]), "hangup" if length[2] else "#")
    if all(key in DTMF_KEYS for key in keys):
        return call.press(keys)
    return call.say_words(entry)


def interactive_callee(input_fn: Callable[[str], str] = input, print_fn: Callable[[str], None] = print,
                       before: Callable[[], None] = lambda: None) -> Callable[[Call], None]:
    """A callee played in the terminal: the person a <Dial> reaches, or their answering machine."""

    def callee(leg: Call) -> None:
        before()
        print_fn(f"  ({leg.base_params['To']} answers: you are now the person called)")
        if "AnsweredBy" in leg.base_params:
            who = {"": "human", "person": "human", "machine": "machine_end_beep"}
            while (reply := input_fn("  who answers, a person or an answering machine? (person/machine) "
                                     "[person]: ").strip().lower()) not in who:
                print_fn("  please answer one of: person, machine")
            leg.base_params["AnsweredBy"] = who[reply]
        play_interactive(leg, lambda prompt: input_fn(f"  {LEG}{prompt.lstrip()}"),
                         lambda line: print_fn(f"  {LEG}{line.lstrip()}"))
        print_fn("  (back to the caller)")

    return callee


def play_interactive(
    call: Call, input_fn: Callable[[str], str] = input, print_fn: Callable[[str], None] = print
) -> None:
    """Play a call in the terminal: print what the line says, read the caller's keys or words (and
    those of the person a <Dial> reaches, when the app speaks to them before connecting)."""
    shown = 0

    def show() -> None:
        nonlocal shown
        for line in call.transcript[shown:]:
            if not line.startswith((CALLER, LEG)):  # the callee's lines were shown as they came
                print_fn(f"  {line}")
        shown = len(call.transcript)

    def ask(prompt: str, choices: dict[str, str]) -> str:
        while (reply := input_fn(prompt).strip().lower()) not in choices:
            print_fn(f"  please answer one of: {', '.join(filter(None, choices))}")
        return choices[reply]

    def dial_outcome(numbers: list[str]) -> str:
        show()
        outcomes = {"": "completed", "answered": "completed"} | {s: s for s in ("no-answer", "busy", "failed")}
        return ask("  does the line answer? (answered/no-answer/busy/failed) [answered]: ", outcomes)

    call.dial_outcome = dial_outcome
    if call.callee is None:
        call.callee = interactive_callee(input_fn, print_fn, before=show)
    try:
        call.start()
        while call.waiting is not None:
            show()
            prompt = ("  seconds of message, e.g. 30 (then #) or 30h (then hang up); 0 = say nothing, q = hang up: "
                      if call.waiting.tag == "Record" else "  your keys (or words, empty = silence, q = hang up): ")
            try:
                act(call, input_fn(prompt))
            except NotAnAnswer as problem:
                print_fn(f"  {problem}")
    except EOFError:  # Ctrl-D puts the phone down
        call.hang_up()
    show()
