#!/usr/bin/env bash
# Integration tests of the uplink against a real mosquitto with TLS on
# 127.0.0.1 (started here, with certificates made here by openssl).
# usage: test_uplink.sh BUILD_DIR SCENARIO
# Scenarios: drain, broker-restart, kill9, concurrent, tls, quota, keyperm,
# acl, shared, store-restart, badconfig, status, insecure, doctor, provision,
# refused, locked, watchdog, broker-crash, fulldisk, verify, sealed, quarantine,
# receipts, receipts-crash, receipts-overflow, no-store, ingest-keys,
# ingest-postgres.
# Most scenarios' store is mosquitto_sub, which sends no receipts: their
# devices run with delete_on = puback. The receipt scenarios run the store
# the project ships, lpr-ingest, and the default delete_on = receipt.
set -euo pipefail
B=$1
scenario=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
LPR=$B/tool/lpr
UPLINK=$B/uplink/lpr-uplink
scratch lpr-it '$scenario' .

# a device here deletes on PUBACK unless the scenario says receipt (its
# config's later lines win)
eval "$(declare -f write_config | sed '1s/^write_config/lib_write_config/')"
write_config() { lib_write_config "$1" "$2" "$3" "uplink.delete_on=puback" "${@:4}"; }

make_certs "$T"
PORT=$(free_port)
for dev in cam-test cam-other; do
  mkdir -p "$T/keys-$dev"
  "$LPR" keygen --out "$T/keys-$dev" > "$T/keys-$dev/kid"
  write_config "$T" "$PORT" "$dev"
done
INGEST=$B/ingest/lpr-ingest
DB=$T/store.db
# the store's database: SQL on it (python3's sqlite3; no CLI needed)
sql() { python3 -c 'import sqlite3, sys; [print(*r, sep="\t") for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]' "$DB" "$1"; }
by_receipt() { write_config "$T" "$PORT" cam-test "uplink.delete_on=receipt" "uplink.receipt_timeout_s=${1:-60}"; }
CONF=$T/cam-test.conf
SPOOL=$T/cam-test-spool.db
PUB=$T/keys-cam-test/device.pub.pem

# gen_reads N [START]: JSON reads as the camera writes them (without seq/id)
gen_reads() {
  python3 - "$1" "${2:-0}" <<'PY'
import json, sys
n, start = int(sys.argv[1]), int(sys.argv[2])
for i in range(start, start + n):
    print(json.dumps({"observed_at": "2026-11-26T06:00:00.000Z", "time_source": "gps",
                      "plate": {"text": "T%06d" % i, "confidence": 91.5, "region": "us"},
                      "location": {"lat": 47.6, "lon": -122.3, "fix": "3d"},
                      "images": {"plate_jpeg": "QUJD" * 100}}, separators=(",", ":")))
PY
}
push() { "$LPR" spool push --config "$CONF" > /dev/null; }
depth() { "$LPR" spool stats --spool "$SPOOL" | awk '$1=="depth"{print $2}'; }
stat_of() { "$LPR" spool stats --spool "$SPOOL" | awk -v k="$1" '$1==k{print $2}'; }
# distinct ids received, from a subscriber's output file
ids_of() { "$LPR" verify --pub "$PUB" "$1" | awk '$1=="valid"{print $2}' | sort -u; }
start_sub() { # OUT [extra mosquitto_sub args]: runs until killed
  local out=$1; shift
  mosquitto_sub -h localhost -p "$PORT" -V 5 --cafile "$T/ca.crt" --cert "$T/store.crt" \
    --key "$T/store.key" -q 1 -F '%P\t%x' "$@" >> "$out" 2>>"$out.err" &
  PIDS+=($!)
  sleep 0.5
}
# distinct payloads received (cheap: no signature check; ids_of checks)
count_distinct() { cut -f2 "$1" 2>/dev/null | sort -u | wc -l; }
wait_count() { # FILE N TIMEOUT_S: until FILE has >= N distinct payloads
  for _ in $(seq 1 $(($3 * 5))); do
    [ "$(count_distinct "$1")" -ge "$2" ] && return 0
    sleep 0.2
  done
  return 1
}

case $scenario in
drain)
  start_broker "$T" "$PORT"
  gen_reads 10000 | push
  [ "$(depth)" -eq 10000 ] || fail "spool depth $(depth), want 10000"
  start_sub "$T/sub.out" -t 'lpr/v1/+/read'
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink.log" || fail "uplink failed: $(tail -3 "$T/uplink.log")"
  wait_count "$T/sub.out" 10000 60 || fail "only $(count_distinct "$T/sub.out") of 10000 arrived"
  "$LPR" verify --pub "$PUB" "$T/sub.out" > "$T/verify.out" || fail "$(grep -m3 INVALID "$T/verify.out")"
  [ "$(awk '$1=="valid"{print $2}' "$T/verify.out" | sort -u | wc -l)" -eq 10000 ] || fail "ids not distinct"
  [ "$(depth)" -eq 0 ] || fail "spool not empty after PUBACKs: $(depth)"
  # the signature checks with plain openssl, over the exact payload bytes
  head -1 "$T/sub.out" | cut -f2 | xxd -r -p > "$T/payload.json"
  head -1 "$T/sub.out" | cut -f1 | tr ' ' '\n' | sed -n 's/^sig://p' | base64 -d > "$T/sig.der"
  openssl dgst -sha256 -verify "$PUB" -signature "$T/sig.der" "$T/payload.json" | grep -q 'Verified OK' ||
    fail "openssl does not verify the signature"
  # a tampered payload fails
  sed 's/T0/X0/' "$T/payload.json" > "$T/tampered.json"
  ! openssl dgst -sha256 -verify "$PUB" -signature "$T/sig.der" "$T/tampered.json" >/dev/null 2>&1 ||
    fail "tampered payload verified"
  tail -1 "$T/verify.out"
  ;;
broker-restart)
  start_broker "$T" "$PORT" true
  gen_reads 4000 | push
  start_sub "$T/sub.out" -t 'lpr/v1/+/read' -c -i store-restart
  SUBPID=${PIDS[-1]}
  "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  for _ in $(seq 1 100); do [ "$(depth)" -lt 3500 ] && break; sleep 0.05; done
  stop_broker "$T"
  before=$(depth)
  gen_reads 500 4000 | push     # the camera keeps spooling meanwhile
  sleep 1
  start_broker "$T" "$PORT" true
  # the store comes back on its persistent session, as a store's supervisor
  # brings it back. Seen twice: every read acknowledged, the spool drained,
  # and the subscriber had nothing after the stop; most likely mosquitto_sub
  # quit instead of reconnecting (libmosquitto's loop_forever gives up on a
  # TLS error, which a shutdown that cuts a record mid-stream can give)
  if ! kill -0 "$SUBPID" 2>/dev/null; then
    echo "the store's subscriber quit at the broker's shutdown ($(tail -1 "$T/sub.out.err")): restarted"
    start_sub "$T/sub.out" -t 'lpr/v1/+/read' -c -i store-restart
  fi
  for _ in $(seq 1 300); do [ "$(depth)" -eq 0 ] && break; sleep 0.1; done
  [ "$(depth)" -eq 0 ] || fail "spool not drained after the broker came back: $(depth)"
  wait_count "$T/sub.out" 4500 30 || fail "lost reads: $(count_distinct "$T/sub.out") of 4500 arrived"
  kill -TERM $UP; wait $UP || true
  [ "$(ids_of "$T/sub.out" | wc -l)" -eq 4500 ] || fail "not all 4500 ids verify"
  grep -q "connection to .* lost" "$T/uplink.log" || fail "no disconnect logged"
  echo "broker stopped with $before spooled; all 4500 arrived"
  ;;
kill9)
  start_broker "$T" "$PORT"
  gen_reads 5000 | push
  start_sub "$T/sub.out" -t 'lpr/v1/+/read'
  "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!
  for _ in $(seq 1 200); do [ "$(depth)" -lt 3000 ] && break; sleep 0.02; done
  kill -9 $UP; wait $UP 2>/dev/null || true
  echo "killed with $(depth) spooled"
  "$UPLINK" --config "$CONF" --once 2>> "$T/uplink.log" || fail "restart failed"
  wait_count "$T/sub.out" 5000 60 || fail "lost reads: $(count_distinct "$T/sub.out") of 5000"
  [ "$(ids_of "$T/sub.out" | wc -l)" -eq 5000 ] || fail "not all 5000 ids verify"
  # duplicates only as the same id with the same bytes and signature
  dup_ids=$(cut -f2 "$T/sub.out" | sort | uniq -d | wc -l)
  conflicting=$(awk -F'\t' '{print $2}' "$T/sub.out" | sort -u | wc -l)
  [ "$conflicting" -eq 5000 ] || fail "the same id arrived with different bytes ($conflicting payloads)"
  "$LPR" verify --pub "$PUB" --quiet "$T/sub.out" > /dev/null || fail "invalid signatures"
  echo "all 5000 arrived, $dup_ids resent as exact duplicates"
  ;;
