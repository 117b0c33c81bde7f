"""Persistent reservations (PR IN/OUT) and RESERVE(6)/RELEASE(6) across two I_T nexuses."""
import pytest
from scsi_unit_support import BLOCK_SIZE, NEXUS, NEXUS2, cdb10, sense_of

from blockserver.scsi import RESERVATION_CONFLICT

WE, EA, WERO, EARO, WEAR, EAAR = 1, 3, 5, 6, 7, 8


def prout(sa: int, key: int = 0, sa_key: int = 0, pr_type: int = 0, flags: int = 0,
          plen: int = 24):
    cdb = bytes([0x5F, sa, pr_type, 0, 0]) + plen.to_bytes(4, "big") + b"\0"
    data = key.to_bytes(8, "big") + sa_key.to_bytes(8, "big") + bytes(4) + bytes([flags]) + bytes(3)
    return cdb, data


def prin(sa: int, alloc: int = 1024) -> bytes:
    return bytes([0x5E, sa, 0, 0, 0, 0, 0]) + alloc.to_bytes(2, "big") + b"\0"


async def out(lu, nexus, sa, **kw):
    cdb, data = prout(sa, **kw)
    return await lu.run(cdb, data, nexus=nexus)


async def keys(lu):
    d = (await lu.run(prin(0))).data_in
    n = int.from_bytes(d[4:8], "big") // 8
    return int.from_bytes(d[0:4], "big"), [int.from_bytes(d[8 + 8 * i:16 + 8 * i], "big")
                                            for i in range(n)]


async def can_read(lu, nexus):
    return (await lu.run(cdb10(0x28, 0, 1), nexus=nexus)).status == 0


async def can_write(lu, nexus):
    return (await lu.run(cdb10(0x2A, 0, 1), bytes(BLOCK_SIZE), nexus=nexus)).status == 0


async def test_register_unregister_and_generation(lu):
    assert (await out(lu, NEXUS, 0, sa_key=0xA)).status == 0
    assert (await out(lu, NEXUS2, 6, sa_key=0xB)).status == 0     # REGISTER AND IGNORE
    gen, ks = await keys(lu)
    assert gen == 2 and sorted(ks) == [0xA, 0xB]
    # REGISTER with a wrong current key: conflict
    assert (await out(lu, NEXUS, 0, key=0xB, sa_key=0xC)).status == RESERVATION_CONFLICT
    # unregistered nexus registering with a non-zero key: conflict
    assert (await out(lu, NEXUS2, 0, key=0xB, sa_key=0xD)).status == 0   # change key
    assert (await out(lu, NEXUS2, 0, key=0xD, sa_key=0)).status == 0     # unregister
    assert (await out(lu, NEXUS2, 0, key=0x5, sa_key=0x6)).status == RESERVATION_CONFLICT
    assert (await keys(lu))[1] == [0xA]


@pytest.mark.parametrize("pr_type,reg_r,reg_w,unreg_r,unreg_w", [
    (EA, 0, 0, 0, 0), (WE, 1, 0, 1, 0), (EARO, 1, 1, 0, 0), (WERO, 1, 1, 1, 0),
    (EAAR, 1, 1, 0, 0), (WEAR, 1, 1, 1, 0)])
async def test_access_rules(lu, pr_type, reg_r, reg_w, unreg_r, unreg_w):
    assert (await out(lu, NEXUS, 6, sa_key=0x1)).status == 0
    assert (await out(lu, NEXUS2, 6, sa_key=0x2)).status == 0
    assert (await out(lu, NEXUS, 1, key=0x1, pr_type=pr_type)).status == 0
    d = (await lu.run(prin(1))).data_in
    assert int.from_bytes(d[4:8], "big") == 16 and d[21] == pr_type
    assert int.from_bytes(d[8:16], "big") == (0 if pr_type in (WEAR, EAAR) else 1)
    assert await can_read(lu, NEXUS) and await can_write(lu, NEXUS)
    assert await can_read(lu, NEXUS2) == bool(reg_r)
    assert await can_write(lu, NEXUS2) == bool(reg_w)
    assert (await out(lu, NEXUS2, 0, key=0x2, sa_key=0)).status == 0
    assert await can_read(lu, NEXUS2) == bool(unreg_r)
    assert await can_write(lu, NEXUS2) == bool(unreg_w)
    assert (await lu.run(bytes([0x12, 0, 0, 0, 36, 0]), nexus=NEXUS2)).status == 0  # INQUIRY
    assert (await out(lu, NEXUS, 2, key=0x1, pr_type=pr_type)).status == 0
    assert await can_write(lu, NEXUS2)


