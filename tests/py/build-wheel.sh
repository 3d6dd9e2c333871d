#!/usr/bin/env bash
# Builds pymem's wheel with maturin (from PyPI) into target/wheels/ and prints its path.
# maturin, and pipx and uv (which the wheel tests install it with), are installed into a
# venv of their own, target/tools, the first time. The build has a target directory of its
# own (target/wheel-build): the wheel leaves out the default feature (the benchmarks'
# generator), and sharing target/release would rebuild it at every switch.
#
#   tests/py/build-wheel.sh            # PYMEM_TOOLS_PYTHON picks the tools' interpreter
set -euo pipefail
cd "$(dirname "$0")/../.."
tools=target/tools
if [ ! -x "$tools/bin/maturin" ] || [ ! -x "$tools/bin/pipx" ] || [ ! -x "$tools/bin/uv" ]; then
  rm -rf "$tools"
  "${PYMEM_TOOLS_PYTHON:-python3}" -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin==1.16.0" "pipx==1.18.4" "uv==0.13.9"
fi
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
rm -f target/wheels/pymem-"$version"-*.whl
"$tools/bin/maturin" build --release --quiet --compatibility manylinux_2_34 \
  --target-dir target/wheel-build --out target/wheels >&2
ls target/wheels/pymem-"$version"-*.whl
