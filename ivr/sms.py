"""Twilio messaging webhooks: replies to reminder texts and delivery statuses."""

from flask import Blueprint

bp = Blueprint("sms", __name__, url_prefix="/sms", cli_group=None)
