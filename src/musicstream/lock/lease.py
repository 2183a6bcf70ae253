"""The holder's lease: renewed from a daemon thread while the run holds the lock."""

from __future__ import annotations

import logging
import threading

from musicstream.lock.record import LockInfo, Store, encode, ours

log = logging.getLogger(__package__)  # the lock's one logger, musicstream.lock


class Lease:
    """Renews the lock every third of its lease from a daemon thread, until :meth:`stop`.

    A renewal that finds the lock no longer ours only logs an error: a thread cannot stop the
    run safely in the middle of its writes, so the run carries on, unprotected.
    """

    def __init__(self, store: Store, me: LockInfo, version: str, lease_s: float) -> None:
        self.store, self.me, self.version, self.lease_s = store, me, version, lease_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lock-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.lease_s / 3):
            try:
                if not self._renew():
                    return
            except Exception:
                log.warning("could not renew the lake's lock; trying again", exc_info=True)

    def _renew(self) -> bool:
        new = self.store.swap(self.version, encode(self.me, self.lease_s))
        if new is None:
            new = ours(self.store, self.me)
        if new is None:
            log.error(
                "lost the lake's lock (taken over after this run's lease lapsed, or removed "
                "by `musicstream unlock`); this run carries on unprotected: a thread cannot "
                "stop it safely"
            )
            return False
        self.version = new
        return True
