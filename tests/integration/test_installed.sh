#!/usr/bin/env bash
# The package tested as installed, not from the build tree: the .deb built
# by cpack is installed with dpkg into this machine's own root, seen through
# overlays in a private mount namespace (so the machine is left as it was),
# with the source and build trees hidden. Then, as the field guide says:
# `lpr provision` as root, the fleet CA signs the CSR, `lpr doctor` passes,
# and lprd and lpr-uplink run as their service users with their units'
# User=, Group=, UMask= and Environment= (setpriv) against a TLS mosquitto
# on 127.0.0.1, replaying an H.264 MP4, with the installed lpr-ingest as
# the store (its receipts let the unit delete). Checks: reads arrive, verify
# and are stored once,
# the installed lpr reads the footage exactly as the build tree does (the
# shipped models are found), files have the owners and modes that let both
# users work, and provoked faults each give one line naming the cause.
# usage: test_installed.sh BUILD_DIR   (a build without sanitizers; root)
set -euo pipefail
B=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
  echo "SKIP: needs root and mount namespaces (dpkg into an overlay of /)"; exit 77
fi
scratch lpr-inst installed certs
chmod 755 "$T"

# the package, footage (H.264 in MP4, encoded with plugins-bad's openh264enc)
# and what the build tree reads in it
(cd "$B" && cpack -G DEB -B "$T/pkg" > "$T/cpack.log" 2>&1) || fail "cpack: $(tail -3 "$T/cpack.log")"
deb=$(ls "$T"/pkg/lpr-edge_*.deb)
mkdir -p "$T/frames" "$T/footage"
"$B/tests/render_video" "$T/frames" 3 12 20 > "$T/cars.txt"
gst-launch-1.0 -q multifilesrc location="$T/frames/frame%05d.jpg" index=0 \
  caps=image/jpeg,framerate=10/1 ! jpegdec ! videoconvert ! openh264enc ! h264parse ! mp4mux ! \
  filesink location="$T/footage/clip.mp4" > "$T/enc.log" 2>&1 || fail "encode: $(tail -2 "$T/enc.log")"
chmod 644 "$T/footage/clip.mp4"
texts() { python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["plate"]["text"] for l in open(sys.argv[1]) if l.strip())))' "$1"; }
"$B/tool/lpr" replay --fixed 47.6,-122.3 --speed max --spool "$T/ref.db" "$T/footage/clip.mp4" \
  > "$T/ref.jsonl" 2> /dev/null
ref=$(texts "$T/ref.jsonl")
[ -n "$ref" ] || fail "the build tree reads nothing in the footage"

make_certs "$T/certs"
PORT=$(free_port)
start_broker "$T/certs" "$PORT"
mosquitto_sub -h localhost -p "$PORT" -V 5 --cafile "$T/certs/ca.crt" --cert "$T/certs/store.crt" \
  --key "$T/certs/store.key" -q 1 -t 'lpr/v1/+/read' -F '%P\t%x' > "$T/store.out" 2> /dev/null &
PIDS+=($!)
sleep 0.5

cat > "$T/inner.sh" <<'INNER'
set -euo pipefail
fail() { echo "FAIL [installed]: $*" >&2; exit 1; }
cd "$T" # the build tree (ctest's working folder) is hidden below
# writes go to tmpfs-backed overlays of /etc, /usr and /var: the machine stays as it was
mkdir -p "$T/ov" && mount -t tmpfs tmpfs "$T/ov"
for d in etc usr var; do
  mkdir -p "$T/ov/$d/u" "$T/ov/$d/w"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ov/$d/u,workdir=$T/ov/$d/w" "/$d"
