"""The network service's cores stay sans-I/O (STYLE.md 1): IPAM, validation, errors, quotas and
the plugin import no asyncio, socket, aiohttp or LMDB; and a property test drives IPAM with
random allocate/free sequences."""
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from network import ipam

CORES = ("network.ipam", "network.validation", "network.errors", "network.plugin",
         "network.quotas")
FORBIDDEN = ("asyncio", "socket", "aiohttp", "lmdb")


def test_cores_import_no_io():
    code = (f"import sys\nfor m in {CORES!r}: __import__(m)\n"
            f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "", f"sans-I/O cores pulled in: {out}"


@settings(max_examples=60, deadline=None)
@given(prefix=st.integers(26, 30), gateway_index=st.integers(0, 3),
       ops=st.lists(st.tuples(st.booleans(), st.integers(0, 63)), max_size=80))
def test_allocation_properties(prefix, gateway_index, ops):
    net = ipam.parse_cidr(f"172.16.8.0/{prefix}", 4)
    first, last = ipam.usable_bounds(net)
    gateway = str(ipam.ipaddress.ip_address(first + gateway_index % (last - first + 1)))
    pools = ipam.default_pools(net, gateway)
    pool_addresses = {a for p in pools for a in range(p.bounds()[0], p.bounds()[1] + 1)}
    assert pool_addresses == set(range(first, last + 1)) - {ipam.to_int(gateway)}
    taken: set[int] = set()
    for allocate, pick in ops:
        if allocate:
            got = ipam.allocate(pools, taken)
            if got is None:
                assert taken == pool_addresses  # full only when every pool address is taken
                continue
            value = ipam.to_int(got)
            assert value in pool_addresses and value not in taken
            assert value == min(pool_addresses - taken)  # lowest free first
            taken.add(value)
        elif taken:
            taken.discard(sorted(taken)[pick % len(taken)])
