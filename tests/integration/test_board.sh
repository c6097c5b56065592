#!/usr/bin/env bash
# board/: systemd-analyze accepts the units (with the built binaries in
# place of the installed paths), and the per-board configs parse.
# usage: test_board.sh BUILD_DIR
set -euo pipefail
B=$1
here=$(cd "$(dirname "$0")/../../board" && pwd)
T=$(mktemp -d /tmp/lpr-board.XXXXXX)
trap 'rm -rf "$T"' EXIT
for u in lprd lpr-uplink; do
  sed -e "s|/usr/sbin/lprd|$B/firmware/lprd|" -e "s|/usr/bin/lpr-uplink|$B/uplink/lpr-uplink|" \
    "$here/systemd/$u.service" > "$T/$u.service"
done
out=$(systemd-analyze verify "$T/lprd.service" "$T/lpr-uplink.service" 2>&1) || {
  echo "FAIL: systemd-analyze verify: $out" >&2; exit 1; }
if [ -n "$out" ]; then echo "FAIL: systemd-analyze warns: $out" >&2; exit 1; fi
# the check must be able to fail: a unit with an unknown key is reported
printf '[Service]\nExecStart=/bin/true\nBogusKey=1\n' > "$T/bad.service"
bad=$(systemd-analyze verify "$T/bad.service" 2>&1 || true)
echo "$bad" | grep -q "Unknown key 'BogusKey'" || { echo "FAIL: verify missed a bad unit: $bad" >&2; exit 1; }
for k in ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes "CapabilityBoundingSet=$" Restart=on-failure ReadWritePaths=/var/lib/lpr; do
  for u in lprd lpr-uplink; do
    grep -q "^$k" "$here/systemd/$u.service" || { echo "FAIL: $u.service lacks $k" >&2; exit 1; }
  done
done
grep -q '^WatchdogSec=' "$here/systemd/lprd.service" && grep -q '^Type=notify' "$here/systemd/lprd.service" &&
  grep -q '^DeviceAllow=char-video4linux' "$here/systemd/lprd.service" || { echo "FAIL: lprd unit" >&2; exit 1; }
for conf in "$here"/rpi/lpr.conf "$here"/jetson/lpr.conf; do
  "$B/firmware/lprd" --check --config "$conf"
done
echo "PASS [board]"