done
mount -t tmpfs tmpfs "$SRC"
case $B in "$SRC"/*) ;; *) mount -t tmpfs tmpfs "$B" ;; esac
[ ! -e "$SRC/ocr/models/lpr-read.nn" ] || fail "source tree still visible"

# 1. install (the postinst makes the users and the spool folder)
dpkg -i "$DEB" > "$T/dpkg.log" 2>&1 || fail "dpkg -i: $(grep -i 'depend\|error' "$T/dpkg.log" | head -3)"
id lpr-camera > /dev/null && id lpr-uplink > /dev/null || fail "postinst made no service users"
[ "$(stat -c '%U:%G %a' /var/lib/lpr)" = "root:lpr 2770" ] || fail "/var/lib/lpr is $(stat -c '%U:%G %a' /var/lib/lpr)"

# 2. provision as root, as the field guide says, into the package's lpr.conf
kid=$(lpr provision --device-id cam-inst --out /etc/lpr --broker localhost 2> "$T/prov.err") ||
  fail "provision: $(cat "$T/prov.err")"
# the device key seals reads in lprd (the camera's user); the TLS key is the uplink's
for f in device.key:lpr-camera device-tls.key:lpr-uplink; do
  [ "$(stat -c '%U:%G %a' "/etc/lpr/${f%%:*}")" = "${f#*:}:lpr 600" ] ||
    fail "${f%%:*} is $(stat -c '%U:%G %a' "/etc/lpr/${f%%:*}")"
done
[ "$(stat -c '%U:%G %a' /etc/lpr/lpr.conf)" = "root:lpr 640" ] || fail "lpr.conf is $(stat -c '%U:%G %a' /etc/lpr/lpr.conf)"
grep -q '^exposure_us = 800' /etc/lpr/lpr.conf && grep -q '^id = cam-inst' /etc/lpr/lpr.conf ||
  fail "provision did not keep the board's config and set the id: $(cat /etc/lpr/lpr.conf)"
# the fleet CA signs the CSR; the tech sets the camera, the site and the port
openssl x509 -req -in /etc/lpr/device.csr -CA "$T/certs/ca.crt" -CAkey "$T/certs/ca.key" \
  -CAcreateserial -days 400 -out /etc/lpr/device.crt 2> /dev/null
cp "$T/certs/ca.crt" /etc/lpr/fleet-ca.crt
chmod 644 /etc/lpr/device.crt /etc/lpr/fleet-ca.crt
python3 - "$T" "$PORT" <<'PY'
import re, sys
t, port = sys.argv[1], sys.argv[2]
s = open("/etc/lpr/lpr.conf").read()
s = re.sub(r"(?m)^source = .*$", "source = file:%s/footage/clip.mp4" % t, s)
s = re.sub(r"(?m)^server = .*$", "fixed = 47.6,-122.3", s)
s = re.sub(r"(?m)^port = 8883$", "port = %s" % port, s)
s = re.sub(r"(?m)^health_interval_s = .*$", "health_interval_s = 1", s)
open("/etc/lpr/lpr.conf", "w").write(s)
PY
# the store: the installed lpr-ingest, with the unit's public key registered
mkdir -p "$T/store-keys"
cp /etc/lpr/device.pub.pem "$T/store-keys/cam-inst.pub.pem"
lpr-ingest --host localhost --port "$PORT" --ca "$T/certs/ca.crt" --cert "$T/certs/store.crt" \
  --key "$T/certs/store.key" --keys "$T/store-keys" --db "$T/store.db" 2> "$T/ingest.log" &
ING=$!
trap 'kill $ING 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "subscribed to" "$T/ingest.log" && break; sleep 0.1; done
grep -q "subscribed to" "$T/ingest.log" || fail "lpr-ingest: $(tail -2 "$T/ingest.log")"

# 3. nothing made a spool yet (a root-owned one would lock lprd out)
rc=0; lpr spool stats --spool /var/lib/lpr/spoool.db > /dev/null 2> "$T/typo.err" || rc=$?
[ $rc -eq 1 ] && [ "$(grep -c . "$T/typo.err")" -eq 1 ] && grep -q "spoool.db: no spool there" "$T/typo.err" &&
  [ ! -e /var/lib/lpr/spoool.db ] || fail "stats of a mistyped spool: rc $rc: $(cat "$T/typo.err")"
# every check passes but the clock, which is this machine's own: a test
# machine need not be synchronised, and the package (built without
# LPR_TEST_HOOKS) ignores LPR_TIME_SOURCE, so no one fakes a unit's clock
lpr doctor --config /etc/lpr/lpr.conf > "$T/doctor.out" 2>&1 || true
grep -q "^PASS  keys" "$T/doctor.out" && ! grep "^FAIL" "$T/doctor.out" | grep -vq "^FAIL  clock    not synchronised" ||
  fail "doctor: $(grep -v ^PASS "$T/doctor.out")"
LPR_TIME_SOURCE=gps lpr doctor --config /etc/lpr/lpr.conf > "$T/doctor-env.out" 2>&1 || true
[ "$(grep "^[A-Z]*  clock" "$T/doctor.out")" = "$(grep "^[A-Z]*  clock" "$T/doctor-env.out")" ] ||
  fail "LPR_TIME_SOURCE changed the installed doctor's clock: $(grep clock "$T/doctor-env.out")"
grep -q "^PASS  models   .* from /usr/share/lpr-edge/models load" "$T/doctor.out" || fail "models: $(grep models "$T/doctor.out")"
grep -q "^PASS  spool    .*not made yet.*by lpr-camera and lpr-uplink" "$T/doctor.out" || fail "spool: $(grep spool "$T/doctor.out")"
[ ! -e /var/lib/lpr/spool.db ] || fail "doctor made the spool"

# 4. the daemons as their units run them
unit() { # UNIT KEY: a [Service] value of the installed unit
  sed -n "s/^$2=//p" "/usr/lib/systemd/system/$1.service" | head -1
}
run_as_unit() { # UNIT [extra args]: ExecStart as User/Group/UMask/Environment say
  local u=$1; shift
  local user group mask envs exec
  user=$(unit "$u" User); group=$(unit "$u" Group); mask=$(unit "$u" UMask)
  envs=$(unit "$u" Environment); exec=$(unit "$u" ExecStart)
  [ -n "$user" ] && [ -n "$group" ] && [ -n "$mask" ] || fail "$u.service lacks User/Group/UMask"
  # shellcheck disable=SC2086
  (umask "$mask"; env $envs setpriv --reuid="$user" --regid="$group" --init-groups -- $exec "$@")
}
# before lprd ever ran, the fleet sees the unit degraded, and why (the
# uplink starting first makes the spool: the camera's user must still write it)
( umask 0007; exec setpriv --reuid=lpr-uplink --regid=lpr --init-groups -- \
    lpr-uplink --config /etc/lpr/lpr.conf ) 2> "$T/uplink0.log" &
up=$!
sleep 2
st=$(mosquitto_sub -h localhost -p "$PORT" -V 5 --cafile "$T/certs/ca.crt" --cert "$T/certs/store.crt" \
       --key "$T/certs/store.key" -t lpr/v1/cam-inst/status -C 1 -W 3 2>/dev/null || true)
kill -TERM $up; wait $up || fail "lpr-uplink exit on SIGTERM: $(tail -2 "$T/uplink0.log")"
echo "$st" | grep -q '"state":"degraded".*"problems":\["camera: lprd has left no heartbeat' ||
  fail "before lprd: status $st"
run_as_unit lprd 2> "$T/lprd.log" || fail "lprd as lpr-camera: $(tail -3 "$T/lprd.log")"
grep -q "read cam-inst-[0-9a-f]\{16\}-1 " "$T/lprd.log" || fail "lprd made no read: $(tail -3 "$T/lprd.log")"
[ "$(stat -c '%U:%G %a' /var/lib/lpr/spool.db)" = "lpr-uplink:lpr 660" ] ||
  fail "spool.db is $(stat -c '%U:%G %a' /var/lib/lpr/spool.db)"
run_as_unit lpr-uplink --once 2> "$T/uplink.log" || fail "lpr-uplink as lpr-uplink: $(tail -3 "$T/uplink.log")"
[ "$(lpr spool stats --spool /var/lib/lpr/spool.db | awk '$1=="depth"{print $2}')" -eq 0 ] ||
  fail "reads left in the spool"
cp /etc/lpr/device.pub.pem "$T/device.pub.pem"
echo "$kid" > "$T/kid"

# a SIGHUP with a config lprd would refuse keeps the running one
cp /etc/lpr/lpr.conf "$T/file.conf"
sed -i "s|^source = .*|source = gst:videotestsrc is-live=true pattern=black ! video/x-raw,width=640,height=480,framerate=10/1|" /etc/lpr/lpr.conf
run_as_unit lprd 2> "$T/lprd-hup.log" &
d=$!
for _ in $(seq 1 100); do grep -q "device cam-inst camera" "$T/lprd-hup.log" && break; sleep 0.1; done
sed -i 's/^fixed = .*/fixed = 47.6,abc/' /etc/lpr/lpr.conf
pkill -HUP -f "^/usr/sbin/lprd --config /etc/lpr/lpr.conf" || fail "no lprd to signal"
for _ in $(seq 1 100); do grep -q "not reloaded" "$T/lprd-hup.log" && break; sleep 0.1; done
grep -q "lpr.conf:[0-9]*: \[gps\] fixed: '47.6,abc'" "$T/lprd-hup.log" && kill -0 $d ||
  fail "SIGHUP with a bad config: $(tail -3 "$T/lprd-hup.log")"
