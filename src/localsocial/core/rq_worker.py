"""The RQ worker that `localsocial rqworker` runs (settings.RQ["WORKER_CLASS"]).

RQ's worker listens for commands on a pub/sub channel in a thread that waits up to 60 seconds
for a message.  On the way out it unsubscribes (Redis's reply wakes the thread) and then asks
the thread to stop, which redis-py 8 does by waiting for it.  When the thread reads the reply
before it is asked to stop, it goes back to waiting for another minute, and so does the
worker: `rqworker --burst` could take 60 seconds longer than its jobs, and a worker told to
stop during a deploy a minute more than it needs.  This worker asks the thread to stop first,
so Redis's reply to the unsubscribe is what ends it, every time.  (If the thread wakes for
another message in between, it closes the connection itself, and the unsubscribe has nothing
left to do: with the hiredis parser this happened once in a full test run.)
"""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Worker as RQWorker

# How long to wait for the listening thread once it has been woken; it exits at once, so this
# only bounds a Redis that does not answer (the thread is a daemon and dies with the process).
LISTENER_STOP_SECONDS = 5


class Worker(RQWorker):
    def unsubscribe(self) -> None:
        """Stop listening for commands, without waiting out the listener's 60-second poll."""
        thread = self.pubsub_thread
        if thread is None or self.pubsub is None:
            return
        self.log.info("Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name)
        thread.stop(timeout=0)  # clears its running flag; it ends when its wait returns...
        try:
            self.pubsub.unsubscribe()  # ...which Redis's reply to this makes happen now
        except (RedisConnectionError, OSError):
            # The thread woke for another message first and, seeing the flag, closed the
            # connection: a closed connection holds no subscription, so nothing is left to do.
            self.log.debug("Worker %s: the listener had already closed its connection", self.name)
        thread.join(timeout=LISTENER_STOP_SECONDS)
        self.pubsub.close()
