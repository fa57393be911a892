"""The machine's ceiling: a bare Flask endpoint answering a fixed TwiML document."""

from flask import Flask

app = Flask(__name__)


@app.post("/")
def answer():
    return '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>', 200, {"Content-Type": "text/xml"}