pkill -TERM -f "^/usr/sbin/lprd --config /etc/lpr/lpr.conf"
rc=0; wait $d || rc=$?
[ $rc -eq 0 ] || fail "lprd exit $rc on SIGTERM after the refused reload"
cp "$T/file.conf" /etc/lpr/lpr.conf

# 5. the installed lpr reads the footage as the build tree does
lpr replay --fixed 47.6,-122.3 --speed max --spool "$T/inst.db" "$T/footage/clip.mp4" > "$T/inst.jsonl" 2> /dev/null

# 6. provoked: a key root took back; the camera's user cannot seal reads with it
chown root /etc/lpr/device.key
rc=0; run_as_unit lprd 2> "$T/keyown.err" || rc=$?
[ $rc -eq 1 ] && grep -q "device.key: owned by root (uid 0), but this runs as lpr-camera" "$T/keyown.err" ||
  fail "key of root: rc $rc: $(cat "$T/keyown.err")"
rc=0; lpr doctor --config /etc/lpr/lpr.conf > "$T/doctor2.out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "^FAIL  keys     signing key: /etc/lpr/device.key is root:lpr 0600: lpr-camera cannot read it" "$T/doctor2.out" ||
  fail "doctor with a key of root: $(grep keys "$T/doctor2.out")"