concurrent)
  secs=${LPR_SOAK_S:-60}
  start_broker "$T" "$PORT"
  start_sub "$T/sub.out" -t 'lpr/v1/+/read'
  "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  n=0; end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do gen_reads 50 $n | push; n=$((n + 50)); sleep 0.2; done
  for _ in $(seq 1 300); do [ "$(depth)" -eq 0 ] && break; sleep 0.1; done
  wait_count "$T/sub.out" $n 60 || fail "lost reads: $(count_distinct "$T/sub.out") of $n"
  [ "$(ids_of "$T/sub.out" | wc -l)" -eq $n ] || fail "not all $n ids verify"
  kill -TERM $UP; wait $UP || true
  echo "$n reads appended over ${secs}s while draining; all arrived"
  ;;
tls)
  start_broker "$T" "$PORT"
  gen_reads 20 | push
  check_refused() { # NAME CONFIG EXPECT_LOG
    timeout -s TERM 6 "$UPLINK" --config "$2" 2> "$T/$1.log" || true
    grep -qi "$3" "$T/$1.log" || fail "$1: want a log line matching '$3', got: $(cat "$T/$1.log")"
    [ "$(depth)" -eq 20 ] || fail "$1: reads left the spool ($(depth) remain)"
    echo "$1: $(grep -i -m1 "$3" "$T/$1.log")"
  }
  write_config "$T" "$PORT" cam-test "uplink.ca=$T/other-ca.crt"
  check_refused wrong-ca "$CONF" "server certificate not trusted with CA"
  write_config "$T" "$PORT" cam-test "uplink.host=127.0.0.1"
  check_refused wrong-host "$CONF" "does not match host name '127.0.0.1'"
  write_config "$T" "$PORT" cam-test "uplink.cert=$T/expired.crt" "uplink.key=$T/expired.key"
  check_refused expired-cert "$CONF" "client certificate .* has expired"
  write_config "$T" "$PORT" cam-test
  "$UPLINK" --config "$CONF" --once 2> "$T/ok.log" || fail "good config failed"
  [ "$(depth)" -eq 0 ] || fail "good config did not drain"
  ;;
quota)
  start_broker "$T" "$PORT"
  write_config "$T" "$PORT" cam-test "spool.max_mb=0.2"
  gen_reads 1000 | push 2> "$T/push.log"
  dropped=$(stat_of dropped); d=$(depth); dbb=$(stat_of db_bytes)
  [ "$dropped" -gt 0 ] || fail "nothing dropped at 0.2 MB"
  [ $((d + dropped)) -eq 1000 ] || fail "depth $d + dropped $dropped != 1000"
  [ "$dbb" -le $((210 * 1024)) ] || fail "db uses $dbb bytes over a 0.2 MB quota"
  grep -q "quota reached" "$T/push.log" || fail "drop not logged"
  # the oldest went: the first remaining seq is dropped+1
  "$LPR" spool export --spool "$SPOOL" > "$T/export.jsonl"
  first=$(head -1 "$T/export.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
  [ "$first" -eq $((dropped + 1)) ] || fail "first remaining seq $first, want $((dropped + 1))"
  # health reports it
  start_sub "$T/health.out" -t 'lpr/v1/cam-test/health' -C 1 -F '%p'
  timeout -s TERM 4 "$UPLINK" --config "$CONF" 2> "$T/uplink.log" || true
  grep -q "\"dropped\":$dropped" "$T/health.out" || fail "health lacks dropped=$dropped: $(cat "$T/health.out")"
  # age quota
  write_config "$T" "$PORT" cam-test "spool.max_age_days=0.00002"
  gen_reads 5 | push 2>/dev/null; sleep 2.5; gen_reads 1 | push 2>/dev/null
  [ "$(depth)" -eq 1 ] || fail "age quota: depth $(depth), want 1"
  echo "size quota dropped $dropped (counted, logged, in health); age quota dropped old reads"
  ;;
broker-crash)
  # issue 15: the broker kept queued messages in memory between 30-minute
  # snapshots; killed while the store was offline it lost 2000 of 2000
  # reads the device had already deleted on PUBACK. The shipped config
  # saves every 100 changes: a SIGKILL loses at most those with
  # delete_on = puback (here); receipts cover them (receipts-crash).
  start_broker "$T" "$PORT" true
  start_sub "$T/s.out" -t 'lpr/v1/+/read' -c -i store-persist
  SUBPID=${PIDS[-1]}
  kill $SUBPID; wait $SUBPID 2>/dev/null || true   # the store is offline, its session kept
  gen_reads 2000 | push
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink.log" || fail "uplink: $(tail -3 "$T/uplink.log")"
  [ "$(depth)" -eq 0 ] || fail "not all acknowledged"
  kill -9 "$(cat "$T/broker.pid")"; wait "$(cat "$T/broker.pid")" 2>/dev/null || true
  rm -f "$T/broker.pid"
  start_broker "$T" "$PORT" true
  start_sub "$T/s.out" -t 'lpr/v1/+/read' -c -i store-persist
  wait_count "$T/s.out" 1900 60 || true
  sleep 1
  got=$(ids_of "$T/s.out" | wc -l)
  [ "$got" -ge 1900 ] || fail "the broker's crash lost $((2000 - got)) of 2000 queued reads (at most 100 expected)"
  echo "broker SIGKILLed with 2000 reads queued for an offline store: $got delivered after its restart ($((2000 - got)) lost)"
  ;;
receipts)
  # issue 15: the device deletes a read only on the store's receipt. 3000
  # reads through lpr-ingest: each stored once, all verified, the spool
  # empty only once the receipts came; a redelivery is counted, not stored
  by_receipt
  start_broker "$T" "$PORT"
  start_ingest "$T" "$PORT" "$INGEST" "$DB"
  gen_reads 3000 | push
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink.log" || fail "uplink: $(tail -3 "$T/uplink.log")"
  [ "$(depth)" -eq 0 ] || fail "spool not empty: $(depth)"
  [ "$(sql 'SELECT count(*), count(DISTINCT id) FROM reads')" = "$(printf '3000\t3000')" ] ||
    fail "store has $(sql 'SELECT count(*), count(DISTINCT id) FROM reads') reads, ids"
  grep -q "stopped: 3000 sent, 3000 confirmed by the store" "$T/uplink.log" ||
    fail "uplink: $(grep stopped "$T/uplink.log")"
  # the stored bytes verify with openssl against the registered key
  python3 - "$DB" "$T" <<'PY'
import sqlite3, sys
db, t = sys.argv[1], sys.argv[2]
p, s = sqlite3.connect(db).execute("SELECT payload, sig FROM reads ORDER BY seq LIMIT 1").fetchone()
open(t + "/p.json", "wb").write(p); open(t + "/p.sig", "wb").write(s)
PY
  openssl dgst -sha256 -verify "$T/store-keys/cam-test.pub.pem" -signature "$T/p.sig" "$T/p.json" |
    grep -q "Verified OK" || fail "a stored read does not verify with openssl"
  # the same reads again (a device restored from a backup of its spool):
  # the store keeps one of each and counts the repeats
  python3 - "$DB" "$SPOOL" <<'PY'
import sqlite3, sys
st, sp = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
cols = [r[1] for r in sp.execute("PRAGMA table_info(reads)")]
rows = st.execute("SELECT seq, id, payload, sig, kid FROM reads ORDER BY seq LIMIT 50").fetchall()
sp.executemany("INSERT INTO reads(seq, id, created_ms, payload, sig, kid) VALUES(?, ?, 0, ?, ?, ?)", rows)
sp.commit()
PY
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink2.log" || fail "uplink again: $(tail -3 "$T/uplink2.log")"
  kill -TERM "$(cat "$T/ingest.pid")"; wait "$(cat "$T/ingest.pid")" || true
  [ "$(sql 'SELECT count(*) FROM reads')" -eq 3000 ] || fail "a repeat was stored twice"
  [ "$(sql "SELECT value FROM counters WHERE name='repeats'")" -eq 50 ] ||
    fail "repeats counted: $(sql 'SELECT * FROM counters')"
  grep "lpr-ingest: received" "$DB.log"
  ;;
