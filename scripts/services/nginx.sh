#!/usr/bin/env bash
# Debian's nginx for the e2e test of the documented micro-cache (docs/CACHING.md).
#
#   scripts/services/nginx.sh install|check|packages
#
#   install   apt-get install nginx-light (when missing)
#   check     print the nginx version (fails loudly if it does not run)
#   packages  print the Debian packages `install` would install
#
# The test starts its own nginx on a free port with a configuration in a
# temporary folder; nothing here starts or configures a system nginx (where
# the package's own service starts at install, on a systemd machine, its
# default site listens on port 80 until stopped).

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=_lib.sh
. "$HERE/_lib.sh"

PACKAGES=(nginx-light)

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

case "${1:-}" in
    install) apt_install "${PACKAGES[@]}" ;;
    packages) missing_packages "${PACKAGES[@]}" ;;
    check) /usr/sbin/nginx -v ;;
    *) usage ;;
esac
