"""Twilio voice webhooks: the call as the caller hears it (DESIGN.md)."""

from flask import Blueprint

bp = Blueprint("voice", __name__, url_prefix="/voice", cli_group=None)
