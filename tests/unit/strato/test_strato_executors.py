"""DeviceExecutors' contract: results and errors come back to the awaiter, at most N threads of a
device run jobs at once, devices do not wait for each other, cancellation and close() behave as
loop.run_in_executor on a ThreadPoolExecutor did, and no thread outlives close()."""
import asyncio
import subprocess
import sys
import threading
import time
import traceback

import pytest

from strato.executors import DeviceExecutors

pytestmark = pytest.mark.timeout(20)


def _disk_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("disk-")}


async def test_each_device_has_its_own_bounded_pool():
    executors = DeviceExecutors(threads_per_device=2)
    try:
        names = set()
        for _ in range(6):
            names.add(await executors.run("sda", lambda: threading.current_thread().name))
        assert all(n.startswith("disk-sda") for n in names)
        assert len(names) <= 2
        other = await executors.run("sdb", lambda: threading.current_thread().name)
        assert other.startswith("disk-sdb")
        assert await executors.run("sda", lambda a, b=0: a + b, 1, b=2) == 3
    finally:
        executors.close()


async def test_results_go_to_their_own_awaiters_and_jobs_start_in_order():
    executors = DeviceExecutors(threads_per_device=1)  # one thread: strictly first in, first out
    started = []

    def job(i):
        started.append(i)
        return i * i

    try:
        results = await asyncio.gather(*(executors.run("sda", job, i) for i in range(200)))
        assert results == [i * i for i in range(200)]
        assert started == list(range(200))
        # Many awaiters on several threads and devices: every result reaches its own awaiter.
        wide = DeviceExecutors(threads_per_device=4)
        try:
            got = await asyncio.gather(*(wide.run(f"d{i % 3}", lambda i=i: (i, threading.get_ident()))
                                         for i in range(500)))
            assert [i for i, _ in got] == list(range(500))
        finally:
            wide.close()
    finally:
        executors.close()


async def test_exceptions_reach_the_awaiter_with_the_jobs_traceback():
    executors = DeviceExecutors(threads_per_device=2)

    def failing_disk_call(path):
        raise FileNotFoundError(2, "No such file", path)

    try:
        with pytest.raises(FileNotFoundError) as caught:
            await executors.run("sda", failing_disk_call, "/nope")
        assert caught.value.filename == "/nope"
        frames = [f.name for f in traceback.extract_tb(caught.value.__traceback__)]
        assert "failing_disk_call" in frames
        # A failed job leaves the pool working.
        assert await executors.run("sda", len, "abc") == 3
    finally:
        executors.close()


async def test_stop_iteration_from_a_job_becomes_runtime_error_instead_of_a_hang():
    executors = DeviceExecutors(threads_per_device=1)
    try:
        with pytest.raises(RuntimeError) as caught:
            await asyncio.wait_for(executors.run("sda", next, iter(())), 5)
        assert isinstance(caught.value.__cause__, StopIteration)
    finally:
        executors.close()


async def test_never_more_than_n_jobs_of_one_device_run_at_once():
    bound = 3
    executors = DeviceExecutors(threads_per_device=bound)
    lock = threading.Lock()
    running = 0
    peak = 0

    def job():
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1

    try:
        await asyncio.gather(*(executors.run("sda", job) for _ in range(30)))
        assert peak == bound  # reached (the jobs do run in parallel) and never passed
        assert len([t for t in _disk_threads() if t.name.startswith("disk-sda")]) == bound
    finally:
        executors.close()


async def test_threads_start_only_when_needed():
    executors = DeviceExecutors(threads_per_device=8)
    try:
        for _ in range(20):
            await executors.run("sda", time.sleep, 0)
        assert len([t for t in _disk_threads() if t.name.startswith("disk-sda")]) == 1
    finally:
        executors.close()


async def test_a_blocked_device_does_not_delay_another():
    executors = DeviceExecutors(threads_per_device=1)
    release = threading.Event()
    try:
        stuck = asyncio.ensure_future(executors.run("slow", release.wait, 10))
        queued = asyncio.ensure_future(executors.run("slow", lambda: "after"))
        t0 = time.monotonic()
        assert await asyncio.wait_for(executors.run("fast", lambda: "fast"), 5) == "fast"
        assert time.monotonic() - t0 < 2
        assert not stuck.done() and not queued.done()
        release.set()
        assert await stuck is True
        assert await queued == "after"
    finally:
        release.set()
        executors.close()