async def test_reserve_conflicts_and_release_rules(lu):
    await out(lu, NEXUS, 6, sa_key=0x1)
    await out(lu, NEXUS2, 6, sa_key=0x2)
    assert (await out(lu, NEXUS, 1, key=0x1, pr_type=WE)).status == 0
    assert (await out(lu, NEXUS, 1, key=0x1, pr_type=WE)).status == 0        # same: GOOD
    assert (await out(lu, NEXUS, 1, key=0x1, pr_type=EA)).status == RESERVATION_CONFLICT
    assert (await out(lu, NEXUS2, 1, key=0x2, pr_type=WE)).status == RESERVATION_CONFLICT
    assert (await out(lu, NEXUS2, 2, key=0x2, pr_type=WE)).status == 0        # not holder: no-op
    res = await out(lu, NEXUS, 2, key=0x1, pr_type=EA)                         # wrong type
    assert sense_of(res) == (0x5, 0x26, 0x04)
    assert (await out(lu, NEXUS, 1, key=0x9, pr_type=WE)).status == RESERVATION_CONFLICT
    res = await out(lu, NEXUS, 1, key=0x1, pr_type=2)                          # bad type
    assert sense_of(res) == (0x5, 0x24, 0x00)


async def test_preempt_and_clear(lu):
    await out(lu, NEXUS, 6, sa_key=0x1)
    await out(lu, NEXUS2, 6, sa_key=0x2)
    await out(lu, NEXUS2, 1, key=0x2, pr_type=EA)
    assert (await out(lu, NEXUS, 4, key=0x1, sa_key=0x2, pr_type=WE)).status == 0
    d = (await lu.run(prin(1))).data_in
    assert d[21] == WE and int.from_bytes(d[8:16], "big") == 0x1
    assert (await keys(lu))[1] == [0x1]
    res = await lu.run(bytes(6), nexus=NEXUS2)
    assert sense_of(res) == (0x6, 0x2A, 0x05)                    # REGISTRATIONS PREEMPTED
    assert (await out(lu, NEXUS, 4, key=0x1, sa_key=0x7, pr_type=WE)).status == \
        RESERVATION_CONFLICT                                      # nothing to preempt
    await out(lu, NEXUS2, 6, sa_key=0x2)
    assert (await out(lu, NEXUS2, 3, key=0x2)).status == 0       # CLEAR
    assert sense_of(await lu.run(bytes(6), nexus=NEXUS)) == (0x6, 0x2A, 0x03)
    assert (await keys(lu))[1] == []
    assert int.from_bytes((await lu.run(prin(1))).data_in[4:8], "big") == 0


async def test_prin_service_actions_and_truncation(lu):
    cap = (await lu.run(prin(2))).data_in
    assert int.from_bytes(cap[0:2], "big") == 8 and cap[3] & 0x80
    assert cap[4] & 0x02 and cap[4] & 0x08 and cap[5] & 0x01
    await out(lu, NEXUS, 6, sa_key=0x1234)
    await out(lu, NEXUS, 1, key=0x1234, pr_type=WE)
    full = (await lu.run(prin(3))).data_in
    assert int.from_bytes(full[8:16], "big") == 0x1234 and full[20] & 0x01 and full[21] == WE
    tid_len = int.from_bytes(full[28:32], "big")
    assert b"test-a,i,0x" in full[32:32 + tid_len]
    assert len((await lu.run(prin(0, alloc=4))).data_in) == 4
    for sa in range(4, 0x20):
        assert sense_of(await lu.run(prin(sa))) == (0x5, 0x24, 0x00)