receipts-crash)
  # issue 15, 1.: a broker SIGKILLed while the store is offline loses the
  # reads queued since its last save; with receipts the device still has
  # them and sends them again: all 2000 reach the store's database once
  by_receipt 2
  start_broker "$T" "$PORT" true
  start_ingest "$T" "$PORT" "$INGEST" "$DB" --client-id store-1
  kill -TERM "$(cat "$T/ingest.pid")"; wait "$(cat "$T/ingest.pid")" 2>/dev/null || true # its session stays
  gen_reads 2000 | push
  "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  for _ in $(seq 1 200); do grep -q "no receipt from the store" "$T/uplink.log" && break; sleep 0.1; done
  grep -q "no receipt from the store for read seq 1 " "$T/uplink.log" || fail "no wait for receipts logged: $(tail -3 "$T/uplink.log")"
  [ "$(depth)" -eq 2000 ] || fail "reads left the spool without a receipt: $(depth)"
  kill -9 "$(cat "$T/broker.pid")"; wait "$(cat "$T/broker.pid")" 2>/dev/null || true
  rm -f "$T/broker.pid"
  start_broker "$T" "$PORT" true
  start_ingest "$T" "$PORT" "$INGEST" "$DB" --client-id store-1
  for _ in $(seq 1 600); do [ "$(depth)" -eq 0 ] && break; sleep 0.1; done
  [ "$(depth)" -eq 0 ] || fail "spool not drained after the store came back: $(depth)"
  kill -TERM $UP; wait $UP || true
  [ "$(sql 'SELECT count(*), count(DISTINCT id) FROM reads')" = "$(printf '2000\t2000')" ] ||
    fail "store has $(sql 'SELECT count(*), count(DISTINCT id) FROM reads') reads, ids"
  echo "broker SIGKILLed with 2000 reads for an offline store: 2000 of 2000 stored once; $(sql "SELECT value FROM counters WHERE name='repeats'") repeats on the wire"
  ;;
receipts-overflow)
  # issue 15, 1.: the store's queue at the broker overflowed while it was
  # offline (here 100 messages) and the broker dropped 800 of 1000 reads
  # after it had acknowledged them. With receipts the device still has
  # them: all 1000 reach the store, once
  by_receipt 2
  BROKER_CONF="max_queued_messages=100" start_broker "$T" "$PORT" true
  start_ingest "$T" "$PORT" "$INGEST" "$DB" --client-id store-1
  kill -TERM "$(cat "$T/ingest.pid")"; wait "$(cat "$T/ingest.pid")" 2>/dev/null || true
  gen_reads 1000 | push
  "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  for _ in $(seq 1 100); do grep -q "no receipt from the store" "$T/uplink.log" && break; sleep 0.1; done
  start_ingest "$T" "$PORT" "$INGEST" "$DB" --client-id store-1
  for _ in $(seq 1 600); do [ "$(depth)" -eq 0 ] && break; sleep 0.1; done
  [ "$(depth)" -eq 0 ] || fail "spool not drained: $(depth)"
  kill -TERM $UP; wait $UP || true
  [ "$(sql 'SELECT count(*), count(DISTINCT id) FROM reads')" = "$(printf '1000\t1000')" ] ||
    fail "store has $(sql 'SELECT count(*), count(DISTINCT id) FROM reads') reads, ids"
  echo "store queue of 100 at the broker, 1000 reads while the store was offline: 1000 stored once"
  ;;
ingest-postgres)
  # the store that outgrows one machine: lpr-ingest on PostgreSQL, two
  # instances sharing the reads (a shared subscription) and one database;
  # every read stored once, repeats counted, receipts as with SQLite
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
  [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || { echo "SKIP: no PostgreSQL server (postgresql-15)"; exit 77; }
  # a throwaway cluster in the scratch folder, run by a user that is not
  # root (PostgreSQL refuses root), on a Unix socket only
  PGU=$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)
  chmod 711 "$T"
  mkdir -p "$T/pg" && chown "$PGU" "$T/pg"
  runuser -u "$PGU" -- "$PGBIN/initdb" -D "$T/pg/data" -A trust -U lpr > "$T/initdb.log" 2>&1 ||
    fail "initdb: $(tail -2 "$T/initdb.log")"
  runuser -u "$PGU" -- "$PGBIN/pg_ctl" -D "$T/pg/data" -o "-k $T/pg -h '' -p 5432" -l "$T/pg/log" -w start > /dev/null ||
    fail "postgres: $(tail -2 "$T/pg/log")"
  PIDS+=("$(head -1 "$T/pg/data/postmaster.pid")")
  runuser -u "$PGU" -- "$PGBIN/createdb" -h "$T/pg" -U lpr store
  psql() { "$PGBIN/psql" -h "$T/pg" -U lpr -d store -tA -F ' ' -c "$1"; }
  URI="postgresql://lpr@/store?host=$T/pg"
  by_receipt
  start_broker "$T" "$PORT"
  INGEST_LOG=$T/ingest-a start_ingest "$T" "$PORT" "$INGEST" "$URI" --client-id store-a
  A=$(cat "$T/ingest.pid")
  INGEST_LOG=$T/ingest-b start_ingest "$T" "$PORT" "$INGEST" "$URI" --client-id store-b
  gen_reads 2000 | push
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink.log" || fail "uplink: $(tail -3 "$T/uplink.log")"
  [ "$(depth)" -eq 0 ] || fail "spool not empty: $(depth)"
  [ "$(psql 'SELECT count(*), count(DISTINCT id) FROM reads')" = "2000 2000" ] ||
    fail "PostgreSQL has $(psql 'SELECT count(*), count(DISTINCT id) FROM reads') reads, ids: $(tail -2 "$T/ingest-a.log")"
  # the stored bytes are the signed bytes
  "$PGBIN/psql" -h "$T/pg" -U lpr -d store -tA -c "SELECT encode(payload, 'hex') FROM reads ORDER BY seq LIMIT 1" | xxd -r -p > "$T/p.json"
  "$PGBIN/psql" -h "$T/pg" -U lpr -d store -tA -c "SELECT encode(sig, 'hex') FROM reads ORDER BY seq LIMIT 1" | xxd -r -p > "$T/p.sig"
  openssl dgst -sha256 -verify "$T/store-keys/cam-test.pub.pem" -signature "$T/p.sig" "$T/p.json" |
    grep -q "Verified OK" || fail "a read stored in PostgreSQL does not verify with openssl"
  # 50 of them again: counted, not stored twice
  "$PGBIN/psql" -h "$T/pg" -U lpr -d store -tA -F '|' -c "SELECT seq, id, encode(payload, 'hex'), encode(sig, 'hex'), kid FROM reads ORDER BY seq LIMIT 50" > "$T/again.txt"
  python3 - "$SPOOL" "$T/again.txt" <<'PY'
import sqlite3, sys
sp = sqlite3.connect(sys.argv[1])
for l in open(sys.argv[2]):
    seq, id_, p, s, kid = l.rstrip("\n").split("|")
    sp.execute("INSERT INTO reads(seq, id, created_ms, payload, sig, kid) VALUES(?, ?, 0, ?, ?, ?)",
               (int(seq), id_, bytes.fromhex(p), bytes.fromhex(s), kid))
sp.commit()
PY
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink2.log" || fail "uplink again: $(tail -3 "$T/uplink2.log")"
  [ "$(psql 'SELECT count(*) FROM reads')" -eq 2000 ] || fail "a repeat was stored twice"
  [ "$(psql "SELECT value FROM counters WHERE name='repeats'")" -eq 50 ] || fail "repeats: $(psql 'SELECT * FROM counters')"
  for p in "$A" "$(cat "$T/ingest.pid")"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
  a=$(grep -o "stored [0-9]*" "$T/ingest-a.log" | head -1); b=$(grep -o "stored [0-9]*" "$T/ingest-b.log" | head -1)
  [ "${a#stored }" -gt 0 ] && [ "${b#stored }" -gt 0 ] || fail "the two instances did not share the reads: a $a, b $b"
  runuser -u "$PGU" -- "$PGBIN/pg_ctl" -D "$T/pg/data" -m fast -w stop > /dev/null
  echo "PostgreSQL: 2000 reads stored once by two lpr-ingest instances (a $a, b $b), 50 repeats counted"
  ;;
