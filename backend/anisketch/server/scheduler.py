"""Which queued request runs next: newest guide wins, clients take turns, renders wait their turn.

Pure bookkeeping, no sockets and no threads, so every rule is testable on its own. The server owns one
Scheduler per process; jobs leave it either to run (`next_batch`) or with a status reply (what `submit`,
`cancel` and `drain` return).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from anisketch import protocol

# Ops of which only the newest queued one per client matters: each guide request carries the whole sketch.
SUPERSEDING_OPS = frozenset({"guide"})


@dataclass
class Job:
    client: bytes  # the ZeroMQ routing identity: who asked, and where the reply goes
    envelope: list  # the frames before the header, sent back in front of the reply
    request: protocol.Request
    frames: list = field(default_factory=list)  # keeps the received zmq frames (the images' memory) alive
    arrived: float = field(default_factory=time.monotonic)
    cancelled: bool = False

    @property
    def id(self) -> str:
        return self.request.id

    @property
    def op(self) -> str:
        return self.request.op


class Scheduler:
    def __init__(self, max_queued_per_client: int = 32):
        self.max_queued_per_client = max_queued_per_client
        self._queues: dict[bytes, deque[Job]] = {}  # client -> its queued jobs, oldest first
        # Fair turns: the client served longest ago goes next, so one that sends a request now and then (an
        # artist's guide) goes before another's backlog of renders. Kept for idle clients too (a client whose
        # requests arrive one by one must not look new each time), pruned when it grows large.
        self._last_turn: dict[bytes, int] = {}
        self._turns = 0
        self.running: dict[tuple[bytes, str], Job] = {}

    def __len__(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    def submit(self, job: Job) -> list[tuple[Job, str]]:
        """Queue a job. Returns the jobs that leave the queue because of it, with their status code:
        the client's older queued guides (superseded), or the new job itself when the client's queue is full."""
        queue = self._queues.setdefault(job.client, deque())
        leaving: list[tuple[Job, str]] = []
        if job.op in SUPERSEDING_OPS:
            leaving = [(old, protocol.SUPERSEDED) for old in queue if old.op == job.op]
            for old, _ in leaving:
                queue.remove(old)
        if len(queue) >= self.max_queued_per_client:
            return leaving + [(job, protocol.BUSY)]
        queue.append(job)
        return leaving

    def supersede_before(self, client: bytes, op: str, seq: int) -> list[Job]:
        """Drop the client's queued `op` jobs sent before `seq` (a newer one reached another worker). Jobs
        without a seq stay: without one, their order against another worker's jobs is unknown."""
        queue = self._queues.get(client, deque())
        old = [job for job in queue if job.op == op and job.request.seq is not None and job.request.seq < seq]
        for job in old:
            queue.remove(job)
        if client in self._queues and not queue:
            self._forget(client)
        return old

    def cancel(self, client: bytes, request_id: str) -> tuple[str, Job | None]:
        """Cancel one of the client's own jobs. Returns ("queued", job) for a job removed from the queue,
        ("running", job) for one that runs now (its result will be dropped), or ("unknown", None)."""
        for job in self._queues.get(client, ()):
            if job.id == request_id:
                self._queues[client].remove(job)
                if not self._queues[client]:
                    self._forget(client)
                return "queued", job
        running = self.running.get((client, request_id))
        if running is not None:
            running.cancelled = True
            return "running", running
        return "unknown", None

    def next_batch(self, batchable: frozenset[str] = frozenset(), max_batch: int = 1) -> list[Job]:
        """The next job in fair order, plus, when its op is batchable, the head jobs of the next clients with
        the same op (one per client, so batching never reorders a client's own requests)."""
        order = sorted(self._queues, key=lambda c: (self._last_turn.get(c, -1), self._queues[c][0].arrived))
        batch: list[Job] = []
        for client in order:
            if batch and (self._queues[client][0].op != batch[0].op or len(batch) >= max_batch):
                continue
            batch.append(self._take(client))
            if batch[0].op not in batchable or len(batch) >= max_batch:
                break
        for job in batch:
            self.running[(job.client, job.id)] = job
        return batch

    def _take(self, client: bytes) -> Job:
        queue = self._queues[client]
        job = queue.popleft()
        self._turns += 1
        self._last_turn[client] = self._turns
        if not queue:
            self._forget(client)
        return job

    def _forget(self, client: bytes) -> None:
        self._queues.pop(client, None)
        if len(self._last_turn) > 4096:  # clients come and go (each reconnect is a new identity)
            oldest = sorted(self._last_turn, key=self._last_turn.__getitem__)[:2048]
            for gone in oldest:
                if gone not in self._queues:
                    del self._last_turn[gone]

    def finished(self, job: Job) -> None:
        self.running.pop((job.client, job.id), None)

    def drain(self) -> list[Job]:
        """Empty the queue (at shutdown): the jobs that will never run."""
        jobs = [job for queue in self._queues.values() for job in queue]
        self._queues.clear()
        self._last_turn.clear()
        return jobs

    def queued_for(self, client: bytes) -> list[Any]:
        return list(self._queues.get(client, ()))
