#!/usr/bin/env bash
# board/: systemd-analyze accepts the units (with the built binaries in
# place of the installed paths), the per-board configs parse, and the .deb
# CPack makes holds what a board needs.
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
# one spool folder for two users: no StateDirectory= (systemd would chown it
# to the last unit started); libcamera's dma-heap class, not its folder
for u in lprd lpr-uplink; do
  ! grep -q '^StateDirectory' "$here/systemd/$u.service" || { echo "FAIL: $u.service has StateDirectory=" >&2; exit 1; }
done
grep -q '^DeviceAllow=char-dma_heap rw' "$here/systemd/lprd.service" &&
  ! grep -q '^DeviceAllow=/dev/dma_heap' "$here/systemd/lprd.service" || { echo "FAIL: lprd dma_heap" >&2; exit 1; }
# the Jetson drop-in applies to the unit and opens Argus' /tmp socket
mkdir -p "$T/lprd.service.d"; cp "$here/jetson/lprd.service.d/jetson.conf" "$T/lprd.service.d/"
out=$(systemd-analyze verify "$T/lprd.service" 2>&1) && [ -z "$out" ] || { echo "FAIL: jetson drop-in: $out" >&2; exit 1; }
grep -q '^PrivateTmp=no' "$here/jetson/lprd.service.d/jetson.conf" || { echo "FAIL: jetson drop-in" >&2; exit 1; }
# --check loads the device key lprd seals reads with: an unprovisioned board
# config (no /etc/lpr/device.key) fails with one line naming it, and the
# board configs are otherwise checked with a key made here
rc=0; kout=$("$B/firmware/lprd" --check --config "$here/rpi/lpr.conf" 2>&1) || rc=$?
[ $rc -eq 1 ] && [ "$(echo "$kout" | grep -c .)" -eq 1 ] &&
  echo "$kout" | grep -q "signing key /etc/lpr/device.key: No such file or directory" ||
  { echo "FAIL: rpi config without its key: rc $rc: $kout" >&2; exit 1; }
mkdir -p "$T/keys" && "$B/tool/lpr" keygen --out "$T/keys" > /dev/null
for b in rpi jetson; do
  sed "s|^sign_key = .*|sign_key = $T/keys/device.key|" "$here/$b/lpr.conf" > "$T/$b.conf"
done
"$B/firmware/lprd" --check --config "$T/rpi.conf"
# --check also builds the capture pipeline: off a Jetson the only fault in the
# Jetson config must be the missing Argus element, named with its package
if gst-inspect-1.0 nvarguscamerasrc > /dev/null 2>&1; then
  "$B/firmware/lprd" --check --config "$T/jetson.conf"
else
  jout=$("$B/firmware/lprd" --check --config "$T/jetson.conf" 2>&1) &&
    { echo "FAIL: jetson config checked ok without nvarguscamerasrc" >&2; exit 1; }
  echo "$jout" | grep -q "no element 'nvarguscamerasrc' (install the Jetson's nvidia-l4t-gstreamer)" &&
    [ "$(echo "$jout" | grep -c .)" -eq 1 ] || { echo "FAIL: jetson --check: $jout" >&2; exit 1; }
fi
# the .deb: programs, units, a conffile, declared dependencies, the postinst
(cd "$B" && cpack -G DEB -B "$T/pkg" > "$T/cpack.log" 2>&1) || { echo "FAIL: cpack: $(tail -3 "$T/cpack.log")" >&2; exit 1; }
deb=$(ls "$T"/pkg/lpr-edge_*.deb)
dpkg-deb -I "$deb" > "$T/info"
dpkg-deb -c "$deb" > "$T/contents"
for f in ./usr/bin/lpr ./usr/bin/lpr-uplink ./usr/sbin/lprd ./etc/lpr/lpr.conf \
         ./usr/lib/systemd/system/lprd.service ./usr/lib/systemd/system/lpr-uplink.service \
         ./usr/share/lpr-edge/models/lpr-chars.clf ./usr/share/lpr-edge/models/lpr-verify.nn \
         ./usr/share/lpr-edge/models/lpr-read.nn ./usr/share/lpr-edge/models/lpr-confidence.nn; do
  grep -q " $f\$" "$T/contents" || { echo "FAIL: .deb lacks $f" >&2; exit 1; }
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/lpr/lpr.conf || { echo "FAIL: lpr.conf is not a conffile" >&2; exit 1; }
for dep in libtesseract5 libgps28 libpaho-mqtt1.3 libmbedcrypto7 libsqlite3-0 tesseract-ocr-eng; do
  grep -q "Depends:.*$dep" "$T/info" || { echo "FAIL: .deb does not depend on $dep" >&2; exit 1; }
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst | grep -q "useradd --system -g lpr -G video .* lpr-camera" ||
  { echo "FAIL: postinst does not create the camera user" >&2; exit 1; }
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst | grep -q "install -d -m 2770 -o root -g lpr /var/lib/lpr" ||
  { echo "FAIL: postinst does not make the shared spool folder" >&2; exit 1; }
mkdir -p "$T/root"; dpkg-deb -x "$deb" "$T/root"
"$T/root/usr/bin/lpr" --version | grep -q '^lpr ' || { echo "FAIL: packaged lpr does not run" >&2; exit 1; }
# cmake --install (a build on the board) puts the programs where the units
# start them, and a second install keeps the tech's lpr.conf
DESTDIR="$T/inst" cmake --install "$B" > "$T/install.log" 2>&1 || { echo "FAIL: cmake --install: $(tail -3 "$T/install.log")" >&2; exit 1; }
for u in lprd lpr-uplink; do
  unitf=$(find "$T/inst" -name "$u.service" | head -1)
  exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unitf")
  [ -x "$T/inst$exe" ] || { echo "FAIL: $u.service starts $exe, which cmake --install did not install" >&2; exit 1; }
done
echo "site = edited" >> "$T/inst/etc/lpr/lpr.conf"
DESTDIR="$T/inst" cmake --install "$B" > "$T/install2.log" 2>&1
tail -1 "$T/inst/etc/lpr/lpr.conf" | grep -q "site = edited" || { echo "FAIL: cmake --install overwrote lpr.conf" >&2; exit 1; }
echo "deb: $(basename "$deb"), $(grep -c . "$T/contents") entries, conffile /etc/lpr/lpr.conf"
echo "PASS [board]"