no-store)
  # no store sends receipts: the reads stay spooled, health says why, and
  # they go again with a growing wait (not a flood)
  by_receipt 1
  start_broker "$T" "$PORT"
  start_sub "$T/sub.out" -t 'lpr/v1/+/read'
  start_sub "$T/health.out" -t 'lpr/v1/cam-test/health'
  gen_reads 100 | push
  "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  sleep 5.5
  kill -TERM $UP; wait $UP || true
  [ "$(depth)" -eq 100 ] || fail "reads left the spool without a receipt: $(depth)"
  n=$(cut -f2 "$T/sub.out" | wc -l)
  # sent at 0 s, again after 1 s, 2 s more, 4 s more: 3 rounds in 5.5 s
  [ "$n" -ge 200 ] && [ "$n" -le 400 ] || fail "$n publishes of 100 reads in 5.5 s"
  tail -1 "$T/health.out" | cut -f2 | xxd -r -p > "$T/health.json"
  grep -q '"problems":\["store: no receipt for' "$T/health.json" || fail "health: $(cat "$T/health.json")"
  [ "$(grep -c "no receipt from the store" "$T/uplink.log")" -eq 1 ] || fail "logged more than once"
  echo "no store: 100 reads kept, $n publishes in 5.5 s, health degraded"
  ;;
ingest-keys)
  # the store drops a read it cannot verify, with one line, and sends no
  # receipt, so the device keeps it; once the key is registered it is in
  by_receipt 1
  start_broker "$T" "$PORT"
  start_ingest "$T" "$PORT" "$INGEST" "$DB"
  mv "$T/store-keys/cam-test.pub.pem" "$T/cam-test.pub.pem.later"
  cp "$T/keys-cam-other/device.pub.pem" "$T/store-keys/cam-other.pub.pem"
  gen_reads 20 | push
  "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  for _ in $(seq 1 50); do grep -q "dropped" "$DB.log" && break; sleep 0.1; done
  grep -q "read cam-test-[0-9a-f]*-1 dropped: no key registered for device cam-test ($T/store-keys/cam-test.pub.pem: No such file or directory)" "$DB.log" ||
    fail "ingest: $(tail -2 "$DB.log")"
  # a key of another device under cam-test's name: BAD SIGNATURE / kid
  cp "$T/keys-cam-other/device.pub.pem" "$T/store-keys/cam-test.pub.pem"
  for _ in $(seq 1 50); do grep -q "kid does not match" "$DB.log" && break; sleep 0.2; done
  grep -q "dropped: kid does not match this public key" "$DB.log" || fail "wrong key: $(tail -2 "$DB.log")"
  [ "$(depth)" -eq 20 ] || fail "dropped reads left the device: $(depth)"
  cp "$T/cam-test.pub.pem.later" "$T/store-keys/cam-test.pub.pem"
  for _ in $(seq 1 100); do [ "$(depth)" -eq 0 ] && break; sleep 0.1; done
  [ "$(depth)" -eq 0 ] || fail "registered, but not stored: depth $(depth)"
  kill -TERM $UP; wait $UP || true
  [ "$(sql 'SELECT count(DISTINCT id) FROM reads')" -eq 20 ] || fail "store: $(sql 'SELECT count(*) FROM reads')"
  echo "unverifiable reads dropped with one line each and kept by the device; stored once the key is registered"
  ;;
verify)
  # issue 16, 8.: lpr verify reported the same read three times as three
  # valid reads. A redelivery (same id, same bytes) is a repeat counted
  # once; the same id with other bytes, validly signed, is a CONFLICT. It
  # took the high-S twin of a signature (made without the key) as a second
  # valid signature, and a read saying another device as valid.
  KID=$(cat "$T/keys-cam-test/kid")
  sign_msg() { # PAYLOAD [high] -> one message line in the JSON form lpr verify reads
    printf '%s' "$1" > "$T/p.json"
    openssl dgst -sha256 -sign "$T/keys-cam-test/device.key" -out "$T/p.sig" "$T/p.json"
    python3 - "$1" "$KID" "$T/p.sig" "${2:-low}" <<'PY'
import base64, json, sys
# openssl signs with either s; put it in the form asked (low: s <= n/2, as
# lpr-uplink signs; high: its twin n - s, which anyone can make)
n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
d = open(sys.argv[3], "rb").read()
assert d[0] == 0x30 and d[2] == 0x02
r = int.from_bytes(d[4:4 + d[3]], "big")
o = 4 + d[3]
s = int.from_bytes(d[o + 2:o + 2 + d[o + 1]], "big")
s = min(s, n - s) if sys.argv[4] == "low" else max(s, n - s)
def der_int(v):
    b = v.to_bytes((v.bit_length() + 8) // 8, "big")  # a leading 0 keeps it positive
    return bytes([0x02, len(b)]) + b
body = der_int(r) + der_int(s)
sig = bytes([0x30, len(body)]) + body
print(json.dumps({"payload": sys.argv[1], "properties": {"alg": "ES256", "kid": sys.argv[2],
                  "sig": base64.b64encode(sig).decode()}}))
PY
  }
  a='{"schema":"lpr.read/1","device":"cam-test","seq":1,"epoch":"00000000000000aa","id":"cam-test-00000000000000aa-1","plate":{"text":"ABC123"}}'
  b='{"schema":"lpr.read/1","device":"cam-test","seq":2,"epoch":"00000000000000aa","id":"cam-test-00000000000000aa-2","plate":{"text":"XYZ789"}}'
  c='{"schema":"lpr.read/1","device":"cam-test","seq":1,"epoch":"00000000000000aa","id":"cam-test-00000000000000aa-1","plate":{"text":"FORGED"}}'
  { sign_msg "$a"; sign_msg "$b"; sign_msg "$a"; sign_msg "$a"; } > "$T/msgs.txt"
  "$LPR" verify --pub "$PUB" "$T/msgs.txt" > "$T/v1.out" || fail "redeliveries made it fail: $(cat "$T/v1.out")"
  tail -1 "$T/v1.out" | grep -qx "2 valid, 0 invalid, 2 repeated deliveries" || fail "summary: $(tail -1 "$T/v1.out")"
  [ "$(grep -c '^repeat  cam-test-00000000000000aa-1' "$T/v1.out")" -eq 2 ] || fail "repeats not named: $(cat "$T/v1.out")"
  sign_msg "$c" >> "$T/msgs.txt"
  rc=0; "$LPR" verify --pub "$PUB" "$T/msgs.txt" > "$T/v2.out" || rc=$?
  [ $rc -eq 1 ] || fail "a conflicting read passed"
  grep -q "^CONFLICT cam-test-00000000000000aa-1: validly signed, but another read came with this id" "$T/v2.out" ||
    fail "conflict not named: $(cat "$T/v2.out")"
  tail -1 "$T/v2.out" | grep -qx "2 valid, 1 invalid, 2 repeated deliveries" || fail "summary: $(tail -1 "$T/v2.out")"
  { sign_msg "$b"; sign_msg "$b" high; } > "$T/twin.txt"
  rc=0; "$LPR" verify --pub "$PUB" "$T/twin.txt" > "$T/v3.out" || rc=$?
  [ $rc -eq 1 ] || fail "the high-S twin of a signature passed"
  grep -q "^INVALID cam-test-00000000000000aa-2: sig is not the signer's form (DER, low-S)" "$T/v3.out" ||
    fail "high-S twin not named: $(cat "$T/v3.out")"
  sign_msg "$a" > "$T/one.txt"
  "$LPR" verify --pub "$PUB" --device cam-test "$T/one.txt" > /dev/null || fail "--device cam-test refused its own read"
  rc=0; "$LPR" verify --pub "$PUB" --device cam-other "$T/one.txt" > "$T/v4.out" || rc=$?
  [ $rc -eq 1 ] && grep -q "^INVALID cam-test-00000000000000aa-1: signed by cam-other's key but says device cam-test" "$T/v4.out" ||
    fail "a read of another device passed: $(cat "$T/v4.out")"
  echo "verify: 2 reads delivered 4 times count as 2 valid with 2 repeats; a second read with the same id is a CONFLICT;"
  echo "  a high-S twin and a read of another device than the key's are INVALID"
  ;;
sealed)
  # issue 16, 1.: reads sat unsigned in the spool and the uplink signed
  # whatever it found there, so anyone in group lpr could rewrite an unsent
  # read (`update reads set payload=replace(...)`) into a validly signed
  # forgery. Now the camera side seals each read as it spools it; the
  # uplink holds no signing key and sends the sealed bytes as they are.
  start_broker "$T" "$PORT"
  gen_reads 5 | push
  python3 - "$SPOOL" <<'PY' || fail "reads were spooled unsealed"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("SELECT sig, kid FROM reads").fetchall()
