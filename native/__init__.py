"""Strato's native fast path: each hot path has a compiled module and a pure-Python twin.

`load("checksum")` returns `native._checksum_c` when it was built and STRATO_NO_EXTENSIONS is not
"1", else the reference `native._checksum_py` (warning once when a build is missing). Callers use
the public modules (`native.checksum`, ...), which call load() once at import.
"""
import importlib
import os
import warnings

_missing_warned = False


def extensions_disabled() -> bool:
    return os.environ.get("STRATO_NO_EXTENSIONS") == "1"


def load(name: str):
    """The implementation module for hot path `name`: compiled when available, else the twin."""
    global _missing_warned
    if not extensions_disabled():
        try:
            return importlib.import_module(f"native._{name}_c")
        except ImportError:
            if not _missing_warned:
                _missing_warned = True
                warnings.warn("strato: native extensions are not built; using the pure-Python "
                              "twins (pip install -e . with a C compiler builds them)",
                              RuntimeWarning, stacklevel=2)
    return importlib.import_module(f"native._{name}_py")


def load_both(name: str) -> dict:
    """{"py": twin, "c": compiled-or-None}: for tests and benchmarks that compare the two."""
    try:
        compiled = importlib.import_module(f"native._{name}_c")
    except ImportError:
        compiled = None
    return {"py": importlib.import_module(f"native._{name}_py"), "c": compiled}


def compiled_modules() -> list[str]:
    """Names of the hot paths whose compiled module imports (whatever the mode)."""
    names = []
    here = os.path.dirname(__file__)
    for entry in sorted(os.listdir(here)):
        if entry.startswith("_") and entry.endswith("_py.py"):
            name = entry[1:-len("_py.py")]
            if load_both(name)["c"] is not None:
                names.append(name)
    return names


def mode() -> str:
    """'native' when compiled modules are live, 'pure' otherwise."""
    if extensions_disabled() or not compiled_modules():
        return "pure"
    return "native"
