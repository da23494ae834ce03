#!/bin/sh
# CoreDNS answers: the in-cluster API service name and an external name resolve from this pod.
set -eu
for name in kubernetes.default.svc.cluster.local "${EXTERNAL_NAME:-amazonaws.com}"; do
  i=0
  until nslookup "$name" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 10 ]; then echo "FAIL: $name does not resolve"; exit 1; fi
    sleep 3
  done
  echo "ok: $name resolves"
done