sys.exit(0 if len(rows) == 5 and all(s and k for s, k in rows) else 1)
PY
  # a member of group lpr rewrites read 2 in the spool
  python3 - "$SPOOL" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
p = c.execute("SELECT payload FROM reads WHERE seq = 2").fetchone()[0]
c.execute("UPDATE reads SET payload = ? WHERE seq = 2", (bytes(p).replace(b"T000001", b"FORGED1"),))
c.commit()
PY
  # two reads spooled by a tool without the key wait, unsent, named in the log
  gen_reads 2 5 | "$LPR" spool push --spool "$SPOOL" --device cam-test > /dev/null 2> "$T/nokey.err"
  grep -q "no device key .*reads are spooled unsealed" "$T/nokey.err" || fail "unsealed push not said: $(cat "$T/nokey.err")"
  [ "$(stat_of unsealed)" -eq 2 ] || fail "lpr spool stats: unsealed $(stat_of unsealed), want 2"
  rc=0; LPR_TIME_SOURCE=ntp "$LPR" doctor --config "$CONF" > "$T/doctor.out" 2>&1 || rc=$?
  [ $rc -eq 1 ] && grep -q "^FAIL  spool    .*: 2 of its 7 reads wait unsealed" "$T/doctor.out" ||
    fail "doctor: $(grep spool "$T/doctor.out")"
  start_sub "$T/sub.out" -t 'lpr/v1/+/read'
  start_sub "$T/health.out" -t 'lpr/v1/+/health'
  timeout -s TERM 5 "$UPLINK" --config "$CONF" 2> "$T/uplink.log" || true
  grep -q "read cam-test-[0-9a-f]*-6 is not sealed: it waits until lprd" "$T/uplink.log" ||
    fail "the unsealed read was not named: $(tail -3 "$T/uplink.log")"
  cut -f2 "$T/health.out" | xxd -r -p | grep -q '"spool: 2 read(s) wait unsealed' ||
    fail "health does not say so: $(cut -f2 "$T/health.out" | xxd -r -p | tail -c 400)"
  wait_count "$T/sub.out" 5 10 || fail "only $(count_distinct "$T/sub.out") of the 5 sealed reads arrived"
  [ "$(count_distinct "$T/sub.out")" -eq 5 ] || fail "unsealed reads were sent"
  # the key's holder seals them (lprd does at start; here lpr spool push)
  "$LPR" spool push --config "$CONF" < /dev/null 2> "$T/seal.err"
  grep -q "sealed 2 read(s) the spool held unsigned" "$T/seal.err" || fail "not sealed: $(cat "$T/seal.err")"
  "$UPLINK" --config "$CONF" --once 2>> "$T/uplink.log" || fail "uplink: $(tail -3 "$T/uplink.log")"
  wait_count "$T/sub.out" 7 10 || fail "only $(count_distinct "$T/sub.out") of 7 arrived"
  # the store: six valid, the forgery invalid
  rc=0; "$LPR" verify --pub "$PUB" --device cam-test "$T/sub.out" > "$T/verify.out" || rc=$?
  [ $rc -eq 1 ] || fail "the forged read passed: $(cat "$T/verify.out")"
  grep -q "^INVALID cam-test-[0-9a-f]*-2: BAD SIGNATURE" "$T/verify.out" &&
    cut -f2 "$T/sub.out" | xxd -r -p | grep -q FORGED1 ||
    fail "the forgery was not the invalid one: $(grep -v '^valid' "$T/verify.out")"
  [ "$(awk '$1=="valid"' "$T/verify.out" | wc -l)" -eq 6 ] || fail "want 6 valid: $(cat "$T/verify.out")"
  echo "sealed at the spool: a read rewritten in the spool is INVALID at the store, 6 others valid;"
  echo "  2 reads spooled without the key waited, named once, until the key's holder sealed them"
  ;;
quarantine)
  # issue 16, 5.: a corrupt spool is refused with one line; told to, lpr
  # spool quarantine moves it aside whole and the next start makes a new
  # spool with a new epoch (no id repeats); a sound spool is never moved
  gen_reads 600 | push
  epoch0=$(stat_of epoch)
  rc=0; "$LPR" spool quarantine --config "$CONF" > /dev/null 2> "$T/q0.err" || rc=$?
  [ $rc -eq 1 ] && grep -q "is a sound spool: nothing moved" "$T/q0.err" && [ "$(depth)" -eq 600 ] ||
    fail "quarantine of a sound spool: rc $rc: $(cat "$T/q0.err")"
  python3 - "$SPOOL" <<'PY'
import sys
with open(sys.argv[1], "r+b") as f:
    for page in range(40, 60):
        f.seek(page * 4096)
        f.write(b"\xa5" * 4096)
PY
  rc=0; "$UPLINK" --config "$CONF" --once 2> "$T/up1.err" || rc=$?
  [ $rc -eq 1 ] && grep -q "corrupt (quick_check: .*lpr spool quarantine" "$T/up1.err" ||
    fail "the uplink on a corrupt spool: rc $rc: $(cat "$T/up1.err")"
  moved=$("$LPR" spool quarantine --config "$CONF" 2> "$T/q1.err") || fail "quarantine: $(cat "$T/q1.err")"
  [ -f "$moved" ] && [ ! -e "$SPOOL" ] && [ "$(stat -c %s "$moved")" -gt 200000 ] ||
    fail "not moved whole: $moved $(ls -l "$T" | grep spool)"
  start_broker "$T" "$PORT"
  gen_reads 2 600 | push
  [ "$(stat_of epoch)" != "$epoch0" ] && [ "$(stat_of next_seq)" -eq 3 ] || fail "no new epoch: $(stat_of epoch)"
  "$UPLINK" --config "$CONF" --once 2> "$T/up2.err" || fail "uplink after the quarantine: $(tail -2 "$T/up2.err")"
  [ "$(depth)" -eq 0 ] || fail "the new spool did not drain"
  echo "corrupt spool refused in one line; quarantined to $(basename "$moved") (new epoch $(stat_of epoch)); a sound spool is never moved"
  ;;
fulldisk)
  # issue 15: on a full disk drop_oldest failed (deleting needs WAL room),
  # nothing was counted and the new read was lost; the uplink could not
  # store signatures and sent nothing. A 3 MB disk, filled by the spool,
  # then by another file: every read is spooled or counted as dropped, the
  # newest always kept, and the uplink drains the spool on the full disk.
  small_disk "$T/disk" 3
  write_config "$T" "$PORT" cam-test "spool.path=$T/disk/spool.db"
  SPOOL=$T/disk/spool.db
  gen_reads 4000 | "$LPR" spool push --config "$CONF" > /dev/null 2> "$T/push1.log" ||
    fail "reads refused on a disk the spool fills: $(grep -v warn "$T/push1.log" | head -3)"
  d=$(depth); dropped=$(stat_of dropped)
  [ "$dropped" -gt 0 ] || fail "a 3 MB disk held 4000 reads without dropping any?"
  [ $((d + dropped)) -eq 4000 ] || fail "depth $d + dropped $dropped != 4000: reads lost uncounted"
  grep -q "disk full: released the full-disk reserve, dropped the" "$T/push1.log" || fail "not logged: $(head -3 "$T/push1.log")"
  ! grep -q "error" "$T/push1.log" || fail "errors while handling it: $(grep -m3 error "$T/push1.log")"
  [ -f "$SPOOL.reserve" ] || fail "the full-disk reserve was not made again"
  last=$("$LPR" spool export --spool "$SPOOL" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["plate"]["text"])')
  [ "$last" = T003999 ] || fail "the newest read is not in the spool: last is $last"
  # another file takes every byte left
  dd if=/dev/zero of="$T/disk/other" bs=64k 2>/dev/null || true
  [ "$(df --output=avail "$T/disk" | tail -1)" -eq 0 ] || fail "disk not full"
  gen_reads 100 4000 | "$LPR" spool push --config "$CONF" > /dev/null 2> "$T/push2.log" ||
    fail "reads refused on a disk others filled: $(grep -v warn "$T/push2.log" | head -3)"
  d=$(depth); dropped=$(stat_of dropped)
  [ $((d + dropped)) -eq 4100 ] || fail "depth $d + dropped $dropped != 4100 on a disk others filled"
  last=$("$LPR" spool export --spool "$SPOOL" | tail -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["plate"]["text"])')
  [ "$last" = T004099 ] || fail "the newest read is not in the spool: last is $last"
  # the uplink starts on the full disk, publishes them all to the store
  # (lpr-ingest) and deletes each on its receipt
  write_config "$T" "$PORT" cam-test "spool.path=$T/disk/spool.db" "uplink.delete_on=receipt"
  start_broker "$T" "$PORT"
  start_ingest "$T" "$PORT" "$INGEST" "$DB"
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink.log" || fail "uplink failed on a full disk: $(tail -3 "$T/uplink.log")"
  [ "$(depth)" -eq 0 ] || fail "spool not drained on a full disk: $(depth) left"
  [ "$(sql 'SELECT count(DISTINCT id) FROM reads')" -eq "$d" ] ||
    fail "the store has $(sql 'SELECT count(DISTINCT id) FROM reads') of the $d reads left on the full disk"
  # space returns: the reserve comes back by itself with the next read
  rm -f "$T/disk/other"
  gen_reads 1 5000 | push 2> /dev/null
  [ "$(stat -c %s "$SPOOL.reserve")" -ge 524288 ] || fail "no reserve once space returned"
  echo "3 MB disk: 4100 reads, $dropped dropped oldest-first (counted), the newest kept each time, no error; uplink drained the $d left from the full disk; reserve back with the space; the store has each of them once"
  ;;
