"""The proxy's decision logic stays sans-I/O: these modules import no asyncio, aiohttp or sockets."""
import ast
import pathlib

import pytest

PURE = ["quorum", "acl", "auth", "limits", "conditional", "tempurl", "cors", "symlink", "nodes",
        "errors", "headers", "nodewire"]
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


# What a pure module drags in through its own proxy imports counts too (proxy.core brings asyncio
# and aiohttp); socket is left out: the standard library's email.utils loads it.
LOADED_FORBIDDEN = ("asyncio", "aiohttp", "requests")


@pytest.mark.parametrize("name", PURE)
def test_module_loads_no_io_indirectly(name):
    import subprocess
    import sys
    code = (f"import sys, proxy.{name}; "
            f"print(' '.join(m for m in {LOADED_FORBIDDEN!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT.parent, capture_output=True,
                         text=True, timeout=30, check=True).stdout.strip()
    assert out == "", out
