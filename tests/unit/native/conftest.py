"""The shared native test harness (STYLE.md item 5): run one test on both twins of a hot path.

A test module names its hot path and asks for `native_impl`:

    NATIVE_MODULE = "checksum"

    def test_vector(native_impl):          # runs as [py] and [c]
        assert native_impl.crc32c(b"123456789") == 0xE3069283

The [c] case is skipped in pure-Python mode (STRATO_NO_EXTENSIONS=1) and when the compiled module is
missing; test_native_build.py is what fails for a missing build, once per module, with the reason.
`both_impls` gives {"py": module, "c": module-or-None} for tests that compare the two directly (the
Hypothesis agreement tests). Other areas with their own native tests can copy this file as is.
"""
import os

import pytest

import native


def pure_mode_requested() -> bool:
    return os.environ.get("STRATO_NO_EXTENSIONS") == "1"


def _module_name(request) -> str:
    name = getattr(request.module, "NATIVE_MODULE", None)
    if not name:
        raise pytest.UsageError(f"{request.module.__name__} uses native_impl without NATIVE_MODULE")
    return name


@pytest.fixture(params=["py", "c"])
def native_impl(request):
    """The "py" twin or the "c" compiled module of the test module's NATIVE_MODULE."""
    name = _module_name(request)
    impl = native.load_both(name)[request.param]
    if request.param == "c":
        if pure_mode_requested():
            pytest.skip("STRATO_NO_EXTENSIONS=1: only the pure twin is under test")
        if impl is None:
            pytest.skip(f"native._{name}_c is not built (test_native_build.py reports it)")
    return impl


@pytest.fixture(scope="module")
def both_impls(request):
    """{"py": twin, "c": compiled}: skips when there is no compiled module to compare against.
    Module-scoped (it holds no per-test state) so Hypothesis tests can use it."""
    name = _module_name(request)
    impls = native.load_both(name)
    if impls["c"] is None or pure_mode_requested():
        pytest.skip(f"native._{name}_c is not available to compare with the twin")
    return impls