keyperm)
  # the device key seals reads where they are spooled (lprd, lpr replay
  # --spool, lpr spool push): a key others may read seals nothing
  chmod 644 "$T/keys-cam-test/device.key"
  rc=0; gen_reads 1 2> /dev/null | "$LPR" spool push --config "$CONF" > /dev/null 2> "$T/err" || rc=$?
  [ $rc -eq 1 ] || fail "sealed with a 0644 key"
  grep -q "device.key: mode 0644 lets group or others read it" "$T/err" || fail "unclear: $(cat "$T/err")"
  [ ! -e "$SPOOL" ] || [ "$(depth)" -eq 0 ] || fail "a read was spooled unsealed"
  chmod 600 "$T/keys-cam-test/device.key"; chmod 640 "$T/cam-test.key"
  rc=0; "$UPLINK" --config "$CONF" 2> "$T/err2" || rc=$?
  [ $rc -ne 0 ] && grep -q "cam-test.key: mode 0640" "$T/err2" || fail "TLS key 0640 accepted"
  head -1 "$T/err"
  ;;
acl)
  start_broker "$T" "$PORT"
  start_sub "$T/sub.out" -t 'lpr/v1/#' -F '%t %p'
  pubas() { mosquitto_pub -h localhost -p "$PORT" -V 5 --cafile "$T/ca.crt" --cert "$T/$1.crt" \
              --key "$T/$1.key" -q 1 -t "$2" -m "$3" 2>&1 || true; }
  pubas cam-test lpr/v1/cam-test/read own > /dev/null
  pubas cam-test lpr/v1/cam-other/read forged > "$T/forged.log"
  pubas cam-test lpr/v1/cam-other/status forged2 >> "$T/forged.log"
  sleep 1
  grep -q "lpr/v1/cam-test/read own" "$T/sub.out" || fail "own prefix not delivered"
  ! grep -q forged "$T/sub.out" || fail "a device published under another device's prefix"
  echo "ACL: cam-test cannot write lpr/v1/cam-other/ ($(tr '\n' ' ' < "$T/forged.log"))"
  ;;
shared)
  start_broker "$T" "$PORT"
  gen_reads 2000 | push
  start_sub "$T/a.out" -t '$share/store/lpr/v1/+/read' -i store-a
  start_sub "$T/b.out" -t '$share/store/lpr/v1/+/read' -i store-b
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink.log"
  sleep 1
  na=$(ids_of "$T/a.out" | wc -l); nb=$(ids_of "$T/b.out" | wc -l)
  all=$(cat "$T/a.out" "$T/b.out" > "$T/ab.out"; ids_of "$T/ab.out" | wc -l)
  total=$(( $(grep -c . "$T/a.out") + $(grep -c . "$T/b.out") ))
  [ "$all" -eq 2000 ] || fail "share group received $all distinct of 2000"
  [ "$total" -eq 2000 ] || fail "share group received $total messages for 2000 reads (duplicates)"
  [ "$na" -gt 0 ] && [ "$nb" -gt 0 ] || fail "one member got nothing ($na/$nb)"
  echo "shared subscription: $na + $nb = 2000, each read once"
  ;;
store-restart)
  start_broker "$T" "$PORT" true
  gen_reads 3000 | push
  start_sub "$T/s.out" -t 'lpr/v1/+/read' -c -i store-persist
  SUBPID=${PIDS[-1]}
  "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  for _ in $(seq 1 200); do [ "$(cat "$T/s.out" 2>/dev/null | wc -l)" -ge 500 ] && break; sleep 0.02; done
  kill $SUBPID; wait $SUBPID 2>/dev/null || true   # the store goes down mid-stream
  for _ in $(seq 1 300); do [ "$(depth)" -eq 0 ] && break; sleep 0.1; done
  got=$(count_distinct "$T/s.out")
  start_sub "$T/s.out" -t 'lpr/v1/+/read' -c -i store-persist   # and comes back
  wait_count "$T/s.out" 3000 60 || fail "store lost reads: $(count_distinct "$T/s.out") of 3000"
  [ "$(ids_of "$T/s.out" | wc -l)" -eq 3000 ] || fail "not all 3000 ids verify"
  kill -TERM $UP; wait $UP || true
  echo "store had $got when it went down; its persistent session delivered the rest: 3000"
  ;;
status)
  # retained birth on connect with a health message at once; "degraded" with
  # its reason while lprd leaves no heartbeat, "online" once it does; the
  # broker sends the last will "offline" when the uplink dies; a clean stop
  # says offline itself, with the time
  start_broker "$T" "$PORT"
  mkdir -p "$T/stills"
  "$B/tests/render_samples" "$T/stills" > /dev/null
  write_config "$T" "$PORT" cam-test "uplink.keepalive_s=5" "uplink.health_interval_s=60" \
    "camera.source=file:$T/stills" "gps.fixed=47.6,-122.3"
  sub1() { # TOPIC: the first message on it within 3 s
    mosquitto_sub -h localhost -p "$PORT" -V 5 --cafile "$T/ca.crt" --cert "$T/store.crt" \
      --key "$T/store.key" -t "lpr/v1/cam-test/$1" -C 1 -W 3 -F '%r %p' 2>/dev/null || true; }
  st() { sub1 status; }
  sub1 health > "$T/health1" &
  HS=$!
  sleep 0.3
  "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  wait $HS || true
  grep -q '"state":"degraded"' "$T/health1" && grep -q '"version":"' "$T/health1" ||
    fail "no health message at connect (interval 60 s): $(cat "$T/health1")"
  s1=$(st)
  echo "$s1" | grep -q '^1 {"state":"degraded","device":"cam-test","kid":"' &&
    echo "$s1" | grep -q '"problems":\["camera: lprd has left no heartbeat in the spool' ||
    fail "no retained degraded birth: $s1"
  # lprd runs (through the stills, fixed site, synchronised clock): the
  # uplink sees its heartbeat at the next health and says online
  LPR_TIME_SOURCE=ntp "$B/firmware/lprd" --config "$CONF" 2> "$T/lprd.log" || fail "lprd: $(tail -2 "$T/lprd.log")"
  kill -TERM $UP; wait $UP || fail "SIGTERM exit code"
  s0=$(st)
  echo "$s0" | grep -q '^1 {"state":"offline","device":"cam-test","connected_at":"[^"]*","clean":true,"ts":"' ||
    fail "clean stop did not say offline with the time: $s0"
  "$UPLINK" --config "$CONF" 2> "$T/uplink1.log" &
  UP=$!; PIDS+=($UP)
  sleep 2
  s1b=$(st)
  echo "$s1b" | grep -q '^1 {"state":"online","device":"cam-test",.*"version":"' ||
    fail "not online with lprd's heartbeat: $s1b"
  sub1 health > "$T/health2" &
  HS=$!; sleep 0.2; kill -9 $UP; wait $UP 2>/dev/null || true; wait $HS || true
  for _ in $(seq 1 40); do s2=$(st); echo "$s2" | grep -q offline && break; sleep 0.5; done
  echo "$s2" | grep -q '^1 {"state":"offline","device":"cam-test","connected_at":"[^"]*","clean":false}' ||
    fail "no last will: $s2"
  "$UPLINK" --config "$CONF" 2> "$T/uplink2.log" &
  UP=$!; PIDS+=($UP)
  sleep 2
  st | grep -q '"state":"online"' || fail "no birth after restart"
  kill -TERM $UP; wait $UP || fail "SIGTERM exit code"
  echo "birth: $s1"; echo "online: $s1b"; echo "will:  $s2"; echo "stop:  $s0"
  ;;
