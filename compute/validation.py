"""Request bodies of the compute API -> plain frozen values, or NovaError 400. No I/O.

Messages follow Nova's JSON-schema validation ("Invalid input for field/attribute ..."). Keys that
OSC and the SDK send but Strato has no use for (security_groups, key_name, user_data, ...) are
accepted and ignored, as a Nova without those features would; unknown keys are 400 like Nova's
additionalProperties: false.
"""
from __future__ import annotations

import dataclasses
import uuid

from compute.errors import bad_request

NAME_MAX = 255
SERVER_KEYS = {"name", "imageRef", "flavorRef", "min_count", "max_count", "networks",
               "block_device_mapping_v2", "block_device_mapping", "security_groups", "key_name",
               "metadata", "availability_zone", "user_data", "config_drive", "adminPass",
               "OS-DCF:diskConfig", "accessIPv4", "accessIPv6", "description", "tags",
               "return_reservation_id", "hostname"}
BDM_KEYS = {"uuid", "boot_index", "source_type", "destination_type", "delete_on_termination",
            "volume_size", "device_name", "disk_bus", "device_type", "tag", "guest_format",
            "volume_type", "no_device", "snapshot_id", "volume_id", "image_id"}


@dataclasses.dataclass(frozen=True)
class NetworkRequest:
    network_id: str | None = None
    port_id: str | None = None
    fixed_ip: str | None = None


@dataclasses.dataclass(frozen=True)
class VolumeRequest:
    volume_id: str
    boot_index: int | None
    delete_on_termination: bool = False


@dataclasses.dataclass(frozen=True)
class CreateRequest:
    name: str
    flavor_id: str
    networks: tuple[NetworkRequest, ...]
    volumes: tuple[VolumeRequest, ...]   # the boot volume (boot_index 0) first
    metadata: dict
    description: str | None = None


def _invalid(field: str, reason: str):
    return bad_request(f"Invalid input for field/attribute {field}. {reason}")


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def envelope(body, key: str) -> dict:
    if not isinstance(body, dict) or key not in body:
        raise bad_request(f"Invalid input for field/attribute {key}. '{key}' is a required "
                          "property")
    inner = body[key]
    if not isinstance(inner, dict):
        raise _invalid(key, f"Value: {inner!r}. {inner!r} is not of type 'object'")
    return inner


def _name(server: dict) -> str:
    name = server.get("name")
    if name is None:
        raise _invalid("server", "'name' is a required property")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        raise _invalid("name", f"Value: {name!r}. It must be a non-blank string of at most "
                               f"{NAME_MAX} characters")
    return name


def _networks(value) -> tuple[NetworkRequest, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        # "auto" / "none" exist only from 2.37, which this API does not offer.
        raise _invalid("networks", f"Value: {value!r}. {value!r} is not of type 'array'")
    if not isinstance(value, list):
        raise _invalid("networks", f"Value: {value!r}. It is not of type 'array'")
    found = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"uuid", "port", "fixed_ip", "tag"}:
            raise _invalid("networks", f"Value: {item!r}. Only uuid, port and fixed_ip are "
                                       "allowed")
        net, port, fixed = item.get("uuid"), item.get("port"), item.get("fixed_ip")
        if port is not None:
            if not isinstance(port, str) or not _is_uuid(port):
                raise bad_request(f"Bad port format: port uuid is not in proper format ({port})")
            found.append(NetworkRequest(port_id=port))
            continue
        if not isinstance(net, str) or not _is_uuid(net):
            raise bad_request(f"Bad networks format: network uuid is not in proper format "
                              f"({net})")
        if fixed is not None and not isinstance(fixed, str):
            raise bad_request(f"Invalid fixed IP address ({fixed})")
        found.append(NetworkRequest(network_id=net, fixed_ip=fixed))
    return tuple(found)


def _boot_index(value) -> int | None:
    if value is None or value == "none":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _invalid("boot_index", f"Value: {value!r}. It is not an integer") from None


