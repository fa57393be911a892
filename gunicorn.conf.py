"""gunicorn's settings for the Procfile's `web` process (gunicorn reads this file from the directory
it starts in; the Procfile's command line gives the address and the number of workers).

Sync workers, one request at a time each: a caller's step is a few milliseconds of CPU, and a
process of its own runs it with no other request's Python in the way. A database that stalls holds
a request for at most 1.2 s (ivr.db.engine.WEB) before the caller hears the apology, so the Procfile
runs more workers (3) than the requests a stall holds at once at this service's volume (a few calls
a minute): the Fallback URL, the health check and other callers find a free worker. Were all of
them held, a request would wait at most 1.2 s for one to come free. (Threads were tried: a thread back from the database
waits for the interpreter lock while another runs, which tripled p99 at 200 requests a second and
lost the 500 a second burst on PostgreSQL.) Put the workers behind a proxy that buffers (nginx),
which is how gunicorn is meant to meet the internet.
"""

import gc

wsgi_app = "ivr:create_app()"
worker_class = "sync"
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(M)sms'


def post_worker_init(worker) -> None:
    # The app's modules and objects, loaded once, live as long as the worker: leaving them out of
    # garbage collection spares every full collection (about 100 ms each, every few thousand
    # requests, stalling whichever callers are waiting) from walking them again.
    gc.freeze()