insecure)
  # plaintext only when insecure = true, and then warned at every start
  PLAIN=$(free_port)
  start_plain_broker "$T" "$PLAIN"
  gen_reads 5 | push
  write_config "$T" "$PLAIN" cam-test "uplink.host=127.0.0.1"
  timeout -s TERM 5 "$UPLINK" --config "$CONF" 2> "$T/tls.log" || true
  [ "$(depth)" -eq 5 ] || fail "sent over plaintext without insecure = true"
  write_config "$T" "$PLAIN" cam-test "uplink.host=127.0.0.1" "uplink.insecure=true"
  "$UPLINK" --config "$CONF" --once 2> "$T/plain-uplink.log" || fail "insecure drain failed"
  grep -q "insecure = true: reads go to tcp://127.0.0.1:$PLAIN in PLAINTEXT" "$T/plain-uplink.log" ||
    fail "no plaintext warning: $(head -3 "$T/plain-uplink.log")"
  [ "$(depth)" -eq 0 ] || fail "insecure drain left reads"
  grep -m1 PLAINTEXT "$T/plain-uplink.log"
  ;;
provision)
  # a new unit from lpr provision: the CA signs its CSR, and with nothing
  # else than host, port and spool path changed it connects and delivers
  start_broker "$T" "$PORT"
  P=$T/prov
  kid=$("$LPR" provision --device-id cam-prov --out "$P")
  [ "$(stat -c %a "$P/device.key")" = 600 ] && [ "$(stat -c %a "$P/device-tls.key")" = 600 ] ||
    fail "provisioned keys are not 0600"
  openssl req -in "$P/device.csr" -noout -subject | grep -q "CN *= *cam-prov" || fail "CSR subject"
  rc=0; "$LPR" provision --device-id cam-prov --out "$P" 2> "$T/again.err" > /dev/null || rc=$?
  [ $rc -eq 1 ] && grep -q "use --force" "$T/again.err" || fail "provision overwrote without --force"
  openssl x509 -req -in "$P/device.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
    -days 2 -out "$P/device.crt" 2>/dev/null
  cp "$T/ca.crt" "$P/fleet-ca.crt"
  sed -i -e "s|^host = .*|host = localhost|" -e "s|^port = .*|port = $PORT|" \
    -e "s|^path = .*|path = $T/prov-spool.db|" "$P/lpr.conf"
  gen_reads 3 | "$LPR" spool push --config "$P/lpr.conf" > /dev/null
  # the store, with the new unit's public key registered; the unit's
  # lpr.conf deletes on the store's receipts (the default)
  start_ingest "$T" "$PORT" "$INGEST" "$DB"
  cp "$P/device.pub.pem" "$T/store-keys/cam-prov.pub.pem"
  "$UPLINK" --config "$P/lpr.conf" --once 2> "$T/prov-uplink.log" || fail "provisioned unit: $(cat "$T/prov-uplink.log")"
  [ "$(sql "SELECT count(DISTINCT id) FROM reads WHERE device='cam-prov'")" -eq 3 ] ||
    fail "the store has not the provisioned unit's 3 reads: $(tail -3 "$DB.log")"
  grep -q "$kid" "$T/prov-uplink.log" || fail "key id differs"
  # issue 16, 8.: --force followed a planted symlink and wrote the private
  # key into its target; now the link itself is replaced
  echo "precious" > "$T/victim.txt"
  ln -sf "$T/victim.txt" "$P/device.key"
  "$LPR" provision --device-id cam-prov --out "$P" --force > /dev/null 2> "$T/force.err" ||
    fail "provision --force: $(cat "$T/force.err")"
  [ "$(cat "$T/victim.txt")" = precious ] || fail "provision --force wrote through a symlink"
  [ ! -L "$P/device.key" ] && [ "$(stat -c %a "$P/device.key")" = 600 ] || fail "device.key not a new 0600 file"
  ! ls "$P" | grep -q '\.new-' || fail "temporary files left: $(ls "$P")"
  # issue 16: a unit provisioned as "store" read every device's reads under the shipped ACL
  rc=0; "$LPR" provision --device-id store --out "$T/prov-store" 2> "$T/store.err" > /dev/null || rc=$?
  [ $rc -eq 2 ] && grep -q "'store' is reserved" "$T/store.err" && [ ! -e "$T/prov-store/device.key" ] ||
    fail "provisioned a device as 'store': $(cat "$T/store.err")"
  echo "provisioned cam-prov (key id $kid): CSR signed by the CA, 3 reads verified and stored by lpr-ingest; 'store' refused"
  ;;
doctor)
  # lpr doctor on a healthy unit: every check passes; then broken pieces
  # each give one FAIL line naming the reason and exit 1
  start_broker "$T" "$PORT"
  mkdir -p "$T/stills"
  "$B/tests/render_samples" "$T/stills"
  write_config "$T" "$PORT" cam-test "camera.source=file:$T/stills" "gps.fixed=47.6,-122.3"
  LPR_TIME_SOURCE=ntp "$LPR" doctor --config "$CONF" > "$T/ok.out" || fail "healthy unit: $(cat "$T/ok.out")"
  cat "$T/ok.out"
  [ "$(grep -c '^PASS' "$T/ok.out")" -eq 10 ] || fail "want 10 PASS lines"
  LPR_TIME_SOURCE=ntp "$LPR" doctor --json --config "$CONF" > "$T/ok.json" || fail "healthy unit, --json: $(cat "$T/ok.json")"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["checks"]; sys.exit(0 if d["ok"] and len(c)==10 and all(x["ok"] for x in c) and [x["check"] for x in c][:4]==["config","keys","keys","models"] else 1)' \
    "$T/ok.json" || fail "doctor --json: $(cat "$T/ok.json")"
  # the certificate of another device: its CN is not our id, and the broker's
  # ACL refuses the test publish under our prefix
  write_config "$T" "$PORT" cam-test "camera.source=file:$T/stills" "gps.fixed=47.6,-122.3" \
    "uplink.cert=$T/cam-other.crt" "uplink.key=$T/cam-other.key"
  rc=0; LPR_TIME_SOURCE=ntp "$LPR" doctor --config "$CONF" > "$T/cn.out" 2>/dev/null || rc=$?
  cat "$T/cn.out"
  [ $rc -eq 1 ] || fail "doctor exit $rc with another device's certificate"
  for what in "FAIL  cert     .*is for CN 'cam-other', but \[device\] id is 'cam-test'" \
              "FAIL  broker   .*publish on lpr/v1/cam-test/health was refused: Not authorized (reason 135)"; do
    grep -q "$what" "$T/cn.out" || fail "missing: $what"
  done
  write_config "$T" "$PORT" cam-test "camera.source=v4l2:/dev/video77" "gps.server=127.0.0.1:1" \
    "uplink.ca=$T/other-ca.crt"
  chmod 644 "$T/keys-cam-test/device.key"
  rc=0; LPR_TIME_SOURCE=unsynced "$LPR" doctor --config "$CONF" > "$T/bad.out" 2>/dev/null || rc=$?
  cat "$T/bad.out"
  [ $rc -eq 1 ] || fail "doctor exit $rc with broken pieces"
  for what in "FAIL  keys     signing key: .*device.key: mode 0644" "FAIL  camera   v4l2:/dev/video77 does not open" \
              "FAIL  gps      gpsd at 127.0.0.1:1 not reachable" "FAIL  clock    not synchronised" \
              "FAIL  broker   localhost:$PORT: server certificate not trusted"; do
    grep -q "$what" "$T/bad.out" || fail "missing: $what"
  done
  chmod 600 "$T/keys-cam-test/device.key"
  ;;
