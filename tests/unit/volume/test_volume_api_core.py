"""The API's pure parts: microversion parsing, list queries, fault bodies, and the import rule."""
import ast
import pathlib

import pytest
from hypothesis import given, strategies as st

from blockserver.api import listing, microversion
from blockserver.errors import ApiError
from blockserver.records import Volume


@pytest.mark.parametrize("header, legacy, expected", [
    (None, None, (3, 0)),
    ("volume 3.42", None, (3, 42)),
    ("compute 2.1, volume 3.27", None, (3, 27)),
    ("Volume latest", None, (3, 70)),
    (None, "3.44", (3, 44)),
    ("compute 2.90", None, (3, 0)),
])
def test_microversion_parse(header, legacy, expected):
    assert microversion.parse(header, legacy) == expected


@pytest.mark.parametrize("header, status", [
    ("volume 3.71", 406), ("volume 2.0", 406), ("volume 4.0", 406),
    ("volume 3", 400), ("volume 3.x", 400), ("volume 03.1", 400), ("volume 3.01", 400),
])
def test_microversion_refusals(header, status):
    with pytest.raises(ApiError) as info:
        microversion.parse(header)
    assert info.value.status == status


@given(st.text(max_size=30))
def test_microversion_never_fails_other_than_with_an_api_error(text):
    try:
        version = microversion.parse(f"volume {text}")
    except ApiError as exc:
        assert exc.status in (400, 406)
    else:
        assert microversion.MIN_VERSION <= version <= microversion.MAX_VERSION


def vols():
    return [Volume(id=f"id{i}", project_id="p", user_id="u", size=i, status="available",
                   name=f"n{i % 2}", metadata={"k": str(i % 3)}, created_at=f"2026-01-0{i}")
            for i in range(1, 6)]


def test_default_sort_is_newest_first():
    page, more, _ = listing.list_items(vols(), {})
    assert [v.id for v in page] == ["id5", "id4", "id3", "id2", "id1"] and not more


def test_filters_and_multi_key_sort():
    page, _, _ = listing.list_items(vols(), {"name": "n1", "sort": "size:asc"})
    assert [v.size for v in page] == [1, 3, 5]
    page, _, _ = listing.list_items(vols(), {"metadata": "{'k': '0'}"})
    assert [v.id for v in page] == ["id3"]
    page, _, _ = listing.list_items(vols(), {"sort_key": "name,size", "sort_dir": "asc,desc"})
    assert [v.id for v in page] == ["id4", "id2", "id5", "id3", "id1"]


def test_sort_by_bootable_and_by_a_field_that_may_be_none():
    items = vols()
    items[0] = Volume(**{**items[0].__dict__, "bootable": True, "name": None})
    page, _, _ = listing.list_items(items, {"sort": "bootable:desc"})
    assert page[0].id == "id1"
    page, _, _ = listing.list_items(items, {"sort": "name:asc"})
    assert page[0].id == "id1"


def test_marker_and_limit_walk_every_item_once():
    seen, query = [], {"limit": "2", "sort": "size:asc"}
    while True:
        page, more, _ = listing.list_items(vols(), query)
        seen += [v.id for v in page]
        if not more:
            break
        query = dict(query, marker=page[-1].id)
    assert seen == ["id1", "id2", "id3", "id4", "id5"]


@pytest.mark.parametrize("query, status", [
    ({"sort": "owner:asc"}, 400), ({"sort": "size:sideways"}, 400), ({"limit": "x"}, 400),
    ({"offset": "-2"}, 400), ({"marker": "missing"}, 404), ({"metadata": "[1]"}, 400),
])
def test_bad_list_queries(query, status):
    with pytest.raises(ApiError) as info:
        listing.list_items(vols(), query)
    assert info.value.status == status


def test_fault_names_follow_cinder():
    assert ApiError(404, "x").body() == {"itemNotFound": {"message": "x", "code": 404}}
    assert ApiError(413, "x").fault_name == "overLimit"
    assert ApiError(409, "x").fault_name == "conflictingRequest"
    assert ApiError(406, "x").fault_name == "computeFault"


# Sans-I/O: the rules and shapes import no event loop, socket, web framework or file system.
PURE_MODULES = ["blockserver/states.py", "blockserver/quotas.py", "blockserver/records.py",
                "blockserver/context.py", "blockserver/errors.py",
                "blockserver/api/microversion.py", "blockserver/api/listing.py"]
FORBIDDEN = {"asyncio", "socket", "aiohttp", "os", "lmdb", "subprocess"}


@pytest.mark.parametrize("path", PURE_MODULES)
def test_pure_modules_do_no_io(path):
    root = pathlib.Path(__file__).resolve().parents[3]
    tree = ast.parse((root / path).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN
