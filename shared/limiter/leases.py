"""One holder at a time per key, across processes and hosts: a Redis key set only if absent, with a
lifetime, deleted only by its holder; or one of a few such keys. The Bitrix24 worker keeps one sender
per portal and owner with it, and at most a few senders per portal (worker/tasks/conferences.py), so that a
burst of one owner's conferences fills batches, and a burst of many owners' holds a few worker threads,
not all of them, while other portals wait (issue 18).

Without Redis every caller holds the lease: the work goes on unshared, as it did before leases.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import redis

log = logging.getLogger(__name__)

# KEYS[1]: the lease; ARGV[1]: the holder's token. Deletes the lease only if this holder still has it.
RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"


class Leases:
    def __init__(self, client: redis.Redis, prefix: str, seconds: float) -> None:
        """seconds: how long a holder that died keeps others out; a live holder renews it as it works."""
        self.client, self.prefix, self.ms = client, prefix, int(seconds * 1000)
        self.release_script = client.register_script(RELEASE)
        self.renew_script = client.register_script(RENEW)

    @contextmanager
    def held(self, key: str, holders: int = 1) -> Iterator[Lease | None]:
        """A lease if this caller got one of the `holders` under `key` (released on leaving), None if others
        hold them all."""
        token = secrets.token_hex(8)
        for slot in range(holders):
            lease = Lease(self, self.prefix + (key if holders == 1 else f"{key}#{slot}"), token)
            try:
                got = bool(self.client.set(lease.key, token, nx=True, px=self.ms))
            except redis.RedisError as exc:
                log.warning("leases unavailable (%s); working without one", exc)
                yield lease
                return
            if got:
                break
        else:
            yield None
            return
        try:
            yield lease
        finally:
            try:
                self.release_script(keys=[lease.key], args=[lease.token])
            except redis.RedisError:
                pass  # it lapses on its own


class Lease:
    def __init__(self, leases: Leases, key: str, token: str) -> None:
        self.leases, self.key, self.token = leases, key, token

    def renew(self) -> None:
        try:
            self.leases.renew_script(keys=[self.key], args=[self.token, self.leases.ms])
        except redis.RedisError:
            pass
