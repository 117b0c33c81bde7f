import threading

from strato.executors import DeviceExecutors


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
