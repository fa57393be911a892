"""gunicorn's settings for the Procfile's `web` process (gunicorn reads this file from the directory
it starts in; the Procfile's command line gives the address and the number of workers).

Sync workers, one request at a time each: a caller's step is a few milliseconds of CPU. Put them
behind a proxy that buffers (nginx), which is how gunicorn is meant to meet the internet.
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