def _volumes(value, image_ref) -> tuple[VolumeRequest, ...]:
    if value is None:
        value = []
    if not isinstance(value, list):
        raise _invalid("block_device_mapping_v2", f"Value: {value!r}. It is not of type 'array'")
    found = []
    for bdm in value:
        if not isinstance(bdm, dict) or set(bdm) - BDM_KEYS:
            raise _invalid("block_device_mapping_v2", f"Value: {bdm!r}. Unknown keys")
        source = bdm.get("source_type")
        dest = bdm.get("destination_type", "volume" if source == "volume" else "local")
        if source == "image" and bdm.get("uuid") == image_ref and dest == "local":
            continue  # OSC repeats imageRef as a local image BDM; the imageRef rule decides
        if source != "volume" or dest != "volume":
            raise bad_request(f"Block Device Mapping is Invalid: source_type {source!r} with "
                              f"destination_type {dest!r} is not supported: only existing "
                              "volumes (source_type volume) can be mapped here.")
        volume_id = bdm.get("uuid") or bdm.get("volume_id")
        if not isinstance(volume_id, str) or not _is_uuid(volume_id):
            raise bad_request(f"Block Device Mapping is Invalid: volume uuid {volume_id!r} is "
                              "not in proper format.")
        delete = bdm.get("delete_on_termination", False)
        if not isinstance(delete, bool):
            raise _invalid("delete_on_termination", f"Value: {delete!r}. It is not a boolean")
        found.append(VolumeRequest(volume_id, _boot_index(bdm.get("boot_index")), delete))
    boots = [v for v in found if v.boot_index == 0]
    if len(boots) > 1:
        raise bad_request("Block Device Mapping is Invalid: Boot sequence for the instance and "
                          "image/block device mapping combination is not valid.")
    if len({v.volume_id for v in found}) != len(found):
        raise bad_request("Block Device Mapping is Invalid: a volume is mapped twice.")
    return tuple(sorted(found, key=lambda v: (v.boot_index != 0, v.boot_index is None,
                                             v.boot_index or 0)))


def parse_create(body) -> CreateRequest:
    server = envelope(body, "server")
    unknown = sorted(set(server) - SERVER_KEYS)
    if unknown:
        raise _invalid("server", f"Additional properties are not allowed ({', '.join(unknown)} "
                                 "were unexpected)")
    name = _name(server)
    flavor = server.get("flavorRef")
    if flavor is None:
        raise _invalid("server", "'flavorRef' is a required property")
    if not isinstance(flavor, (str, int)) or isinstance(flavor, bool) or str(flavor) == "":
        raise _invalid("flavorRef", f"Value: {flavor!r}. It is not a flavor id")
    # A flavor URL (.../flavors/2) names the flavor by its last segment, as Nova reads it.
    flavor_id = str(flavor).rstrip("/").rsplit("/", 1)[-1]
    for key in ("min_count", "max_count"):
        count = server.get(key, 1)
        if count not in (1, "1"):
            raise _invalid(key, f"Value: {count!r}. Only one server per request is supported")
    image_ref = server.get("imageRef") or None
    volumes = _volumes(server.get("block_device_mapping_v2"), image_ref)
    if not any(v.boot_index == 0 for v in volumes):
        if image_ref:
            raise bad_request(f"Can not find requested image: there is no image service here "
                              f"({image_ref}). Boot from a volume: block_device_mapping_v2 with "
                              "source_type volume and boot_index 0.")
        raise bad_request("Block Device Mapping is Invalid: a boot volume (source_type volume, "
                          "boot_index 0) is required: there is no image service to boot from.")
    metadata = server.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise _invalid("metadata", "Metadata keys and values must be strings")
    description = server.get("description")
    if description is not None and not isinstance(description, str):
        raise _invalid("description", "It is not a string")
    return CreateRequest(name=name, flavor_id=flavor_id,
                         networks=_networks(server.get("networks")), volumes=volumes,
                         metadata=metadata, description=description)


def parse_attach(body) -> tuple[str, str | None]:
    """{"volumeAttachment": {"volumeId", "device"}} -> (volume_id, device or None)."""
    attach = envelope(body, "volumeAttachment")
    unknown = sorted(set(attach) - {"volumeId", "device", "tag", "delete_on_termination"})
    if unknown:
        raise _invalid("volumeAttachment", f"Additional properties are not allowed "
                                           f"({', '.join(unknown)} were unexpected)")
    volume_id = attach.get("volumeId")
    if volume_id is None:
        raise _invalid("volumeAttachment", "'volumeId' is a required property")
    if not isinstance(volume_id, str) or not _is_uuid(volume_id):
        raise _invalid("volumeId", f"Value: {volume_id!r}. It is not a 'uuid'")
    device = attach.get("device")
    if device is not None and (not isinstance(device, str) or not device.startswith("/dev/")):
        raise bad_request(f"The supplied device path ({device}) is invalid.")
    return volume_id, device


def parse_update(body) -> dict:
    """PUT /servers/<id> at 2.1: {"server": {"name"}} (accessIPv4/6 and diskConfig are accepted
    and ignored: there are no access IPs here and disks are MANUAL)."""
    server = envelope(body, "server")
    unknown = sorted(set(server) - {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"})
    if unknown:
        raise _invalid("server", f"Additional properties are not allowed ({', '.join(unknown)} "
                                 "were unexpected)")
    return {"name": _name(server)} if "name" in server else {}
