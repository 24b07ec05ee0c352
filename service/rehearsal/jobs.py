"""Rehearsals started from the console: a background job per request, its progress in
Redis so that whichever process the console's next poll reaches can answer it.

The job drives the server through its own public URL, as the command line does, so it
rehearses the same path (and, on several workers, spreads over them). Progress is
written at most every `WRITE_EVERY_S` and kept for `KEEP_S` after the last write.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any, Literal

import msgspec

from service.rehearsal.api import RehearsalApi, RehearsalError
from service.rehearsal.report import RehearsalReport
from service.rehearsal.run import rehearse
from service.stores.redis_keys import rehearsal_job

log = logging.getLogger("silkvote.rehearsal")
KEEP_S = 3600
WRITE_EVERY_S = 0.5


class RehearsalJob(msgspec.Struct, kw_only=True):
    id: str
    contest: str
    state: Literal["running", "done", "failed"] = "running"
    phase: str = "set-up"
    done: int = 0
    total: int = 0
    error: str | None = None
    report: RehearsalReport | None = None


class RehearsalJobs:
    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, base_url: str, admin_token: str, contest: str, rate: float,
                    seconds: float) -> RehearsalJob:
        job = RehearsalJob(id="rh-" + secrets.token_hex(6), contest=contest)
        await self._save(job)
        task = asyncio.ensure_future(self._run(job, base_url, admin_token, rate, seconds))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return job

    async def get(self, job_id: str) -> RehearsalJob | None:
        raw = await self._redis.get(rehearsal_job(job_id))
        return None if raw is None else msgspec.json.decode(raw, type=RehearsalJob)

    async def _save(self, job: RehearsalJob) -> None:
        await self._redis.set(rehearsal_job(job.id), msgspec.json.encode(job), ex=KEEP_S)

    async def _run(self, job: RehearsalJob, base_url: str, token: str, rate: float,
                   seconds: float) -> None:
        api = RehearsalApi(base_url, token)
        last = 0.0
        pending: set[asyncio.Task[None]] = set()

        def progress(phase: str, done: int, total: int) -> None:
            nonlocal last
            job.phase, job.done, job.total = phase, done, total
            if time.monotonic() - last >= WRITE_EVERY_S:
                last = time.monotonic()
                write = asyncio.ensure_future(self._save(job))
                pending.add(write)
                write.add_done_callback(pending.discard)

        try:
            job.report = await rehearse(api, job.contest, rate, seconds, progress)
            job.state, job.phase = "done", "report"
        except (RehearsalError, OSError, ValueError) as exc:
            job.state, job.error = "failed", str(exc)
            log.warning("rehearsal %s of %s failed: %s", job.id, job.contest, exc)
        finally:
            await api.close()
            await asyncio.gather(*pending, return_exceptions=True)
            try:
                await self._save(job)
            except Exception as exc:  # Redis lost: the job's rehearsal contest still exists
                log.warning("rehearsal %s: could not store its outcome: %s", job.id, exc)
