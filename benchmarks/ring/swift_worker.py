"""OpenStack Swift's ring, timed for benchmarks/ring; runs under /tmp/swiftbench-venv's python.

Never imported by Strato (Swift stays out of .venv). argv[1] is a JSON config (part_power,
replicas, devices, prefix, suffix, count). It builds and rebalances a Swift ring of that shape,
saves and loads it, prints {"ready": ..., "rebalance_s": ..., "rebalance_cpu_s": ...}, then
answers each "burst" line on stdin with {"ops": lookups per second} for one pass of
Ring.get_nodes over `count` object paths named exactly as test_bench_ring.py's names().
"""
import json
import os
import sys
import tempfile
import time


def main() -> None:
    cfg = json.loads(sys.argv[1])
    from swift.common import utils
    from swift.common.ring import Ring, RingBuilder

    utils.HASH_PATH_PREFIX = cfg["prefix"].encode()
    utils.HASH_PATH_SUFFIX = cfg["suffix"].encode()
    builder = RingBuilder(cfg["part_power"], cfg["replicas"], 1)
    for dev in cfg["devices"]:
        builder.add_dev(dict(dev))
    start, cpu = time.perf_counter(), time.process_time()
    builder.rebalance(seed=0)
    rebalance_s = time.perf_counter() - start
    rebalance_cpu_s = time.process_time() - cpu
    path = os.path.join(tempfile.mkdtemp(prefix="swiftbench-"), "object.ring.gz")
    builder.get_ring().save(path)
    ring = Ring(path)
    names = [("AUTH_test", f"c{i % 100}", f"o{i}") for i in range(cfg["count"])]
    print(json.dumps({"ready": True, "rebalance_s": rebalance_s, "rebalance_cpu_s": rebalance_cpu_s,
                      "sample": [ring.get_nodes(*names[0])[0]]}), flush=True)
    for line in sys.stdin:
        if line.strip() != "burst":
            break
        get_nodes = ring.get_nodes
        start = time.perf_counter()
        for a, c, o in names:
            get_nodes(a, c, o)
        print(json.dumps({"ops": len(names) / (time.perf_counter() - start)}), flush=True)
    os.unlink(path)
    os.rmdir(os.path.dirname(path))


if __name__ == "__main__":
    main()
