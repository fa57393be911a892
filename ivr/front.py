"""GET /: a short page that points whoever opens the service's address to the staff sign-in.

Discreet, as the texts are: the address is public (Twilio calls it), so the page names nothing
about who the service is for, and holds nothing but the way in.
"""

from flask import Blueprint, render_template

bp = Blueprint("front", __name__)


@bp.get("/")
def front_page():
    return render_template("front.html")
