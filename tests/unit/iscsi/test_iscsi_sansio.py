"""The protocol core imports no I/O: asyncio, socket, os, selectors, aiohttp (STYLE.md rule 1)."""
import ast
import pathlib

import pytest

import blockserver.iscsi

CORE = ["constants", "errors", "pdu", "text", "params", "chap", "login", "session", "connection",
        "datamover", "events", "registry", "nolun", "digest"]
FORBIDDEN = {"asyncio", "socket", "os", "selectors", "aiohttp", "uvloop", "subprocess",
             "threading"}
HERE = pathlib.Path(blockserver.iscsi.__file__).parent


@pytest.mark.parametrize("module", CORE)
def test_core_module_has_no_io_imports(module):
    tree = ast.parse((HERE / f"{module}.py").read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{module} imports {name}"
