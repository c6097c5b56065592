#!/usr/bin/env bash
# GPS integration tests: a real gpsd fed by gpsfake with the recorded NMEA
# logs in ../shared/datasets/nmea, on a loopback port.
# usage: test_gps.sh BUILD_DIR SCENARIO   (positions | restart | nofix | doctor | garbage)
set -euo pipefail
B=$1
scenario=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
LPR=$B/tool/lpr
DATA=${LPR_DATASETS:-$here/../../../shared/datasets}/nmea
T=$(mktemp -d /tmp/lpr-gps.XXXXXX)
PIDS=()
cleanup() {
  # gpsfake does not always die on SIGTERM, and would go on feeding (and
  # loading the machine) after the test: kill it and its gpsd outright
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  pkill -9 -f "gpsfake.*-P $PORT" 2>/dev/null || true
  pkill -9 -f "gpsd.*-S $PORT" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL [gps $scenario]: $*" >&2; exit 1; }
PORT=$(free_port)
fake() { # LOG [CYCLE]: gpsfake in the background on PORT
  gpsfake -1 -q -P "$PORT" -c "${2:-0.02}" "$1" >> "$T/gpsfake.log" 2>&1 &
  PIDS+=($!)
  disown $!   # killed at cleanup: no job-status noise
}

# The lines of an NMEA log before its first fix (RMC status A or GGA
# quality above 0): the MT3301 log starts without one.
before_first_fix() {
  python3 - "$1" <<'PY'
import sys
for line in open(sys.argv[1], errors="replace"):
    f = line.split(",")
    if (f[0].endswith("RMC") and len(f) > 2 and f[2] == "A") or \
       (f[0].endswith("GGA") and len(f) > 6 and f[6] not in ("", "0")):
        break
    sys.stdout.write(line)
PY
}

case $scenario in
positions)
  # every position gpsd reports equals one of the logged RMC/GGA fixes (1e-6 deg)
  log=$DATA/quectel-l76k-nmea.log
  "$LPR" gps --nmea "$log" --json > "$T/logged.jsonl" 2> /dev/null
  fake "$log"
  timeout 60 "$LPR" gps --server "127.0.0.1:$PORT" --json --count 60 --timeout 30 > "$T/gpsd.jsonl" ||
    fail "client got $(wc -l < "$T/gpsd.jsonl") reports"
  python3 - "$T/logged.jsonl" "$T/gpsd.jsonl" <<'PY' || exit 1
import json, sys
logged = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
pos = {(round(f["location"]["lat"], 6), round(f["location"]["lon"], 6), f["time"]) for f in logged}
where = {k[:2] for k in pos}
fixes = [g for g in got if g["location"]["fix"] in ("2d", "3d")]
if len(fixes) < 30:
    sys.exit("FAIL: only %d fixes from gpsd" % len(fixes))
# gpsd may send a TPV whose cycle has a position but no time yet (fed at
# 50 Hz on a loaded machine it sometimes does): its position must still be
# a logged one, and the client prints its time as "-", never a made-up one
untimed = 0
for g in fixes:
    key = (round(g["location"]["lat"], 6), round(g["location"]["lon"], 6), g["time"])
    if g["time"] == "-":
        untimed += 1
        if key[:2] not in where:
            sys.exit("FAIL: untimed gpsd position %s not among the logged fixes" % (key[:2],))
    elif key not in pos:
        sys.exit("FAIL: gpsd position %s not among the logged fixes" % (key,))
if untimed * 2 > len(fixes):
    sys.exit("FAIL: %d of %d gpsd fixes without time" % (untimed, len(fixes)))
for g in got:
    loc = g["location"]
    if loc["fix"] == "none" and ("lat" in loc or "lon" in loc):
        sys.exit("FAIL: a no-fix report carries coordinates: %s" % g)
print("%d gpsd fixes, all equal to logged RMC/GGA positions and times (%d without time)" % (len(fixes), untimed))
PY
  ;;
restart)
  log=$DATA/quectel-l76k-nmea.log
  fake "$log" 0.05
  timeout 90 "$LPR" gps --server "127.0.0.1:$PORT" --json --count 80 --timeout 60 > "$T/out.jsonl" 2> "$T/err" &
  CLIENT=$!
  for _ in $(seq 1 100); do [ "$(wc -l < "$T/out.jsonl")" -ge 10 ] && break; sleep 0.1; done
  before=$(wc -l < "$T/out.jsonl")
  [ "$before" -ge 10 ] || fail "no reports before the restart"
  pkill -9 -f "gpsfake.*-P $PORT"; pkill -9 -f "gpsd.*-S $PORT" || true
  sleep 2
  mid=$(wc -l < "$T/out.jsonl")
  fake "$log" 0.05
  wait $CLIENT || fail "client did not resume: $(wc -l < "$T/out.jsonl") reports; $(cat "$T/err")"
  grep -q "went away; reconnecting" "$T/err" || fail "the loss of gpsd was not logged: $(cat "$T/err")"
  echo "reports: $before before kill, $mid while down, 80 after gpsd came back"
  ;;
