"""Pure logic of the compute service: flavors, states, request validation, device names, views."""
import ast
import pathlib
import uuid

import pytest

from compute import errors, flavors, states, validation, views
from compute.manager import Caller, device_for, matches, visible
from compute.settings import DEFAULT_FLAVORS

VOL = str(uuid.UUID(int=1))
NET = str(uuid.UUID(int=2))


def test_default_flavors_parse_and_lookup_by_id_only():
    table = flavors.parse(DEFAULT_FLAVORS)
    tiny = flavors.lookup(table, "1")
    assert (tiny.name, tiny.vcpus, tiny.ram, tiny.disk) == ("m1.tiny", 1, 512, 1)
    with pytest.raises(errors.NovaError) as exc:
        flavors.lookup(table, "m1.tiny")
    assert exc.value.status == 404 and exc.value.body() == {"itemNotFound": {
        "message": "Flavor m1.tiny could not be found.", "code": 404}}


@pytest.mark.parametrize("specs", [[], ["1:a:1:512"], ["1:a:x:512:1"], ["1:a:0:512:1"],
                                   ["1:a:1:512:1", "1:b:1:512:1"], ["1:a:1:512:1", "2:a:1:1:1"],
                                   [":a:1:512:1"]])
def test_bad_flavor_specs(specs):
    with pytest.raises(flavors.FlavorError):
        flavors.parse(specs)


def test_state_table():
    S = states.Status
    assert states.transition("BUILD", S.ACTIVE) is S.ACTIVE
    for current in S:
        for target in S:
            if target in states.TRANSITIONS[current]:
                assert states.transition(current.value, target) is target
            else:
                with pytest.raises(states.IllegalTransition):
                    states.transition(current.value, target)
    assert (states.vm_state("ACTIVE"), states.power_state("ACTIVE")) == ("active", 1)


def _bdm(**extra):
    return [{"uuid": VOL, "boot_index": 0, "source_type": "volume",
             "destination_type": "volume", **extra}]


def test_parse_create_as_osc_sends_it():
    req = validation.parse_create({"server": {
        "name": "vm1", "flavorRef": "1", "min_count": 1, "max_count": 1,
        "networks": [{"uuid": NET}], "block_device_mapping_v2": _bdm()}})
    assert req.flavor_id == "1" and req.networks == (validation.NetworkRequest(NET),)
    assert req.volumes == (validation.VolumeRequest(VOL, 0, False),)
    # A flavor URL names the flavor by its last segment; boot_index "0" as a string is fine.
    req = validation.parse_create({"server": {
        "name": "vm1", "flavorRef": "http://h/v2.1/flavors/2",
        "block_device_mapping_v2": _bdm(boot_index="0")}})
    assert req.flavor_id == "2" and req.volumes[0].boot_index == 0


@pytest.mark.parametrize("server, fragment", [
    ({"name": "vm1", "block_device_mapping_v2": "B"}, "'flavorRef' is a required property"),
    ({"name": " ", "flavorRef": "1", "block_device_mapping_v2": "B"}, "non-blank"),
    ({"name": "vm1", "flavorRef": "1", "imageRef": VOL}, "no image service"),
    ({"name": "vm1", "flavorRef": "1", "networks": "auto", "block_device_mapping_v2": "B"},
     "'array'"),
    ({"name": "vm1", "flavorRef": "1", "block_device_mapping_v2": [
        {"uuid": VOL, "boot_index": 0, "source_type": "image", "destination_type": "volume"}]},
     "not supported"),
    ({"name": "vm1", "flavorRef": True, "block_device_mapping_v2": "B"}, "flavorRef"),
])
def test_parse_create_refusals(server, fragment):
    if server.get("block_device_mapping_v2") == "B":
        server["block_device_mapping_v2"] = _bdm()
    with pytest.raises(errors.NovaError) as exc:
        validation.parse_create({"server": server})
    assert exc.value.status == 400 and fragment in exc.value.message


def test_parse_attach():
    assert validation.parse_attach({"volumeAttachment": {"volumeId": VOL, "device": None}}) == \
        (VOL, None)
    for body in ({"volumeAttachment": {}}, {"volumeAttachment": {"volumeId": "v1"}},
                 {"volumeAttachment": {"volumeId": VOL, "device": "vdb"}}, [], None):
        with pytest.raises(errors.NovaError):
            validation.parse_attach(body)


def test_device_names():
    assert device_for([]) == "/dev/vda"
    used = [{"device": "/dev/vda"}, {"device": "/dev/vdc"}]
    assert device_for(used) == "/dev/vdb"
    assert device_for(used, "/dev/vdz") == "/dev/vdz"
    with pytest.raises(errors.NovaError) as exc:
        device_for(used, "/dev/vdc")
    assert exc.value.status == 409


def test_visibility_and_filters():
    server = {"id": "s", "name": "web-1", "project_id": "p", "status": "ACTIVE"}
    assert visible(server, Caller("u", "p", False, "t"), "s") is server
    assert visible(server, Caller("u", "q", True, "t"), "s") is server
    with pytest.raises(errors.NovaError) as exc:
        visible(server, Caller("u", "q", False, "t"), "s")
    assert exc.value.status == 404
    assert matches(server, {"name": "^web"}) and not matches(server, {"name": "^db"})
    assert matches(server, {"name": "["}) is False  # a bad regex falls back to a substring
    assert matches(server, {"status": "active"}) and not matches(server, {"status": "ERROR"})


def test_server_view_has_the_fields_clients_read():
    record = {"id": "s", "name": "vm", "project_id": "p", "user_id": "u",
              "flavor": {"id": "1"}, "status": "BUILD", "created": "c", "updated": "u",
              "host_id": "h", "metadata": {}, "addresses": {}, "volumes": [
                  {"volume_id": VOL, "device": "/dev/vda"}]}
    view = views.server_detail(record, "http://h")
    for key in ("id", "name", "flavor", "status", "image", "addresses", "tenant_id", "user_id",
                "created", "updated", "hostId", "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state",
                "os-extended-volumes:volumes_attached", "links", "OS-EXT-AZ:availability_zone"):
        assert key in view
    assert view["os-extended-volumes:volumes_attached"] == [{"id": VOL}]
    assert view["OS-EXT-STS:vm_state"] == "building" and view["progress"] == 0


def test_pure_modules_do_no_io():
    # The logic modules take plain values: no sockets, no aiohttp, no LMDB.
    root = pathlib.Path(flavors.__file__).parent
    for name in ("flavors", "states", "validation", "views", "errors"):
        tree = ast.parse((root / f"{name}.py").read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"aiohttp", "asyncio", "socket", "lmdb", "os", "requests"}, name


def test_guest_disk_reports():
    from compute.drivers.guest import last_disks

    assert last_disks("booting\n") is None
    console = ("STRATO-BOOTED server=x\nSTRATO-DISKS vda:2097152 \n"
               "noise\nSTRATO-DISKS vda:2097152 vdb:4194304 \n")
    assert last_disks(console) == {"vda": 2097152, "vdb": 4194304}
    assert last_disks("STRATO-DISKS \n") == {}