locked)
  # another process holds the spool's write lock longer than the busy
  # timeout (10 s) while the broker acknowledges: the deletes fail, are
  # retried, and every read still arrives and leaves the spool (one failed
  # delete used to freeze the uplink until a restart). The reads are sealed
  # as they are spooled, so only the deletes meet the lock.
  gen_reads 3000 | push
  [ "$(stat_of depth)" -eq 3000 ] || fail "spooling lost reads"
  python3 - "$SPOOL" > "$T/lock.out" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
n = c.execute("SELECT count(*) FROM reads WHERE sig IS NULL").fetchone()[0]
c.execute("BEGIN IMMEDIATE")  # the write lock: every delete waits, then fails
print("unsigned", n, flush=True)
time.sleep(16)
c.execute("COMMIT")
PY
  LOCK=$!; PIDS+=($LOCK)
  for _ in $(seq 1 50); do grep -q unsigned "$T/lock.out" && break; sleep 0.1; done
  grep -q "^unsigned 0" "$T/lock.out" || fail "not all reads signed before the lock: $(cat "$T/lock.out")"
  start_broker "$T" "$PORT"
  start_sub "$T/sub.out" -t 'lpr/v1/+/read'
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  wait_count "$T/sub.out" 3000 60 || fail "only $(count_distinct "$T/sub.out") of 3000 arrived under the lock: $(head -5 "$T/uplink.log")"
  kill -0 $LOCK 2>/dev/null || fail "the lock ended before every read was sent"
  wait $LOCK
  for _ in $(seq 1 600); do kill -0 $UP 2>/dev/null || break; sleep 0.1; done
  ! kill -0 $UP 2>/dev/null || fail "--once did not finish: $(tail -3 "$T/uplink.log")"
  [ "$(depth)" -eq 0 ] || fail "spool depth $(depth) after the lock, want 0"
  grep -q "cannot delete .* acknowledged reads (reason above); they stay spooled, deleting is retried" "$T/uplink.log" ||
    fail "the failed delete was not named: $(grep -i error "$T/uplink.log" | head -3)"
  grep -q "acknowledged reads deleted after all" "$T/uplink.log" || fail "no recovery line"
  echo "locked: $(grep -m1 'cannot delete' "$T/uplink.log" | sed 's/.*cannot/cannot/')"
  echo "locked: all 3000 delivered while the spool was locked, spool empty once it was released"
  ;;
watchdog)
  # systemd's watchdog (NOTIFY_SOCKET and WATCHDOG_USEC as systemd sets
  # them): READY=1, then WATCHDOG=1 pings while reads are acknowledged or
  # nothing is left to send; none while connected with reads in flight and
  # none acknowledged (the broker stopped, its TCP still open), so systemd
  # would restart a stuck uplink; pings again once acknowledgements resume.
  python3 - "$T/notify.sock" > "$T/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
t0 = time.monotonic()
while True:
    m = s.recv(4096).decode()
    for line in m.split("\n"):
        print("%.2f\t%s" % (time.monotonic() - t0, line), flush=True)
PY
  PIDS+=($!)
  for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
  start_broker "$T" "$PORT"
  start_sub "$T/sub.out" -t 'lpr/v1/+/read'
  gen_reads 200 | push
  NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 "$UPLINK" --config "$CONF" 2> "$T/uplink.log" &
  UP=$!; PIDS+=($UP)
  wait_count "$T/sub.out" 200 30 || fail "only $(count_distinct "$T/sub.out") of 200 arrived"
  sleep 1.5 # idle: still pinging
  pings() { grep -c "WATCHDOG=1" "$T/notify.log" || true; }
  grep -q "READY=1" "$T/notify.log" || fail "no READY=1: $(head -3 "$T/notify.log")"
  idle=$(pings)
  [ "$idle" -ge 3 ] || fail "only $idle pings while working and idle"
  kill -STOP "$(cat "$T/broker.pid")"
  gen_reads 200 200 | push
  sleep 1.5 # the reads go out, no PUBACK comes back
  stalled=$(pings)
  sleep 3
  [ "$(pings)" -eq "$stalled" ] || fail "pinged while stalled: $stalled then $(pings)"
  kill -0 $UP || fail "the uplink died while the broker was stopped"
  kill -CONT "$(cat "$T/broker.pid")"
  wait_count "$T/sub.out" 400 30 || fail "only $(count_distinct "$T/sub.out") of 400 after the broker resumed"
  sleep 1.5
  [ "$(pings)" -gt "$stalled" ] || fail "no ping after acknowledgements resumed"
  echo "watchdog: READY, $idle pings working and idle, none for 3 s stalled, $(( $(pings) - stalled )) after"
  ;;
refused)
  # a broker that refuses every read (another device's certificate, so the
  # ACL denies our prefix): one line naming the reason, reads stay spooled,
  # publishing backs off instead of spinning; with the right certificate
  # every read arrives
  start_broker "$T" "$PORT"
  write_config "$T" "$PORT" cam-test "uplink.cert=$T/cam-other.crt" "uplink.key=$T/cam-other.key"
  gen_reads 5 | push
  timeout -s TERM 8 "$UPLINK" --config "$CONF" 2> "$T/uplink.log" || true
  cat "$T/uplink.log"
  [ "$(grep -c 'refused read seq .* on lpr/v1/cam-test/read: Not authorized (reason 135); reads stay spooled' "$T/uplink.log")" -eq 1 ] ||
    fail "want one line naming the refusal"
  [ "$(wc -l < "$T/uplink.log")" -le 6 ] || fail "$(wc -l < "$T/uplink.log") log lines in 8 s"
  pubs=$(sed -n 's/^lpr-uplink: sent 0, published \([0-9]*\), refused \([0-9]*\),.*/\1 \2/p' "$T/uplink.log")
  read -r np nr <<< "$pubs"
  [ -n "$np" ] && [ "$nr" -ge 5 ] && [ "$np" -eq "$nr" ] || fail "summary: $pubs"
  [ "$np" -le 40 ] || fail "$np publishes in 8 s: no backoff"
  [ "$(depth)" -eq 5 ] || fail "spool depth $(depth) after refusals, want 5"
  write_config "$T" "$PORT" cam-test
  start_sub "$T/sub.out" -t 'lpr/v1/+/read'
  "$UPLINK" --config "$CONF" --once 2> "$T/uplink2.log" || fail "uplink failed: $(tail -3 "$T/uplink2.log")"
  wait_count "$T/sub.out" 5 20 || fail "only $(count_distinct "$T/sub.out") of 5 arrived"
  [ "$(ids_of "$T/sub.out" | wc -l)" -eq 5 ] || fail "reads do not verify"
  [ "$(depth)" -eq 0 ] || fail "spool depth $(depth) after delivery"
  echo "refused: $np publishes refused in 8 s, one line, 5 reads kept; delivered once the certificate is right"
  ;;
badconfig)
  printf '[device]\nid = cam-test\n[uplink]\nport = 99999\n' > "$T/bad1.conf"
  printf '[device]\nid = cam-test\n[uplink]\nhots = x\n' > "$T/bad2.conf"
  printf '[device]\nid = cam test\n' > "$T/bad3.conf"
  printf '[device]\nid = a\n[nosuch]\nx = 1\n' > "$T/bad4.conf"
  printf 'garbage line\n' > "$T/bad5.conf"
  for f in bad1:4:port bad2:4:hots bad3:2:id bad4:4:nosuch bad5:1:syntax; do
    IFS=: read -r name line what <<< "$f"
    rc=0; "$UPLINK" --config "$T/$name.conf" 2> "$T/err" || rc=$?
    [ $rc -eq 1 ] || fail "$name: exit $rc"
    [ "$(wc -l < "$T/err")" -eq 1 ] || fail "$name: want one line: $(cat "$T/err")"
    grep -q "$T/$name.conf:$line: .*$what" "$T/err" || fail "$name: want file:$line naming $what: $(cat "$T/err")"
    cat "$T/err"
  done
  rc=0; "$UPLINK" --config "$T/missing.conf" 2> "$T/err" || rc=$?
  [ $rc -eq 1 ] && grep -q "missing.conf: No such file" "$T/err" || fail "missing config: $(cat "$T/err")"
  ;;
*)
  fail "unknown scenario"
  ;;
esac
echo "PASS [$scenario]"