grep "owned by root" "$T/keyown.err" | head -1 > "$T/keyown.line"
chown lpr-camera /etc/lpr/device.key

# 7. provoked, each one line naming the cause, no read lost:
# a shipped model missing from the install
mv /usr/share/lpr-edge/models/lpr-read.nn "$T/lpr-read.nn"
rc=0; lpr doctor --config /etc/lpr/lpr.conf > "$T/doctor3.out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "^FAIL  models   the shipped lpr-read.nn is not installed" "$T/doctor3.out" ||
  fail "doctor without lpr-read.nn: $(grep models "$T/doctor3.out")"
mv "$T/lpr-read.nn" /usr/share/lpr-edge/models/lpr-read.nn
# a spool the uplink's user may not write (as SQLite alone made it: 0640)
printf '{"observed_at":"2026-12-01T00:00:00.000Z","plate":{"text":"KEEP1","confidence":95}}\n' |
  setpriv --reuid=lpr-camera --regid=lpr --init-groups -- lpr spool push --config /etc/lpr/lpr.conf > /dev/null
# (the uplink made spool.db, so it is the camera's user that a 0640 file locks out)
chmod 640 /var/lib/lpr/spool.db
rc=0; lpr doctor --config /etc/lpr/lpr.conf > "$T/doctor4.out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "^FAIL  spool    /var/lib/lpr/spool.db is lpr-uplink:lpr 0640: lpr-camera cannot write it" "$T/doctor4.out" ||
  fail "doctor with a 0640 spool: $(grep spool "$T/doctor4.out")"
chmod 660 /var/lib/lpr/spool.db
# the certificate of another device: the broker's ACL refuses our prefix
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=cam-wrong" \
  -keyout "$T/wrong.key" -out "$T/wrong.csr" 2> /dev/null
openssl x509 -req -in "$T/wrong.csr" -CA "$T/certs/ca.crt" -CAkey "$T/certs/ca.key" -CAcreateserial \
  -days 400 -out "$T/wrong.crt" 2> /dev/null
cp /etc/lpr/device.crt "$T/right.crt"; cp /etc/lpr/device-tls.key "$T/right.key"
install -m 0644 "$T/wrong.crt" /etc/lpr/device.crt
install -m 0600 -o lpr-uplink -g lpr "$T/wrong.key" /etc/lpr/device-tls.key
rc=0; lpr doctor --config /etc/lpr/lpr.conf > "$T/doctor5.out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "^FAIL  cert     .*is for CN 'cam-wrong', but \[device\] id is 'cam-inst'" "$T/doctor5.out" &&
  grep -q "^FAIL  broker   .*was refused: Not authorized (reason 135)" "$T/doctor5.out" ||
  fail "doctor with another device's certificate: $(grep -E 'cert|broker' "$T/doctor5.out")"
( umask 0007; timeout -s TERM 5 setpriv --reuid=lpr-uplink --regid=lpr --init-groups -- \
    lpr-uplink --config /etc/lpr/lpr.conf ) 2> "$T/refused.err" || true