async def test_cancelled_awaiter_lets_a_running_job_finish_and_skips_a_queued_one():
    executors = DeviceExecutors(threads_per_device=1)
    release = threading.Event()
    finished = threading.Event()
    ran_queued = threading.Event()

    def running_job():
        release.wait(10)
        finished.set()
        return "done"

    try:
        running = asyncio.ensure_future(executors.run("sda", running_job))
        queued = asyncio.ensure_future(executors.run("sda", ran_queued.set))
        await asyncio.sleep(0.05)
        running.cancel()
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        with pytest.raises(asyncio.CancelledError):
            await queued
        release.set()
        # The pool still works, in order: by the time this runs the other two were taken.
        assert await executors.run("sda", lambda: "next") == "next"
        assert finished.is_set()  # the running job ran to completion
        assert not ran_queued.is_set()  # the queued one was skipped
    finally:
        release.set()
        executors.close()


async def test_close_wait_true_waits_for_running_and_queued_jobs():
    executors = DeviceExecutors(threads_per_device=1)
    done = []

    def job(i):
        time.sleep(0.1)
        done.append(i)

    futures = [asyncio.ensure_future(executors.run("sda", job, i)) for i in range(2)]
    await asyncio.sleep(0.02)  # the first job is running, the second queued
    executors.close(wait=True)
    assert done == [0, 1]
    assert not _disk_threads()
    await asyncio.gather(*futures)


async def test_close_wait_false_cancels_queued_jobs_and_threads_then_exit():
    executors = DeviceExecutors(threads_per_device=1)
    release = threading.Event()
    ran_queued = threading.Event()
    running = asyncio.ensure_future(executors.run("sda", release.wait, 10))
    queued = asyncio.ensure_future(executors.run("sda", ran_queued.set))
    await asyncio.sleep(0.05)
    threads = _disk_threads()
    executors.close(wait=False)
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(queued, 5)
    assert not running.done()  # close(wait=False) does not wait for it, nor cancel it
    release.set()
    assert await asyncio.wait_for(running, 5) is True
    for thread in threads:
        thread.join(5)
    assert not ran_queued.is_set()
    assert not _disk_threads()


def test_usable_from_one_event_loop_after_another():
    executors = DeviceExecutors(threads_per_device=2)
    try:
        for _ in range(3):
            assert asyncio.run(executors.run("sda", lambda: 7)) == 7
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            assert runner.run(executors.run("sda", lambda: 8)) == 8

        async def many():
            return await asyncio.gather(*(executors.run("sda", abs, -i) for i in range(50)))

        assert asyncio.run(many()) == list(range(50))
    finally:
        executors.close()
    assert not _disk_threads()


async def test_no_thread_outlives_close():
    before = _disk_threads()
    executors = DeviceExecutors(threads_per_device=4)
    await asyncio.gather(*(executors.run(f"d{i % 3}", time.sleep, 0.01) for i in range(24)))
    assert len(_disk_threads() - before) == 12
    executors.close()
    assert _disk_threads() == before
    # A run after close() gets a fresh pool, as before (callers finishing during shut-down).
    assert await executors.run("d0", lambda: 1) == 1
    executors.close()
    assert _disk_threads() == before


async def test_pool_is_an_executor_for_run_in_executor_and_submit():
    executors = DeviceExecutors(threads_per_device=2)
    try:
        pool = executors.pool("identity")
        loop = asyncio.get_running_loop()
        assert await loop.run_in_executor(pool, pow, 2, 10) == 1024
        assert pool.submit(divmod, 7, 2).result(5) == (3, 1)
        with pytest.raises(ZeroDivisionError):
            pool.submit(divmod, 1, 0).result(5)
        assert list(pool.map(abs, [-1, -2])) == [1, 2]
    finally:
        executors.close()
    with pytest.raises(RuntimeError):
        pool.submit(abs, 1)


class _CountingLoop(asyncio.SelectorEventLoop):
    wakeups = 0

    def call_soon_threadsafe(self, *args, **kwargs):
        self.wakeups += 1
        return super().call_soon_threadsafe(*args, **kwargs)


def test_completions_while_a_wake_up_is_pending_share_it():
    executors = DeviceExecutors(threads_per_device=2)

    async def main():
        jobs = [asyncio.ensure_future(executors.run("sda", abs, -i)) for i in range(50)]
        await asyncio.sleep(0)  # the jobs are queued
        time.sleep(0.3)  # the loop is busy while the threads finish all 50
        assert await asyncio.gather(*jobs) == list(range(50))

    loop = _CountingLoop()
    try:
        loop.run_until_complete(main())
    finally:
        executors.close()
        loop.close()
    assert loop.wakeups <= 2  # not one per job


def test_interpreter_exits_without_close():
    # Worker threads are not daemons (a write in progress finishes), so they must be told to stop.
    code = ("import asyncio; from strato.executors import DeviceExecutors; "
            "e = DeviceExecutors(2); print(asyncio.run(e.run('sda', abs, -5)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=15)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "5"
