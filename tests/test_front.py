"""GET /: whoever opens the service's address is pointed to the staff sign-in, and told nothing more."""

import re


def test_the_front_page_points_to_the_staff_sign_in(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r'<a class="button" href="/staff/sign-in">Sign in</a>', page)
    assert client.get("/staff/sign-in").status_code == 200  # where it points answers


def test_the_front_page_is_discreet_and_kept_from_other_sites(client):
    response = client.get("/")
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).lower()
    for revealing in ("victim", "crime", "offender", "justice", "police", "abuse"):
        assert revealing not in words
    assert response.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response.headers
