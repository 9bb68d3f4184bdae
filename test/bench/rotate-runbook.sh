#!/bin/sh
# The reference for `npm run bench`: one certificate rotation done the way operators' runbooks do
# it by hand, step by step, with ssh, scp, kill -HUP and openssl s_client (one SSH login per step).
# Usage: rotate-runbook.sh SSH_HOST SSH_PORT IDENTITY KNOWN_HOSTS CERT KEY PIDFILE NEW_CERT NEW_KEY TLS_HOST TLS_PORT SERVERNAME
set -eu
HOST=$1 PORT=$2 ID=$3 KNOWN=$4 CERT=$5 KEY=$6 PIDFILE=$7 NEW_CERT=$8 NEW_KEY=$9
shift 9
TLS_HOST=$1 TLS_PORT=$2 SNI=$3
OPTS="-q -o BatchMode=yes -o UserKnownHostsFile=$KNOWN -o StrictHostKeyChecking=yes -F /dev/null -i $ID"

# 1. Validate here: the key belongs to the certificate.
[ "$(openssl x509 -in "$NEW_CERT" -noout -pubkey)" = "$(openssl pkey -in "$NEW_KEY" -pubout)" ] || { echo "key mismatch"; exit 1; }
# 2. Back up the current files on the host.
stamp=$(date -u +%Y%m%dT%H%M%SZ)
ssh $OPTS -p "$PORT" "root@$HOST" "cp -p '$CERT' '$CERT.bak-$stamp' && cp -p '$KEY' '$KEY.bak-$stamp'"
# 3. Copy the new files, then 4. chmod the key and move them into place.
scp $OPTS -P "$PORT" "$NEW_CERT" "root@$HOST:$CERT.new"
scp $OPTS -P "$PORT" "$NEW_KEY" "root@$HOST:$KEY.new"
ssh $OPTS -p "$PORT" "root@$HOST" "chmod 600 '$KEY.new' && mv '$CERT.new' '$CERT' && mv '$KEY.new' '$KEY'"
# 5. Signal the server.
ssh $OPTS -p "$PORT" "root@$HOST" "kill -HUP \$(cat '$PIDFILE')"
# 6. Check with s_client until the new certificate is served.
expected=$(openssl x509 -in "$NEW_CERT" -noout -fingerprint -sha256)
i=0
while [ $i -lt 50 ]; do
  served=$(openssl s_client -connect "$TLS_HOST:$TLS_PORT" -servername "$SNI" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 || true)
  if [ "$served" = "$expected" ]; then echo ok; exit 0; fi
  i=$((i + 1))
  sleep 0.2
done
echo "not served"
exit 1
