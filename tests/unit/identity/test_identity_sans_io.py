"""The protocol cores import no I/O (STYLE.md, convention 1)."""
import ast
import pathlib

import pytest

import identity

CORES = ["tokens.py", "revocation.py", "catalog.py", "render.py", "policy.py", "errors.py"]
FORBIDDEN = {"asyncio", "socket", "aiohttp", "os", "lmdb", "requests"}


@pytest.mark.parametrize("name", CORES)
def test_core_imports_no_io(name):
    path = pathlib.Path(identity.__file__).parent / name
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN, f"{name} imports {imported & FORBIDDEN}"
