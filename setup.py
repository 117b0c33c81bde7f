"""Strato's build: every top-level package, the `strato` command, and the Cython fast path.

The compiled modules of native/ are listed in EXTENSIONS, the one table of them. When Cython or
a C compiler is missing the install still succeeds in pure-Python mode and says so once;
STRATO_NO_EXTENSIONS=1 forces that mode. `strato version` reports which mode is live.
"""
import os
import sys

from setuptools import find_packages, setup
from setuptools.command.build_ext import build_ext

# (module name, source, extra compile flags[, libraries to link]): one row per compiled twin of a
# native/_<name>_py.py reference. A row whose source does not exist yet is skipped; a row whose
# headers or libraries are missing fails to compile and that module stays pure (see OptionalBuildExt).
EXTENSIONS = [
    ("native._ringlookup_c", "native/_ringlookup_c.pyx", []),
    ("native._checksum_c", "native/_checksum_c.pyx", [], ["crypto", "xxhash"]),  # libssl-dev, libxxhash-dev
    ("native._chunkio_c", "native/_chunkio_c.pyx", []),
    ("native._iscsipdu_c", "native/_iscsipdu_c.pyx", []),
    ("native._iscsiread_c", "native/_iscsiread_c.pyx", []),
    ("native._awschunked_c", "native/_awschunked_c.pyx", []),
    ("native._md5lanes_c", "native/_md5lanes_c.pyx", [], ["crypto", "xxhash"]),  # as checksum
]

PURE_MESSAGE = "strato: building in pure-Python mode ({}); the native fast path is off."


def native_extensions():
    """The Extension objects to build, or [] (with one clear message) for pure-Python mode."""
    if os.environ.get("STRATO_NO_EXTENSIONS") == "1":
        print(PURE_MESSAGE.format("STRATO_NO_EXTENSIONS=1"), file=sys.stderr)
        return []
    try:
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError:
        print(PURE_MESSAGE.format("Cython is not installed"), file=sys.stderr)
        return []
    flags = ["-O3", "-Wall", "-Werror", "-Wno-unreachable-code", "-Wno-unused-function"]
    directives = {"boundscheck": False, "wraparound": False, "cdivision": True,
                  "initializedcheck": False}
    built = []
    for name, src, extra, *libs in EXTENSIONS:
        if not os.path.exists(src):
            continue
        ext = Extension(name, [src], extra_compile_args=flags + extra,
                        libraries=list(libs[0]) if libs else [])
        try:  # one module's Cython error drops only that module to its pure twin
            built += cythonize([ext], language_level=3, quiet=True, compiler_directives=directives)
        except Exception as exc:
            print(f"strato: {name} failed to cythonize ({exc}); that hot path uses its "
                  "pure-Python twin.", file=sys.stderr)
    return built


class OptionalBuildExt(build_ext):
    """Build the extensions, but fall back to pure Python if the compiler is missing or fails."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler at all: the build fails before compiling anything
            print(PURE_MESSAGE.format(f"the native build failed: {exc}"), file=sys.stderr)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"strato: {ext.name} failed to compile ({exc}); that hot path uses its "
                  "pure-Python twin, the other modules are built.", file=sys.stderr)
            # Forget it, so the editable install does not try to copy an output that is not there.
            self.extensions = [e for e in self.extensions if e is not ext]


RUNTIME = [
    # proxy/httpserver.py wraps aiohttp's RequestHandler internals: the tested minor only.
    "aiohttp>=3.14,<3.15",
    "xxhash>=3.4",
    "lmdb>=1.4",
    "uvloop>=0.19; sys_platform != 'win32'",
    "tomli-w>=1.0",
    "cryptography>=42",
    "argon2-cffi>=23.1",
    "psutil>=5.9",
    "crc32c>=2.4",  # native/_checksum_py's CRC32C when the compiled module is absent (iSCSI digests)
]

TEST = [
    "pytest>=8",
    "pytest-asyncio>=0.23",
    "pytest-timeout>=2.3",
    "pytest-benchmark>=4",
    "hypothesis>=6.100",
    "boto3>=1.36",
    "awscli>=1.36",
    "python-swiftclient>=4.5",
    "s3cmd>=2.3",  # tests/compat/s3/test_s3_s3cmd.py drives the real s3cmd
    "python-openstackclient>=7.0",
    "requests>=2.31",
    "crc32c>=2.4",
    "cython>=3.0",
]

setup(
    name="strato",
    version="0.1.0",
    description="Object (Swift + S3) and block (Cinder + iSCSI) storage core with a Cython fast path",
    python_requires=">=3.11",
    packages=find_packages(include=["strato*", "ring*", "objectserver*", "proxy*", "blockserver*",
                                    "native*", "identity*", "compute*", "network*"]),
    package_data={"native": ["*.pyx", "*.pxd", "*.h"]},
    install_requires=RUNTIME,
    extras_require={"test": TEST},
    ext_modules=native_extensions(),
    cmdclass={"build_ext": OptionalBuildExt},
    entry_points={"console_scripts": ["strato = strato.cli:main"]},
    zip_safe=False,
)
