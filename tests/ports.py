"""Free loopback ports for tests that start servers as subprocesses (tests/ is on sys.path
through tests/conftest.py). Each area keeps to its own range so suites can run side by side."""
import socket


def all_free(ports) -> bool:
    """Whether every port in `ports` can be bound on loopback right now."""
    socks = []
    try:
        for port in ports:
            sock = socket.socket()
            socks.append(sock)
            sock.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for sock in socks:
            sock.close()


def free_block(first: int, last: int, count: int = 1, taken=()) -> int:
    """The first port p in [first, last) such that p .. p+count-1 are free and not in `taken`."""
    for base in range(first, last - count + 1):
        block = range(base, base + count)
        if not any(port in taken for port in block) and all_free(block):
            return base
    raise RuntimeError(f"no {count} free consecutive ports in {first}-{last - 1}")
