# lib.sh - shared helpers for the integration tests: test certificates made
# with openssl at test time (no keys are committed), a real mosquitto with
# TLS on 127.0.0.1, and a device config. Source it; set LPR_BIN to the build
# dir's firmware/ and UPLINK_BIN to uplink/.

# scratch PREFIX LABEL [CERTS]: T, a scratch folder removed at exit with
# the processes in PIDS (SIGTERM) and the broker whose certificates are in
# CERTS (a folder under T); fail MESSAGE prints "FAIL [LABEL]: MESSAGE" and
# exits 1 (LABEL is read when fail runs, so it may name a variable set later).
scratch() {
  T=$(mktemp -d "/tmp/$1.XXXXXX")
  PIDS=()
  SCRATCH_LABEL=$2
  SCRATCH_CERTS=${3:-}
  trap scratch_cleanup EXIT
}
scratch_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -z "$SCRATCH_CERTS" ] || stop_broker "$T/$SCRATCH_CERTS"
  for m in "${SCRATCH_MOUNTS[@]}"; do umount "$m" 2>/dev/null || true; done
  # LPR_KEEP=1: leave the scratch folder (logs, spools) to look into
  if [ "${LPR_KEEP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
SCRATCH_MOUNTS=()
# small_disk DIR MB: a tmpfs of MB megabytes at DIR (a full disk to test),
# unmounted at cleanup
small_disk() {
  mkdir -p "$1"
  mount -t tmpfs -o "size=${2}m" tmpfs "$1" || fail "cannot mount a ${2} MB tmpfs at $1 (the test runs as root)"
  SCRATCH_MOUNTS+=("$1")
}
fail() { echo "FAIL [$(eval echo "$SCRATCH_LABEL")]: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# make_certs DIR: ca.crt, server.crt/key (CN/SAN localhost only, so that
# connecting to 127.0.0.1 is a hostname mismatch),
# client certs for device cam-test and cam-other, an expired client cert,
# and a second, unrelated CA.
make_certs() {
  local d=$1
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 400 \
      -subj "/CN=lpr-test-ca" -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 400 \
      -subj "/CN=other-ca" -keyout other-ca.key -out other-ca.crt 2>/dev/null
    printf 'subjectAltName=DNS:localhost\n' > san.ext
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
      -keyout server.key -out server.csr 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 400 \
      -extfile san.ext -out server.crt 2>/dev/null
    for cn in cam-test cam-other store; do
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$cn" \
        -keyout "$cn.key" -out "$cn.csr" 2>/dev/null
      openssl x509 -req -in "$cn.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 400 \
        -out "$cn.crt" 2>/dev/null
    done
    # expired: valid from two days ago for one day
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=cam-test" \
      -keyout expired.key -out expired.csr 2>/dev/null
    openssl x509 -req -in expired.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -not_before "$(date -u -d '-2 days' +%Y%m%d%H%M%SZ)" \
      -not_after "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" -out expired.crt 2>/dev/null ||
    openssl x509 -req -in expired.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days -1 \
      -out expired.crt 2>/dev/null
    chmod 600 ./*.key
  )
}

# start_broker DIR PORT [persist]: the shipped board/broker/mosquitto.conf
# and lpr.acl with this test's certificates, port and folders.
start_broker() {
  local d=$1 port=$2 persist=${3:-false}
  local board
  board=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../board/broker" && pwd)
  sed -e "s|^listener 8883|listener $port 127.0.0.1|" \
      -e "s|/etc/mosquitto/certs/fleet-ca.crt|$d/ca.crt|" \
      -e "s|/etc/mosquitto/certs/broker.crt|$d/server.crt|" \
      -e "s|/etc/mosquitto/certs/broker.key|$d/server.key|" \
      -e "s|/etc/mosquitto/lpr.acl|$d/lpr.acl|" \
      -e "s|^persistence true|persistence $persist|" \
      -e "s|/var/lib/mosquitto/|$d/|" "$board/mosquitto.conf" > "$d/mosquitto.conf"
  # as root, stay root so the test's 0600 keys stay readable
  [ "$(id -u)" -eq 0 ] && echo "user root" >> "$d/mosquitto.conf"
  # BROKER_CONF: settings that replace the shipped ones (a test's limits)
  local kv
  for kv in ${BROKER_CONF:-}; do
    sed -i "s|^${kv%%=*} .*|${kv%%=*} ${kv#*=}|" "$d/mosquitto.conf"
  done
  cp "$board/lpr.acl" "$d/lpr.acl"
  mosquitto -c "$d/mosquitto.conf" >> "$d/broker.log" 2>&1 &
  echo $! > "$d/broker.pid"
  for _ in $(seq 1 50); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "broker did not start:" >&2; cat "$d/broker.log" >&2
  return 1
}

# start_plain_broker DIR PORT: a plaintext, anonymous mosquitto on
# 127.0.0.1 (only for `insecure = true` tests); its PID in DIR/plain.pid
start_plain_broker() {
  local d=$1 port=$2
  printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$d/plain.conf"
  [ "$(id -u)" -eq 0 ] && echo "user root" >> "$d/plain.conf"
  mosquitto -c "$d/plain.conf" > "$d/plain.log" 2>&1 &
  echo $! > "$d/plain.pid"
  disown $!
  for _ in $(seq 1 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "plain broker did not start: $(cat "$d/plain.log")" >&2
  return 1
}

stop_broker() {
  local d=$1
  # SIGCONT first: a test may have stopped it (SIGSTOP), and a stopped
  # broker would never act on SIGTERM
  [ -f "$d/broker.pid" ] && kill -CONT "$(cat "$d/broker.pid")" 2>/dev/null
  [ -f "$d/broker.pid" ] && kill "$(cat "$d/broker.pid")" 2>/dev/null && wait "$(cat "$d/broker.pid")" 2>/dev/null
  [ -f "$d/plain.pid" ] && kill "$(cat "$d/plain.pid")" 2>/dev/null
  rm -f "$d/broker.pid" "$d/plain.pid"
  return 0
}

# start_ingest DIR PORT INGEST_BINARY DB [extra args]: the read store
# (lpr-ingest) on the broker at PORT with the store's certificate from
# make_certs, the keys of DIR/keys-<device>/ registered under DIR/store-keys;
# logs to DB.log (INGEST_LOG.log when set: DB is a URI), its PID in
# DIR/ingest.pid (and PIDS when the caller has it)
start_ingest() {
  local d=$1 port=$2 bin=$3 db=$4 log=${INGEST_LOG:-$4}
  shift 4
  mkdir -p "$d/store-keys"
  for k in "$d"/keys-*/device.pub.pem; do
    [ -f "$k" ] || continue
    local dev=${k%/device.pub.pem}
    cp "$k" "$d/store-keys/${dev##*/keys-}.pub.pem"
  done
  "$bin" --host localhost --port "$port" --ca "$d/ca.crt" --cert "$d/store.crt" \
    --key "$d/store.key" --keys "$d/store-keys" --db "$db" "$@" >> "$log.out" 2>> "$log.log" &
  echo $! > "$d/ingest.pid"
  declare -p PIDS >/dev/null 2>&1 && PIDS+=($!)
  for _ in $(seq 1 100); do
    grep -q "subscribed to" "$log.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "lpr-ingest did not subscribe: $(tail -3 "$log.log")" >&2
  return 1
}

# write_config DIR PORT DEVICE [extra lines...]: lpr.conf for a device
write_config() {
  local d=$1 port=$2 dev=$3 line
  shift 3
  cat > "$d/$dev.conf" <<CONF
[device]
id = $dev
owner = test-owner
model = test-model

[spool]
path = $d/$dev-spool.db

[uplink]
host = localhost
port = $port
ca = $d/ca.crt
cert = $d/$dev.crt
key = $d/$dev.key
sign_key = $d/keys-$dev/device.key
inflight = 64
health_interval_s = 1
CONF
  for line in "$@"; do
    python3 - "$d/$dev.conf" "$line" <<'PY'
import sys, configparser
path, line = sys.argv[1], sys.argv[2]
sec, kv = line.split('.', 1)
k, v = kv.split('=', 1)
text = open(path).read().splitlines()
out, insec, done = [], None, False
for l in text:
    s = l.strip()
    if s.startswith('['):
        if insec == sec and not done:
            out.append(f"{k} = {v}"); done = True
        insec = s[1:-1]
    if insec == sec and s.split('=')[0].strip() == k:
        if not done:
            out.append(f"{k} = {v}"); done = True
        continue
    out.append(l)
if not done:
    if insec != sec:
        out.append(f"[{sec}]")
    out.append(f"{k} = {v}")
open(path, 'w').write('\n'.join(out) + '\n')
PY
  done
}

# sub DIR PORT TOPIC COUNT OUTFILE [client-id] [extra args]: background
# subscriber as the store, printing "properties<TAB>hex payload" per message
sub() {
  local d=$1 port=$2 topic=$3 count=$4 out=$5
  shift 5
  mosquitto_sub -h localhost -p "$port" -V 5 --cafile "$d/ca.crt" --cert "$d/store.crt" \
    --key "$d/store.key" -t "$topic" -q 1 -C "$count" -F '%P\t%x' "$@" > "$out" 2>"$out.err" &
  echo $!
}
