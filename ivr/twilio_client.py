"""A twilio REST Client that sends its requests to TWILIO_API_BASE_URL (Twilio itself, or a test double)."""
from urllib.parse import urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

TWILIO_API = "https://api.twilio.com"


class _RebasedHttpClient(TwilioHttpClient):
    """Swaps the scheme and host of every URL the SDK builds (api.twilio.com, or an edge/region
    variant of it) for those of base_url; the path (/2010-04-01/Accounts/...) is kept."""

    def __init__(self, base_url, timeout):
        super().__init__(timeout=timeout)
        self.base = urlsplit(base_url.rstrip("/"))

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = parts._replace(scheme=self.base.scheme, netloc=self.base.netloc,
                             path=self.base.path + parts.path).geturl()
        return super().request(method, url, *args, **kwargs)


def client_for(base_url, sid, token, timeout) -> Client:
    base_url = (base_url or TWILIO_API).rstrip("/")
    http = TwilioHttpClient(timeout=timeout) if base_url == TWILIO_API else _RebasedHttpClient(base_url, timeout)
    return Client(sid, token, http_client=http)
