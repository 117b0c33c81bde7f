"""The iSCSI target's READ fast path: the compiled module when built, else the pure twin.

API (see native/_iscsiread_py.py for the contract): serve_reads(buf, start, end, fd, block_size,
num_blocks, max_blocks, max_data, tasks, exp_cmdsn, max_cmdsn, stat_sn, window, out)
-> (pos, exp_cmdsn, max_cmdsn, stat_sn), BHS_LEN. blockserver/iscsi/fastread.py is the caller.
"""
from native import load

_impl = load("iscsiread")

BHS_LEN = _impl.BHS_LEN
serve_reads = _impl.serve_reads
IMPLEMENTATION = "c" if _impl.__name__.endswith("_c") else "py"

__all__ = ["BHS_LEN", "serve_reads", "IMPLEMENTATION"]
