"""Storage policies without sockets: the policy table, per-policy rings, on-disk directories,
container records keeping their policy, account totals per policy."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from objectserver import db as dbmod
from objectserver import layout
from ring import Ring
from ring.aio import ensure_rings
from ring.policies import PolicyError, PolicyTable, parse_spec, replicas_of
from strato import config as config_mod

pytestmark = pytest.mark.timeout(60)

DEFAULT_SPECS = ["0:gold,Policy-0:default", "1:silver:2"]


def test_default_table_is_gold_and_silver_like_swifts_peer():
    table = PolicyTable.parse(config_mod.load(environ={}).ring.policies)
    assert [(p.index, p.name) for p in table] == [(0, "gold"), (1, "silver")]
    assert table.default.name == "gold"
    assert table.info() == [{"name": "gold", "aliases": "gold, Policy-0", "default": True},
                            {"name": "silver", "aliases": "silver"}]
    assert [p.ring_name for p in table] == ["object", "object-1"]


@pytest.mark.parametrize("name, index", [("gold", 0), ("GOLD", 0), ("policy-0", 0),
                                         ("Policy-0", 0), ("Silver", 1), (" silver ", 1)])
def test_names_and_aliases_match_case_insensitively(name, index):
    assert PolicyTable.parse(DEFAULT_SPECS).get_by_name(name).index == index


def test_unknown_names_and_indexes():
    table = PolicyTable.parse(DEFAULT_SPECS)
    assert table.get_by_name("bronze") is None
    assert table.get_by_index(2) is None and table.get_by_index("x") is None
    assert table.get_by_index("1").name == "silver"


def test_a_lone_policy_is_the_default():
    table = PolicyTable.parse(["0:only"])
    assert table.default.name == "only" and table.info()[0]["default"] is True


@pytest.mark.parametrize("specs", [
    [],                                              # no policy at all
    ["0:gold:default", "0:silver"],                  # index twice
    ["0:gold:default", "1:GOLD"],                    # name twice (case-insensitive)
    ["0:gold:default", "1:silver:default"],          # two defaults
    ["0:gold", "1:silver"],                          # several, no default
    ["0:gold:default", "1:Policy-0"],                # Policy-0 belongs to index 0
    ["0:go ld:default"],                             # bad character
    ["x:gold"], ["0"], ["0:gold:fast"], ["0:gold:0"],
])
def test_bad_tables_are_refused(specs):
    with pytest.raises(PolicyError):
        PolicyTable.parse(specs)


def test_bad_table_is_a_configuration_error():
    with pytest.raises(config_mod.ConfigError, match="ring.policies"):
        config_mod.load(overrides={"ring": {"policies": ["0:gold", "1:silver"]}}, environ={})


def test_replicas_default_to_and_are_capped_by_the_ring_section():
    assert replicas_of(parse_spec("0:gold"), 3) == 3
    assert replicas_of(parse_spec("1:silver:2"), 3) == 2
    assert replicas_of(parse_spec("1:silver:2"), 1) == 1


def test_ensure_rings_builds_one_object_ring_per_policy(tmp_path):
    devices = [{"region": 1, "zone": i + 1, "ip": "127.0.0.1", "port": 6200 + i,
                "device": f"n{i}d0", "weight": 100.0} for i in range(3)]
    paths = ensure_rings(str(tmp_path), devices, part_power=5, replicas=3, min_part_hours=1,
                         seed=0, policies=PolicyTable.parse(DEFAULT_SPECS))
    assert sorted(paths) == ["account", "container", "object", "object-1"]
    assert Ring.load(paths["object"]).replica_count == 3
    silver = Ring.load(paths["object-1"])
    assert silver.replica_count == 2 and paths["object-1"] == str(tmp_path / "object-1.ring")
    for part in range(silver.partition_count):  # two replicas in two failure domains
        assert len({d.zone for d in silver.get_part_nodes(part)}) == 2


def test_policy_directories_keep_policy_zero_where_objects_always_lived():
    assert layout.objects_dir("/d") == "/d/objects"
    assert layout.hash_dir("/d", 7, "abcdef") == "/d/objects/7/def/abcdef"
    assert layout.hash_dir("/d", 7, "abcdef", 1) == "/d/objects-1/7/def/abcdef"
    assert [layout.policy_of_dir(n) for n in ("objects", "objects-1", "objects-12", "objects-",
                                              "objects-01", "tmp", "objects-x")] == \
        [0, 1, 12, None, None, None, None]


@pytest.fixture
def store(tmp_path):
    handle = dbmod.DeviceDB(str(tmp_path / "db"), map_size=1 << 26)
    yield handle
    handle.close()


def test_container_keeps_its_policy_and_refuses_another(store):
    created, record = store.container_put("a", "c", "0000000001.00000", {}, 0, [], None, 1)
    assert created and record["policy"] == 1          # no explicit policy: the default given
    created, record = store.container_put("a", "c", "0000000002.00000", {}, 0, [])
    assert not created and record["policy"] == 1      # a re-PUT without a policy keeps it
    store.container_put("a", "c", "0000000003.00000", {}, 0, [], 1)  # the same one: fine
    with pytest.raises(dbmod.DBError) as err:
        store.container_put("a", "c", "0000000004.00000", {}, 0, [], 0)
    assert err.value.status == 409
    assert store.container_info("a", "c")["policy"] == 1


def test_deleted_container_is_recreated_with_a_new_policy(store):
    store.container_put("a", "c", "0000000001.00000", {}, 0, [], 1)
    store.container_delete("a", "c", "0000000002.00000")
    created, record = store.container_put("a", "c", "0000000003.00000", {}, 0, [], 0)
    assert created and record["policy"] == 0


def test_replication_takes_the_policy_of_the_newer_creation(store):
    store.container_put("a", "c", "0000000001.00000", {}, 0, [], 0)
    remote = dict(store.container_info("a", "c"), policy=1,
                  status_changed_at="0000000005.00000", created_at="0000000005.00000")
    store.merge_container_record("a", "c", remote)
    assert store.container_info("a", "c")["policy"] == 1
    older = dict(remote, policy=0, status_changed_at="0000000002.00000")
    store.merge_container_record("a", "c", older)
    assert store.container_info("a", "c")["policy"] == 1


def test_account_totals_per_policy(store):
    ts = "0000000001.00000"
    record = store.merge_container_rows("a", [["g", ts, dbmod.ZERO, 2, 20, ts, 0],
                                              ["s", ts, dbmod.ZERO, 3, 30, ts, 1]])
    assert record["policies"] == {"0": [1, 2, 20], "1": [1, 3, 30]}
    later = "0000000002.00000"
    record = store.merge_container_rows("a", [["s", ts, dbmod.ZERO, 4, 44, later, 1]])
    assert record["policies"]["1"] == [1, 4, 44]
    record = store.merge_container_rows("a", [["s", ts, later, 0, 0, later, 1]])  # deleted
    assert record["policies"]["1"] == [0, 0, 0] and record["policies"]["0"] == [1, 2, 20]
    assert (record["containers"], record["count"], record["bytes"]) == (1, 2, 20)
    # rows travel between replicas with their policy
    assert [r[-1] for r in store.container_rows_since("a")] == [0, 1]


def test_rows_from_before_policies_count_as_policy_zero(store):
    ts = "0000000001.00000"
    record = store.merge_container_rows("a", [["old", ts, dbmod.ZERO, 1, 5, ts]])
    assert record["policies"] == {"0": [1, 1, 5]}
    assert store.container_rows_since("a")[0] == ["old", ts, dbmod.ZERO, 1, 5, ts, 0]


def test_account_headers_name_each_policy():
    from objectserver.policy import account_policy_headers

    node = type("Node", (), {"policies": {0: "gold", 1: "silver"}})()
    record = {"containers": 3, "count": 5, "bytes": 50,
              "policies": {"0": [2, 4, 40], "1": [1, 1, 10], "7": [0, 0, 0]}}
    headers = account_policy_headers(node, record)
    assert headers["X-Account-Storage-Policy-gold-Object-Count"] == "4"
    assert headers["X-Account-Storage-Policy-silver-Bytes-Used"] == "10"
    assert headers["X-Account-Storage-Policy-silver-Container-Count"] == "1"
    assert len(headers) == 6                      # index 7 is no policy of this cluster
    old = {"containers": 2, "count": 3, "bytes": 9}  # written before policies
    assert account_policy_headers(node, old)["X-Account-Storage-Policy-gold-Object-Count"] == "3"


def test_policy_zero_always_exists():
    table = PolicyTable.parse(["1:silver:2:default"])
    assert [(p.index, p.name, p.default) for p in table] == [(0, "Policy-0", False),
                                                             (1, "silver", True)]
    assert table.get_by_name("policy-0").index == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(1, 9), st.booleans(),
                          st.integers(0, 5), st.integers(0, 1)), max_size=25))
def test_account_per_policy_totals_always_add_up(tmp_path_factory, updates):
    """Whatever order container reports arrive in (newer or older, live or deleted, moving
    between policies after a recreate), the per-policy totals sum to the account's totals."""
    handle = dbmod.DeviceDB(str(tmp_path_factory.mktemp("db")), map_size=1 << 24)
    try:
        record = None
        for name, tick, deleted, count, policy in updates:
            ts = f"{tick:010d}.00000"
            put, gone = (dbmod.ZERO, ts) if deleted else (ts, dbmod.ZERO)
            record = handle.merge_container_rows("a", [[name, put, gone, count, count * 10, ts,
                                                        policy]])
        if record is not None:
            sums = [sum(v[i] for v in record["policies"].values()) for i in range(3)]
            assert sums == [record["containers"], record["count"], record["bytes"]]
    finally:
        handle.close()
