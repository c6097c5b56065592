#!/usr/bin/env bash
# lpr hotlist sign and check, as an operator and a field tech use them: a
# list signed with the fleet's hotlist key verifies and matches plates
# with look-alikes; a tampered, unsigned, other key's or expired list is
# refused with one line naming it; a file that is no list is not signed.
# usage: test_hotlist.sh BUILD_DIR
set -euo pipefail
B=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
LPR=$B/tool/lpr
scratch lpr-hotlist hotlist
mkdir -p "$T/fleet" "$T/other"
"$LPR" keygen --out "$T/fleet" > /dev/null
"$LPR" keygen --out "$T/other" > /dev/null
cat > "$T/stolen.json" <<'JSON'
{"name":"stolen","version":3,"issued_at":"2026-12-07T00:00:00Z","expires_at":"2099-01-01T00:00:00Z",
 "priority":80,"entries":[{"plate":"7ABC123","region":"us","reason":"stolen vehicle"},
 {"plate":"KX*821"},{"plate":"bad-one"}]}
JSON
"$LPR" hotlist sign --key "$T/fleet/device.key" "$T/stolen.json" > "$T/stolen.signed" 2> "$T/sign.err" ||
  fail "sign: $(cat "$T/sign.err")"
grep -q "^signed stolen version 3: 2 entries (1 skipped), priority 80, expires 2099-01-01T00:00:00" "$T/sign.err" ||
  fail "sign said: $(cat "$T/sign.err")"
out=$("$LPR" hotlist check --pub "$T/fleet/device.pub.pem" --match 7A8C123 --region us "$T/stolen.signed")
[ "$out" = "valid stolen version 3: 2 entries (1 skipped), priority 80, expires 2099-01-01T00:00:00.000Z
match 7A8C123: entry 7ABC123 region us, 1 look-alike(s), reason: stolen vehicle" ] || fail "check: $out"
out=$("$LPR" hotlist check --pub "$T/fleet/device.pub.pem" --match KXZ82I --subs 0 "$T/stolen.signed" | tail -1)
[ "$out" = "no match for KXZ82I" ] || fail "look-alike with --subs 0: $out"
out=$("$LPR" hotlist check --pub "$T/fleet/device.pub.pem" --match KXZ82I "$T/stolen.signed" | tail -1)
[ "$out" = "match KXZ82I: entry KX*821, 1 look-alike(s)" ] || fail "wildcard: $out"
# refused, one line each, exit 1
refused() { # FILE PUB PATTERN
  local rc=0
  "$LPR" hotlist check --pub "$2" "$1" > /dev/null 2> "$T/err" || rc=$?
  [ $rc -eq 1 ] && [ "$(grep -c . "$T/err")" -eq 1 ] && grep -q "$3" "$T/err" ||
    fail "$1: rc $rc: $(cat "$T/err")"
}
sed 's/7ABC123/7ABC124/' "$T/stolen.signed" > "$T/tampered.signed"
refused "$T/tampered.signed" "$T/fleet/device.pub.pem" "tampered.signed: refused: BAD SIGNATURE"
python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); del e["properties"]["sig"]; print(json.dumps(e))' \
  "$T/stolen.signed" > "$T/unsigned.signed"
refused "$T/unsigned.signed" "$T/fleet/device.pub.pem" "unsigned.signed: refused: no sig property (unsigned)"
refused "$T/stolen.signed" "$T/other/device.pub.pem" "stolen.signed: refused: kid does not match"
sed 's/2099-01-01/2020-01-01/' "$T/stolen.json" > "$T/old.json"
"$LPR" hotlist sign --key "$T/fleet/device.key" "$T/old.json" > "$T/old.signed" 2> /dev/null
refused "$T/old.signed" "$T/fleet/device.pub.pem" "old.signed: refused: version 3 expired at 2020-01-01T00:00:00"
# a file that is no list is not signed
echo '{"name":"x","entries":[]}' > "$T/nolist.json"
rc=0; "$LPR" hotlist sign --key "$T/fleet/device.key" "$T/nolist.json" > /dev/null 2> "$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "nolist.json: not a hotlist" "$T/err" || fail "signed a non-list: rc $rc: $(cat "$T/err")"
echo "hotlist: signed, verified, matched with look-alikes and wildcards; tampered, unsigned, other key's and expired lists refused"
