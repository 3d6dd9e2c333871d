#!/usr/bin/env bash
# Installs Python packages the tests need for one interpreter into a directory of their own
# (put on PYTHONPATH by the tests), with pip from a throwaway venv: Debian's builds of 3.14
# and 3.15 ship no pip of their own, and no interpreter's site-packages is touched.
#
#   tests/py/install-deps.sh PYTHON DIR PACKAGE...
set -euo pipefail
python=$1 dir=$2
shift 2
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
"$python" -m venv "$venv/env" >/dev/null
"$venv/env/bin/python" -m pip install --quiet --disable-pip-version-check \
  --target "$dir.partial" "$@"
rm -rf "$dir"
mv "$dir.partial" "$dir"
