#!/bin/sh
# fetch-nspawn.sh [dir]: prints the path of a systemd-nspawn for the systemd
# tier, fetching Debian's systemd-container package into <dir> (default
# ${XDG_CACHE_HOME:-~/.cache}/overseer/systemd-container) if it is not there
# yet. The package is extracted (dpkg-deb -x), never installed: nothing of
# the host changes but apt's package lists.
#
# nspawn links the installed systemd's private library, so the package of
# the installed version is preferred; when the archive no longer has it (a
# point release replaced it), the current one of the same major version is
# taken (libsystemd-shared-<major>.so is what it links).
set -eu
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/overseer/systemd-container}
nspawn=$dir/usr/bin/systemd-nspawn
if [ -x "$nspawn" ]; then echo "$nspawn"; exit 0; fi

installed=$(dpkg-query -W -f='${Version}' systemd)
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
cd "$debs"
apt-get update -qq >&2
# (apt warns that it downloads "unsandboxed as root": its _apt user cannot
# write into this root-only directory. Harmless.)
apt-get download -qq "systemd-container=$installed" >/dev/null 2>&1 || apt-get download -qq systemd-container >&2
fetched=$(dpkg-deb -f systemd-container_*.deb Version)
if [ "${fetched%%.*}" != "${installed%%.*}" ]; then
  echo "fetch-nspawn: systemd-container $fetched does not match the installed systemd $installed" >&2
  exit 1
fi
mkdir -p "$dir"
dpkg-deb -x systemd-container_*.deb "$dir"
"$nspawn" --version >/dev/null
echo "$nspawn"