[ "$(grep -c "refused read seq .*Not authorized (reason 135)" "$T/refused.err")" -eq 1 ] ||
  fail "refused reads: $(head -5 "$T/refused.err")"
[ "$(lpr spool stats --spool /var/lib/lpr/spool.db | awk '$1=="depth"{print $2}')" -eq 1 ] || fail "a refused read was lost"
install -m 0644 "$T/right.crt" /etc/lpr/device.crt
install -m 0600 -o lpr-uplink -g lpr "$T/right.key" /etc/lpr/device-tls.key
run_as_unit lpr-uplink --once 2> "$T/uplink3.log" || fail "uplink after the fix: $(tail -2 "$T/uplink3.log")"
[ "$(lpr spool stats --spool /var/lib/lpr/spool.db | awk '$1=="depth"{print $2}')" -eq 0 ] || fail "KEEP1 not delivered"
# lprd --check: a bad fixed position, with its file and line
cp /etc/lpr/lpr.conf "$T/good.conf"
sed -i 's/^fixed = .*/fixed = 47.6,abc/' /etc/lpr/lpr.conf
rc=0; lprd --check --config /etc/lpr/lpr.conf 2> "$T/check.err" || rc=$?
[ $rc -eq 1 ] && [ "$(grep -c . "$T/check.err")" -eq 1 ] && grep -q "/etc/lpr/lpr.conf:[0-9]*: .*fixed" "$T/check.err" ||
  fail "lprd --check with fixed = 47.6,abc: rc $rc: $(cat "$T/check.err")"
cp "$T/good.conf" /etc/lpr/lpr.conf
# --config-only: the config for the keys already there, same key id
kid2=$(lpr provision --config-only --device-id cam-inst --out /etc/lpr 2> /dev/null) || fail "--config-only failed"
[ "$kid2" = "$kid" ] || fail "--config-only changed the key id: $kid2"
grep -q '^port = ' /etc/lpr/lpr.conf && grep -q "^source = file:$T/footage/clip.mp4" /etc/lpr/lpr.conf ||
  fail "--config-only lost the tech's settings"
kill $ING; wait $ING || true
echo "degraded status before lprd; SIGHUP with a bad config keeps running; doctor: models, spool 0640, another device's certificate; uplink refused; lprd --check; --config-only" > "$T/provoked"
INNER
host_before=$(dpkg-query -W -f='${Status}' lpr-edge 2>/dev/null || true; getent passwd lpr-uplink || true)
T=$T SRC=$src B=$B DEB=$deb PORT=$PORT unshare -m --propagation private bash "$T/inner.sh"
host_after=$(dpkg-query -W -f='${Status}' lpr-edge 2>/dev/null || true; getent passwd lpr-uplink || true)
[ "$host_before" = "$host_after" ] || fail "the install leaked out of its overlay: $host_after"
sleep 1
"$B/tool/lpr" verify --pub "$T/device.pub.pem" "$T/store.out" > "$T/verify.out" ||
  fail "reads do not verify: $(grep -m3 INVALID "$T/verify.out")"
n=$(awk '$1=="valid"{print $2}' "$T/verify.out" | sort -u | wc -l)
[ "$n" -ge 1 ] || fail "no read reached the store"
stored=$(python3 -c 'import sqlite3, sys; print(*sqlite3.connect(sys.argv[1]).execute("SELECT count(*), count(DISTINCT id), sum(instr(CAST(payload AS TEXT), \"KEEP1\") > 0) FROM reads").fetchone())' "$T/store.db")
[ "$stored" = "$n $n 1" ] || fail "lpr-ingest stored (reads, ids, KEEP1) $stored, want $n reads, KEEP1 among them"
inst=$(texts "$T/inst.jsonl")
[ "$inst" = "$ref" ] || fail "installed lpr reads '$inst', the build tree '$ref'"
echo "installed: $(basename "$deb"); provisioned cam-inst (kid $(cat "$T/kid")); lprd as lpr-camera and"
echo "  lpr-uplink as lpr-uplink delivered $n reads lprd sealed, each stored once by the installed lpr-ingest"
echo "  and deleted on its receipt; installed lpr replay reads '$inst' as the build tree"
echo "  a key of root: $(cat "$T/keyown.line")"
echo "  provoked, one line each: $(cat "$T/provoked")"
echo "PASS [installed]"
