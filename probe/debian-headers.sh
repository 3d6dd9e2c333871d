#!/usr/bin/env bash
# Fetches the C headers of Debian's CPython X.Y (libpython X.Y-dev, from Debian's unstable
# suite, the same archive tools/install-pythons.sh installs the interpreter from) into
# target/headers/X.Y.Z, for the layout probe. Prints the include directory; a no-op when the
# headers of that exact version are there.
#
#   probe/debian-headers.sh 3.14 3.14.10
set -euo pipefail
cd "$(dirname "$0")/.."
minor=${1:?usage: debian-headers.sh X.Y X.Y.Z} full=${2:?usage: debian-headers.sh X.Y X.Y.Z}
dest=target/headers/$full
if [ -f "$dest/usr/include/python$minor/Python.h" ]; then
  echo "$dest/usr/include"; exit 0
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
archive=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$archive" ] || archive=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$archive" ] || { echo "debian-headers: no Debian archive in the apt sources" >&2; exit 1; }
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $archive sid main" >"$work/sources.list"
opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Dir::State::status=/dev/null"
  -o "APT::Sandbox::User=root" -q)
apt-get "${opts[@]}" update >/dev/null
got=$(apt-cache "${opts[@]}" show "libpython$minor-dev" | awk '/^Version:/ {print $2; exit}')
[ "${got%%-*}" = "$full" ] || { echo "debian-headers: Debian has libpython$minor-dev $got, not $full" >&2; exit 1; }
(cd "$work/debs" && apt-get "${opts[@]}" download "libpython$minor-dev" >/dev/null)
rm -rf "$dest"; mkdir -p "$dest"
dpkg-deb -x "$work"/debs/*.deb "$dest"
echo "$dest/usr/include"
