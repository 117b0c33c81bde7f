"""Bounded executors for blocking disk work, one per device, so a slow disk stalls only itself.

Services own one DeviceExecutors for their lifetime (create at start-up, close() at clean-up).
run() is the hot path of every storage node (2-3 hand-offs per object PUT), so it skips what
loop.run_in_executor costs: no concurrent.futures.Future (a Condition and its RLock per job), no
wrap_future chaining, no semaphore. A job is a tuple on a queue.SimpleQueue; the worker hands the
outcome back through a per-loop inbox, and when the loop already has a wake-up pending it only
appends to a deque and skips call_soon_threadsafe (a Handle and a self-pipe write each).
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import queue
import threading
import weakref
from typing import Any, Callable

# Outcome kinds an inbox delivers to the loop.
_RESULT, _ERROR, _CANCEL, _SKIPPED = 0, 1, 2, 3

# Pools whose workers must be told to stop at interpreter exit (like concurrent.futures does).
_live_queues: weakref.WeakSet = weakref.WeakSet()


class _Inbox:
    """Outcomes for one event loop; drained on that loop, filled from worker threads."""

    __slots__ = ("loop", "_done", "_pending", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._done: collections.deque = collections.deque()
        self._pending = False

    def deliver(self, pool: "_DevicePool | None", fut, kind: int, value) -> None:
        """Called from a worker thread (or close()): queue the outcome, wake the loop if needed."""
        self._done.append((pool, fut, kind, value))
        # Sequentially consistent under the GIL: an append made before _drain clears the flag is
        # seen by its loop; one made after finds the flag clear and schedules another drain.
        if not self._pending:
            self._pending = True
            try:
                self.loop.call_soon_threadsafe(self._drain)
            except RuntimeError:
                pass  # the loop is closed: nobody awaits these any more

    def _drain(self) -> None:
        self._pending = False
        done = self._done
        while done:
            pool, fut, kind, value = done.popleft()
            if pool is not None:
                pool.inflight -= 1
            if fut.done():
                continue  # the awaiting task was cancelled: its result is dropped
            try:
                if kind == _RESULT:
                    fut.set_result(value)
                elif kind == _ERROR:
                    fut.set_exception(value)
                elif kind == _CANCEL:
                    fut.cancel()
            except asyncio.InvalidStateError:
                pass  # done meanwhile: never let one outcome stop the others being delivered
            del fut, value


class _DevicePool(concurrent.futures.Executor):
    """The threads of one device. Also a concurrent.futures.Executor for loop.run_in_executor."""

    def __init__(self, bound: int, name: str):
        self.bound = bound
        self.name = name
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.inflight = 0  # jobs submitted by run() and not yet drained; touched on the loop only
        self.closed = False
        self._lock = threading.Lock()
        _live_queues.add(self.queue)
        # Dropped without close(): stop the workers (they hold the queue, not the pool).
        weakref.finalize(self, self.queue.put, None)

    def start_job(self, job: tuple) -> None:
        if self.closed:
            raise RuntimeError("cannot schedule new futures after shutdown")
        self.queue.put(job)
        self.inflight += 1
        # Lazily: a new thread only when every thread already has a job of its own.
        if self.inflight > len(self.threads) and len(self.threads) < self.bound:
            self._spawn()

    def _spawn(self) -> None:
        with self._lock:
            if self.closed or len(self.threads) >= self.bound:
                return
            thread = threading.Thread(target=_worker, args=(self.queue,),
                                      name=f"{self.name}_{len(self.threads)}",
                                      daemon=_DAEMON)
            thread.start()
            self.threads.append(thread)

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        """concurrent.futures.Executor.submit, for loop.run_in_executor and plain threads."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self.closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self.queue.put((None, fut, fn, args, kwargs, None))
        # Not counted in inflight (that is run()'s, on one loop): make sure someone will run it.
        if len(self.threads) < self.bound:
            self._spawn()
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self.closed = True
            if cancel_futures:
                while True:
                    try:
                        job = self.queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:
                        _cancel(job)
            self.queue.put(None)  # each worker passes it on to the next, then exits
        if wait:
            for thread in self.threads:
                if thread is not threading.current_thread():
                    thread.join()


def _cancel(job: tuple) -> None:
    inbox, fut = job[0], job[1]
    if inbox is None:
        fut.cancel()
    else:
        inbox.deliver(None, fut, _CANCEL, None)


def _worker(jobs: queue.SimpleQueue) -> None:
    get = jobs.get
    while True:
        job = get()
        if job is None:
            jobs.put(None)  # for the next worker of this pool
            return
        inbox, fut, fn, args, kwargs, pool = job
        del job
        if inbox is None:  # from submit(): a concurrent.futures.Future
            if fut.set_running_or_notify_cancel():
                try:
                    fut.set_result(fn(*args, **kwargs))
                except BaseException as exc:
                    fut.set_exception(exc)
        elif fut.cancelled():
            # Its awaiter is gone and it has not started: skip it, as run_in_executor does.
            # (Reading the state from this thread is a plain attribute read.)
            inbox.deliver(pool, fut, _SKIPPED, None)
        else:
            try:
                value = fn(*args, **kwargs)
                kind = _RESULT
            except StopIteration as exc:
                # A future cannot hold StopIteration (asyncio raises TypeError and the awaiter
                # would hang); the task machinery turns it into RuntimeError the same way.
                value = RuntimeError(f"{fn!r} raised StopIteration")
                value.__cause__ = exc
                kind = _ERROR
            except BaseException as exc:
                value = exc
                kind = _ERROR
            inbox.deliver(pool, fut, kind, value)
            # Drop the exception here: its traceback holds this frame (a reference cycle).
            del value
        del inbox, fut, fn, args, kwargs, pool


def _stop_all_at_exit() -> None:
    # Runs before the interpreter joins non-daemon threads; queued jobs still run first (FIFO).
    for jobs in list(_live_queues):
        jobs.put(None)


try:
    threading._register_atexit(_stop_all_at_exit)  # what concurrent.futures.thread does
    _DAEMON = False
except AttributeError:  # not CPython >= 3.9: fall back to daemon threads
    _DAEMON = True


class DeviceExecutors:
    def __init__(self, threads_per_device: int):
        self._threads = threads_per_device
        self._pools: dict[str, _DevicePool] = {}
        self._inbox: _Inbox | None = None

    def pool(self, device: str) -> _DevicePool:
        """The device's pool; a concurrent.futures.Executor (for loop.run_in_executor)."""
        pool = self._pools.get(device)
        if pool is None:
            pool = _DevicePool(self._threads, f"disk-{device}")
            self._pools[device] = pool
        return pool

    async def run(self, device: str, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """Run fn(*args, **kwargs) on the device's pool and await its result."""
        loop = asyncio.get_running_loop()
        inbox = self._inbox
        if inbox is None or inbox.loop is not loop:
            inbox = self._inbox = _Inbox(loop)
        pool = self._pools.get(device) or self.pool(device)
        fut = loop.create_future()
        pool.start_job((inbox, fut, fn, args, kwargs, pool))
        return await fut

    def close(self, wait: bool = True) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=wait, cancel_futures=not wait)
        self._pools.clear()