async def test_prout_parameter_errors(lu):
    cdb, data = prout(0, sa_key=1, plen=20)
    assert sense_of(await lu.run(cdb, data[:20])) == (0x5, 0x1A, 0x00)
    assert sense_of(await out(lu, NEXUS, 0, sa_key=1, flags=0x01)) == (0x5, 0x26, 0x00)  # APTPL
    assert sense_of(await out(lu, NEXUS, 0, sa_key=1, flags=0x08)) == (0x5, 0x26, 0x00)  # SPEC_I_PT
    assert sense_of(await out(lu, NEXUS, 7, sa_key=1)) == (0x5, 0x24, 0x00)  # REGISTER AND MOVE


async def test_reserve6_release6(lu):
    assert (await lu.run(bytes([0x16, 0, 0, 0, 0, 0]))).status == 0
    assert (await lu.run(bytes([0x16, 0, 0, 0, 0, 0]))).status == 0
    r = await lu.run(bytes([0x16, 0, 0, 0, 0, 0]), nexus=NEXUS2)
    assert r.status == RESERVATION_CONFLICT
    assert (await lu.run(bytes([0x17, 0, 0, 0, 0, 0]), nexus=NEXUS2)).status == 0   # no-op
    r = await lu.run(bytes([0x1A, 0, 0x3F, 0, 255, 0]), nexus=NEXUS2)
    assert r.status == RESERVATION_CONFLICT
    assert (await lu.run(bytes([0x12, 0, 0, 0, 36, 0]), nexus=NEXUS2)).status == 0
    lu.lu.nexus_lost(NEXUS)                                   # reservation ends with the nexus
    await lu.login(NEXUS2)
    assert (await lu.run(bytes([0x16, 0, 0, 0, 0, 0]), nexus=NEXUS2)).status == 0
    lu.lu.reset()
    await lu.login(NEXUS)
    assert (await lu.run(bytes([0x16, 0, 0, 0, 0, 0]))).status == 0


async def test_reserve6_refused_while_registered(lu):
    await out(lu, NEXUS, 6, sa_key=0x1)
    assert (await lu.run(bytes([0x16, 0, 0, 0, 0, 0]))).status == RESERVATION_CONFLICT


async def test_preempt_and_abort_aborts_the_victims_tasks(volume_path):
    """A command of the preempted initiator, stuck behind a stalled disk thread, ends with
    TASK ABORTED; the preempting initiator then holds the reservation."""
    import asyncio
    import concurrent.futures
    import threading

    from blockserver.backing import FileBacking
    from blockserver.scsi import LogicalUnit
    from scsi_unit_support import Driver

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    gate = threading.Event()
    backing = FileBacking(volume_path, pool)
    try:
        lu = Driver(LogicalUnit(backing, serial="s", device_id=bytes(8)))
        await lu.login()
        await lu.login(NEXUS2)
        await out(lu, NEXUS, 6, sa_key=0x1)
        await out(lu, NEXUS2, 6, sa_key=0x2)
        await out(lu, NEXUS2, 1, key=0x2, pr_type=EA)
        pool.submit(gate.wait)
        stuck = asyncio.ensure_future(lu.run(cdb10(0x2A, 0, 1), bytes(BLOCK_SIZE), nexus=NEXUS2))
        await asyncio.sleep(0.05)
        assert (await out(lu, NEXUS, 5, key=0x1, sa_key=0x2, pr_type=EA)).status == 0
        assert (await asyncio.wait_for(stuck, 5)).status == 0x40
        gate.set()
        assert (await keys(lu))[1] == [0x1]
        assert (await lu.run(cdb10(0x28, 0, 1), nexus=NEXUS2)).status == 2   # UA first
        assert (await lu.run(cdb10(0x28, 0, 1), nexus=NEXUS2)).status == RESERVATION_CONFLICT
    finally:
        gate.set()
        backing.close()
        pool.shutdown(wait=True)
