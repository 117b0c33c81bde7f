"""The build itself: every compiled module setup.py lists must be importable and current, and
STRATO_NO_EXTENSIONS=1 must select the twins.

setup.py falls back to pure Python when a module fails to compile (so installs never break); these
tests are what turns that silent fallback into a red CI run. STRATO_NO_EXTENSIONS=1 or
STRATO_ALLOW_PURE_BUILD=1 (a machine without a compiler) turn the build checks into skips.
"""
import ast
import glob
import importlib
import importlib.util
import os
import subprocess
import sys

import pytest

import native

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(native.__file__)))


def pure_build_allowed() -> bool:
    return (os.environ.get("STRATO_NO_EXTENSIONS") == "1"
            or os.environ.get("STRATO_ALLOW_PURE_BUILD") == "1")


def extension_rows() -> list[tuple[str, str]]:
    """(module, source) of every row of setup.py's EXTENSIONS table, read without running setup.py."""
    tree = ast.parse(open(os.path.join(ROOT, "setup.py")).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXTENSIONS" for t in node.targets):
            return [(row[0], row[1]) for row in ast.literal_eval(node.value)]
    raise AssertionError("setup.py has no EXTENSIONS table")


BUILT_ROWS = [(m, s) for m, s in extension_rows() if os.path.exists(os.path.join(ROOT, s))]


def test_extension_table_is_read():
    modules = [m for m, _ in extension_rows()]
    assert "native._checksum_c" in modules and "native._chunkio_c" in modules


@pytest.mark.parametrize("module,source", BUILT_ROWS, ids=[m for m, _ in BUILT_ROWS])
def test_compiled_module_built(module, source):
    if pure_build_allowed():
        pytest.skip("pure-Python build allowed (STRATO_NO_EXTENSIONS / STRATO_ALLOW_PURE_BUILD)")
    try:
        compiled = importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"{module} did not build from {source} ({exc}); rebuild with "
                    f"`pip install --no-build-isolation -e .` and read its compiler output")
    # A build that failed after an edit leaves the previous .so behind: that is a silent miss too.
    path = compiled.__file__
    assert path.endswith((".so", ".pyd")), f"{module} imported from {path}, not a compiled module"
    base = os.path.join(ROOT, os.path.dirname(source), os.path.basename(source)[:-len("_c.pyx")])
    inputs = [os.path.join(ROOT, source)] + glob.glob(base + "_*.h") + glob.glob(base + "_*.pxd")
    newest = max(inputs, key=os.path.getmtime)
    assert os.path.getmtime(path) >= os.path.getmtime(newest), \
        f"{path} is older than {newest}: the last rebuild of {module} failed or was not run"


@pytest.mark.parametrize("module,source", BUILT_ROWS, ids=[m for m, _ in BUILT_ROWS])
def test_every_compiled_module_has_its_twin(module, source):
    twin = module[:-len("_c")] + "_py"
    assert importlib.util.find_spec(twin) is not None, f"{module} has no pure twin {twin}"


TWINS = sorted(os.path.basename(p)[1:-len("_py.py")] for p in glob.glob(os.path.join(ROOT, "native", "_*_py.py")))
LOAD = "import native, sys; print(*[native.load(n).__name__ for n in sys.argv[1:]], native.mode())"


def _load_in_subprocess(**env) -> list[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "STRATO_NO_EXTENSIONS"}
    full_env.update(env)
    out = subprocess.run([sys.executable, "-c", LOAD, *TWINS], env=full_env, cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


@pytest.mark.timeout(120)
def test_no_extensions_selects_the_twins():
    assert "checksum" in TWINS and "chunkio" in TWINS
    assert _load_in_subprocess(STRATO_NO_EXTENSIONS="1") == [f"native._{n}_py" for n in TWINS] + ["pure"]


@pytest.mark.timeout(120)
def test_default_mode_selects_the_compiled_modules():
    if pure_build_allowed():
        pytest.skip("pure-Python build allowed")
    built = {m for m, _ in BUILT_ROWS}
    expected = [f"native._{n}_c" if f"native._{n}_c" in built else f"native._{n}_py" for n in TWINS]
    assert _load_in_subprocess() == expected + ["native"]