nofix)
  # the MT3301 log starts without a fix (RMC V, GGA quality 0)
  before_first_fix "$DATA/mtk-3301.log" > "$T/nofix.log"
  grep -q ',V,' "$T/nofix.log" || fail "test log has no V sentences"
  "$LPR" gps --nmea "$T/nofix.log" --json > "$T/replay.jsonl" 2> "$T/replay.err"
  [ ! -s "$T/replay.jsonl" ] || fail "fixes from a log without fix: $(head -1 "$T/replay.jsonl")"
  fake "$T/nofix.log" 0.05
  timeout 30 "$LPR" gps --server "127.0.0.1:$PORT" --json --count 3 --timeout 20 > "$T/out.jsonl" || true
  [ -s "$T/out.jsonl" ] || fail "no report from gpsd"
  ! grep -q '"fix":"[23]d"' "$T/out.jsonl" || fail "a fix reported: $(head -1 "$T/out.jsonl")"
  ! grep -q '"lat"' "$T/out.jsonl" || fail "coordinates without a fix: $(head -1 "$T/out.jsonl")"
  echo "no fix: $(head -1 "$T/out.jsonl")"
  ;;
doctor)
  # lpr doctor waits for a fix, report by report: the MT3301 log starts
  # without one (RMC V) and gets it later; the same log cut before its first
  # fix is a FAIL naming the wait. --json gives the same results to scripts.
  printf '[device]\nid = cam-gps\n[camera]\nsource = file:/nonexistent\n[gps]\nserver = 127.0.0.1:%s\n' "$PORT" > "$T/lpr.conf"
  fake "$DATA/mtk-3301.log" 0.05
  "$LPR" doctor --json --config "$T/lpr.conf" > "$T/doc.json" 2> /dev/null || true
  python3 - "$T/doc.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
g = [c for c in d["checks"] if c["check"] == "gps"]
if d["ok"] or len(g) != 1 or not g[0]["ok"] or "after" not in g[0]["detail"]:
    sys.exit("FAIL: doctor --json gps: %s" % d)
print("acquired: " + g[0]["detail"])
PY
  pkill -9 -f "gpsfake.*-P $PORT" 2>/dev/null || true; pkill -9 -f "gpsd.*-S $PORT" 2>/dev/null || true
  sleep 0.5
  before_first_fix "$DATA/mtk-3301.log" > "$T/nofix.log"
  PORT=$(free_port)
  sed -i "s/^server = .*/server = 127.0.0.1:$PORT/" "$T/lpr.conf"
  gpsfake -q -P "$PORT" -c 0.2 "$T/nofix.log" >> "$T/gpsfake.log" 2>&1 &
  PIDS+=($!); disown $!
  rc=0; "$LPR" doctor --config "$T/lpr.conf" > "$T/doc.out" 2> /dev/null || rc=$?
  [ $rc -eq 1 ] && grep -q "^FAIL  gps      gpsd at 127.0.0.1:$PORT reachable, but NO FIX within 10 s" "$T/doc.out" ||
    fail "no fix: $(grep gps "$T/doc.out")"
  grep "^FAIL  gps" "$T/doc.out"
  ;;
garbage)
  { head -c 20000 /dev/urandom; printf '\n$GPRMC,garbage*00\n$GPGGA,1,2,3\n'; head -c 5000 /dev/urandom; } > "$T/garbage.log"
  rc=0; "$LPR" gps --nmea "$T/garbage.log" > "$T/out" 2> "$T/err" || rc=$?
  [ $rc -eq 1 ] || fail "garbage log: exit $rc"
  grep -q "garbage.log: no valid NMEA sentence" "$T/err" || fail "unclear: $(cat "$T/err")"
  # good sentences among bad ones are still read, the bad ones counted
  { head -40 "$DATA/sirfstarv-nmea.log"; head -c 3000 /dev/urandom; echo; sed -n '41,$p' "$DATA/sirfstarv-nmea.log"; } > "$T/mixed.log"
  "$LPR" gps --nmea "$T/mixed.log" --json > "$T/mixed.jsonl" 2> "$T/mixed.err" || fail "mixed log failed"
  [ "$(wc -l < "$T/mixed.jsonl")" -gt 10 ] || fail "fixes lost among garbage"
  # a real gpsd fed garbage: our client stays up and reports nothing false
  fake "$T/garbage.log" 0.01
  timeout 10 "$LPR" gps --server "127.0.0.1:$PORT" --json --count 1 --timeout 5 > "$T/g.jsonl" 2>&1 || true
  ! grep -q '"fix":"[23]d"' "$T/g.jsonl" || fail "a fix from garbage"
  echo "garbage: $(cat "$T/mixed.err")"
  ;;
*) fail "unknown scenario" ;;
esac
echo "PASS [gps $scenario]"
