"""pip install of the mxemu package: the extension is built by the project's own CMake build.

Offline, with Debian's setuptools and wheel (no build isolation, which would download them):

    python3 -m venv --system-site-packages VENV      # NumPy from Debian's python3-numpy
    VENV/bin/pip install --no-build-isolation --no-index ./python

MXEMU_CMAKE_BUILD_DIR=<a configured build tree> reuses that build (target mxemu_python) instead of
configuring a fresh one under pip's build directory. docs/PYTHON.md has the details.
"""

import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def project_version():
    """The version of the CMake project (the top-level CMakeLists.txt)."""
    with open(os.path.join(REPO, "CMakeLists.txt"), encoding="utf-8") as f:
        return re.search(r"project\(mxemu VERSION ([0-9.]+)", f.read()).group(1)


class CMakeBuild(build_ext):
    """Builds mxemu._mxemu with CMake and copies it where setuptools expects the extension."""

    def build_extension(self, ext):
        build_dir = os.path.abspath(os.environ.get("MXEMU_CMAKE_BUILD_DIR") or
                                    os.path.join(self.build_temp, "cmake"))
        if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            subprocess.run(["cmake", "-S", REPO, "-B", build_dir, *generator,
                            "-DCMAKE_BUILD_TYPE=Release", "-DMXEMU_ENABLE_RTL=OFF",
                            "-DMXEMU_PYTHON=ON", f"-DPython3_EXECUTABLE={sys.executable}"],
                           check=True)
        subprocess.run(["cmake", "--build", build_dir, "--target", "mxemu_python", "-j",
                        os.environ.get("JOBS", str(os.cpu_count() or 1))], check=True)
        built = os.path.join(build_dir, "python", self.get_ext_filename(ext.name))
        dest = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(built, dest)


setup(
    name="mxemu",
    version=project_version(),
    description="mxemu: FP8/MX numerics reference and cycle-level accelerator chip from NumPy",
    packages=["mxemu"],
    ext_modules=[Extension("mxemu._mxemu", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.11",
    install_requires=["numpy"],
)
