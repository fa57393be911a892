"""gunicorn's settings for the Procfile's `web` process (gunicorn reads this file from the directory
it starts in; the Procfile's command line gives the address and the number of workers).

Each worker answers with a few threads. A caller's step is a few milliseconds of CPU, but a
database that stalls holds a request for up to 1.2 s (ivr.db.engine.WEB) before the caller hears
the apology; meanwhile the worker's other threads answer the Fallback URL, the health check and
other callers, since a thread waiting on the database holds no CPU. A worker takes no more
connections than it has threads, so a request never queues behind stuck ones in a busy worker
while another worker has a thread free. Put the workers behind a proxy that buffers (nginx),
which is how gunicorn is meant to meet the internet.
"""

import gc

wsgi_app = "ivr:create_app()"
worker_class = "gthread"
threads = 4
worker_connections = threads  # a worker whose threads are all busy leaves new connections to the others
keepalive = 0  # every connection is one request, as Twilio makes them; no idle connection holds a thread's place
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(M)sms'


def post_worker_init(worker) -> None:
    # The app's modules and objects, loaded once, live as long as the worker: leaving them out of
    # garbage collection spares every full collection (about 100 ms each, every few thousand
    # requests, stalling whichever callers are waiting) from walking them again.
    gc.freeze()
