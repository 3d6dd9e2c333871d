#!/usr/bin/env bash
# Regenerates src/remote/layouts/cpython-X.Y.json from each installed CPython's own headers:
# pyenv builds (3.8-3.13) carry theirs; for Debian's 3.14 and 3.15 the headers of the same
# version come from Debian (probe/debian-headers.sh). With an output directory, writes there
# instead (the test compares that with the committed tables).
#
#   probe/generate.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-src/remote/layouts}
mkdir -p "$out"
root=${PYENV_ROOT:-$HOME/.pyenv}
build=$(mktemp -d); trap 'rm -rf "$build"' EXIT
for minor in 8 9 10 11 12 13 14 15; do
  dir=$(ls -d "$root"/versions/3.$minor.* 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] || { echo "generate: CPython 3.$minor is not installed" >&2; exit 1; }
  full=$(basename "$dir")
  if [ -f "$dir/include/python3.$minor/Python.h" ]; then
    includes=(-I "$dir/include/python3.$minor")
  else
    inc=$(probe/debian-headers.sh "3.$minor" "$full")
    includes=(-I "$inc/python3.$minor" -I "$inc")
  fi
  # The build's own core defines (Debian's 3.14/3.15 enable the JIT: -D_Py_TIER2 changes
  # PyInterpreterState), as its sysconfig records them.
  defines=($("$dir/bin/python3" -c 'import sysconfig; print(sysconfig.get_config_var("PY_CORE_CFLAGS") or "")' |
    tr ' ' '\n' | grep -E '^-D(_?Py_|Py_)' | grep -v '^-DPy_BUILD_CORE' || true))
  cc -Wall -Werror -Wno-deprecated-declarations "${defines[@]}" -o "$build/probe-3.$minor" probe/layout.c "${includes[@]}"
  "$build/probe-3.$minor" >"$out/cpython-3.$minor.json"
  # The table must come from the very build the tests run.
  grep -q "\"python\": \"$full\"" "$out/cpython-3.$minor.json" || {
    echo "generate: headers for 3.$minor are not those of $full" >&2; exit 1; }
done
