"""The build step of the cairn package: bundle libcairn.so.0.

The package is pure Python over ctypes, but it carries its own copy of
the library so that an installed package needs nothing else. build_py
copies, into the package:

  - the library CAIRN_LIBRARY names, when set (a build made elsewhere:
    a sanitizer build, a packager's), else
  - the tree's own, after 'make -C <top of the cairn tree> libcairn.so.0'
    (this directory is contrib/python of that tree).

Everything else is in pyproject.toml.
"""

import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

from setuptools.command.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SONAME = "libcairn.so.0"


def library():
    """The path of the libcairn.so.0 to bundle, built if need be."""
    given = os.environ.get("CAIRN_LIBRARY")
    if given:
        if not os.path.isfile(given):
            raise SetupError("CAIRN_LIBRARY=%s: no such file" % given)
        return given
    if not os.path.isfile(os.path.join(TOP, "include", "cairn.h")):
        raise SetupError(
            "cannot build %s: %s is not the top of a cairn source tree; build "
            "from contrib/python of a clone, or set CAIRN_LIBRARY to a built "
            "%s" % (SONAME, TOP, SONAME))
    try:
        subprocess.run(["make", "-C", TOP, SONAME], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SetupError("'make -C %s %s' failed (%s); 'make deps-check' there "
                         "names what is missing" % (TOP, SONAME, e))
    return os.path.join(TOP, SONAME)


class BuildPy(build_py):
    def run(self):
        super().run()
        # an editable install imports the package from this directory
        dest = HERE if self.editable_mode else self.build_lib
        self.copy_file(library(), os.path.join(dest, "cairn", SONAME))


class BdistWheel(bdist_wheel):
    """Pure Python, but it holds a Linux shared object: py3-none-<platform>,
    never py3-none-any."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        return ("py3", "none", super().get_tag()[2])


setup(cmdclass={"build_py": BuildPy, "bdist_wheel": BdistWheel})
