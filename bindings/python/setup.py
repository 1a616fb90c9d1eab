"""Build the C extension ipcbroker._ipcbroker against libipcbroker.

Where the library comes from, in this order:

- ``IPCBROKER_BUILD_DIR``: an ipcbroker build directory (where ``make``
  ran; libtool puts the library in its ``.libs``). The header comes from
  ``IPCBROKER_INCLUDE_DIR``, else from ``include/`` two levels above this file
  (the source tree this package is part of). The extension gets an rpath to
  the build directory, so that it runs without installing the library: for
  development and ``make check`` only, never for a package you ship.
- ``IPCBROKER_INCLUDE_DIR`` / ``IPCBROKER_LIBRARY_DIR``: explicit directories.
- ``pkg-config ipcbroker`` (an installed library, e.g. under /usr/local:
  set ``PKG_CONFIG_PATH`` if its .pc file is not found).
- Otherwise the compiler's default paths and ``-lipcbroker``.
"""
import os
import shlex
import subprocess

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def pkg_config(*args):
    """The words pkg-config prints for ARGS, or None when it cannot tell."""
    try:
        out = subprocess.run(["pkg-config", *args, "ipcbroker"], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return shlex.split(out)


def library_flags():
    """include_dirs, library_dirs, runtime_library_dirs, extra compile args, extra link args."""
    build = os.environ.get("IPCBROKER_BUILD_DIR")
    include = os.environ.get("IPCBROKER_INCLUDE_DIR")
    libdir = os.environ.get("IPCBROKER_LIBRARY_DIR")
    if build:
        build = os.path.abspath(build)
        libs = os.path.join(build, ".libs")
        if not os.path.exists(os.path.join(libs, "libipcbroker.so")):
            raise SystemExit(f"IPCBROKER_BUILD_DIR={build}: no .libs/libipcbroker.so there (run make first)")
        include = include or os.path.join(HERE, "..", "..", "include")
        if not os.path.exists(os.path.join(include, "ipcbroker.h")):
            raise SystemExit(f"no ipcbroker.h in {include}: set IPCBROKER_INCLUDE_DIR to the source tree's include/")
        return [include], [libs], [libs], [], []
    if include or libdir:
        return [include] if include else [], [libdir] if libdir else [], [], [], []
    cflags, libs = pkg_config("--cflags"), pkg_config("--libs")
    if cflags is not None and libs is not None:
        # its -I and -L directories before the compiler's own, so that they win over another copy
        return (
            [f[2:] for f in cflags if f.startswith("-I")],
            [f[2:] for f in libs if f.startswith("-L")],
            [],
            [f for f in cflags if not f.startswith("-I")],
            [f for f in libs if not f.startswith(("-L", "-lipcbroker"))],
        )
    return [], [], [], [], []


include_dirs, library_dirs, rpath, cflags, ldflags = library_flags()

setup(
    packages=["ipcbroker"],
    # only what is named here: no source-control or MANIFEST.in lookups, so that
    # the build also works from a read-only source tree (make distcheck)
    include_package_data=False,
    package_data={"ipcbroker": ["py.typed", "*.pyi"]},
    ext_modules=[
        Extension(
            "ipcbroker._ipcbroker",
            sources=["ipcbroker/_ipcbroker.c"],
            include_dirs=include_dirs,
            library_dirs=library_dirs,
            runtime_library_dirs=rpath,
            libraries=["ipcbroker"],
            extra_compile_args=[
                "-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Wformat=2", "-Wvla", "-Wpointer-arith",
                "-Wno-unused-parameter", "-Wno-missing-field-initializers", *cflags,
            ],
            extra_link_args=ldflags,
        )
    ],
)
