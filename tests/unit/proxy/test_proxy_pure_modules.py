"""The proxy's decision logic stays sans-I/O: these modules import no asyncio, aiohttp or sockets."""
import ast
import pathlib

import pytest

PURE = ["quorum", "acl", "auth", "limits", "conditional", "tempurl", "cors", "symlink", "nodes",
        "errors", "headers"]
FORBIDDEN = {"asyncio", "aiohttp", "socket", "os", "requests"}
ROOT = pathlib.Path(__file__).resolve().parents[3] / "proxy"


@pytest.mark.parametrize("name", PURE)
def test_module_imports_no_io(name):
    tree = ast.parse((ROOT / f"{name}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, imported & FORBIDDEN
