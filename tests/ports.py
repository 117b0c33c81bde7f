"""Free loopback ports for tests that start servers as subprocesses (tests/ is on sys.path
through tests/conftest.py). Each area keeps to its own range so suites can run side by side."""
import socket


def free_block(first: int, last: int, count: int = 1, taken=()) -> int:
    """The first port p in [first, last) such that p .. p+count-1 are free and not in `taken`."""
    for base in range(first, last - count + 1):
        block = range(base, base + count)
        if any(port in taken for port in block):
            continue
        socks = []
        try:
            for port in block:
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {count} free consecutive ports in {first}-{last - 1}")
