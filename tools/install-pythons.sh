#!/usr/bin/env bash
# Gets the CPythons pymem's tests run on into pyenv's versions folder ($PYENV_ROOT/versions,
# where tests/it/common.rs looks): every version _facts.py lists (3.8-3.15), or those named.
#
#   tools/install-pythons.sh              # all of them
#   tools/install-pythons.sh 3.14 3.15    # some
#
# - Up to 3.13: `pyenv install` builds the newest release (pyenv must be installed and
#   python.org reachable).
# - 3.14 and later: Debian's own build, from Debian's unstable suite (the archive this
#   machine's apt already uses). Its packages and the C libraries it links against are
#   unpacked into versions/3.X.Y; the interpreter's ELF loader and library path are then
#   pointed at that folder (patchelf), so the system's libraries are neither used nor
#   replaced. pip and venv work as in any pyenv build.
#
# A version already there is left alone. Prints the interpreter of each version, one a line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${PYENV_ROOT:-$HOME/.pyenv}
facts=python/pymem_agent/_facts.py
first=$(sed -n 's/^FIRST_MINOR = \([0-9][0-9]*\)$/\1/p' "$facts")
last=$(sed -n 's/^LAST_MINOR = \([0-9][0-9]*\)$/\1/p' "$facts")
if [ $# -eq 0 ]; then
  set -- $(for m in $(seq "$first" "$last"); do echo "3.$m"; done)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

installed() { # the newest interpreter of 3.X under pyenv that runs, or nothing
  local d
  for d in $(ls -d "$root"/versions/"$1".* 2>/dev/null | sort -V -r); do
    if [ -x "$d/bin/python3" ] && "$d/bin/python3" -c 'import ctypes, ssl, sqlite3' 2>/dev/null; then
      echo "$d/bin/python3"
      return
    fi
  done
}

from_pyenv() {
  command -v pyenv >/dev/null || { echo "install-pythons: $1 needs pyenv (https://github.com/pyenv/pyenv)" >&2; exit 1; }
  PYENV_ROOT=$root pyenv install --skip-existing "$1" >&2
}

from_debian() {
  local want=$1 py=python$1 tmp=$work/$1 archive version full prefix lib f
  command -v patchelf >/dev/null || apt-get install -y -qq patchelf >/dev/null
  # apt, pointed at Debian's unstable suite with state of its own, so the system's package
  # lists and installed packages are untouched: only downloads.
  archive=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$archive" ] || archive=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$archive" ] || { echo "install-pythons: $want needs Debian's packages, and apt names no Debian archive" >&2; exit 1; }
  mkdir -p "$tmp/state/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs" "$tmp/tree"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $archive sid main" >"$tmp/sid.list"
  local apt=(-q -o "Dir::Etc::sourcelist=$tmp/sid.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$tmp/state/lists" -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$tmp/cache" -o "APT::Sandbox::User=root")
  apt-get "${apt[@]}" update >/dev/null
  version=$(apt-cache "${apt[@]}" show "$py-minimal" | awk '/^Version:/ {print $2; exit}')
  [ -n "$version" ] || { echo "install-pythons: Debian has no $py" >&2; exit 1; }
  full=${version%%-*}
  # The interpreter, its standard library and venv, pip's wheels, and every shared library
  # the interpreter or a stdlib extension loads (glibc too: unstable's is newer).
  local packages=("$py" "$py-minimal" "lib$py" "lib$py-minimal" "lib$py-stdlib" "$py-venv"
    python3-pip-whl python3-setuptools-whl media-types
    libc6 libgcc-s1 libstdc++6 zlib1g libbz2-1.0 liblzma5 libzstd1 libexpat1 libffi8 libmpdec4
    libssl3t64 libsqlite3-0 libncursesw6 libtinfo6 libreadline8t64 libuuid1 libgdbm6t64 libdb5.3t64)
  local p
  for p in "${packages[@]}"; do
    (cd "$tmp/debs" && apt-get "${apt[@]}" download "$p" >/dev/null 2>&1) ||
      echo "install-pythons: $py: Debian has no $p, left out" >&2
  done
  for f in "$tmp"/debs/*.deb; do dpkg-deb -x "$f" "$tmp/tree"; done
  prefix=$root/versions/$full
  rm -rf "$prefix"
  mkdir -p "$prefix"
  cp -a "$tmp/tree/usr/." "$prefix/"
  if [ -d "$tmp/tree/etc" ]; then cp -a "$tmp/tree/etc" "$prefix/etc"; fi
  lib=$prefix/lib/x86_64-linux-gnu
  patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --set-rpath "$lib" "$prefix/bin/$py"
  find "$prefix/lib/$py" -name '*.so' -print0 | while IFS= read -r -d '' f; do
    patchelf --set-rpath "$lib" "$f"
  done
  for f in "$lib"/*.so*; do
    case $(basename "$f") in ld-linux* | libc.so* | libm.so*) continue ;; esac
    if [ ! -L "$f" ]; then patchelf --set-rpath "$lib" "$f" 2>/dev/null || true; fi
  done
  ln -sf "$py" "$prefix/bin/python3"
  ln -sf "$py" "$prefix/bin/python"
  # Debian's ensurepip (which venv runs) takes pip's wheel from /usr/share/python-wheels.
  if [ -d "$prefix/share/python-wheels" ]; then
    mkdir -p /usr/share/python-wheels
    cp -n "$prefix"/share/python-wheels/*.whl /usr/share/python-wheels/ 2>/dev/null || true
  fi
  "$prefix/bin/python3" -c 'import ctypes, ssl, sqlite3, sys; assert "%d.%d" % sys.version_info[:2] == sys.argv[1]' "$want"
}

for want in "$@"; do
  case $want in
    3.[0-9] | 3.[0-9][0-9]) ;;
    *) echo "install-pythons: $want: give versions as 3.X" >&2; exit 2 ;;
  esac
  if [ -z "$(installed "$want")" ]; then
    if [ "${want#3.}" -ge 14 ]; then from_debian "$want"; else from_pyenv "$want"; fi
  fi
  found=$(installed "$want")
  [ -n "$found" ] || { echo "install-pythons: CPython $want did not install" >&2; exit 1; }
  echo "$found"
done
