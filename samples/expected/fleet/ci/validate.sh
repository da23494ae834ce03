#!/bin/sh
# tf2kro validate, offline: every manifest under each DIR against the CRD schemas bundled with tf2kro, every kro
# RGD like kro's graph builder, the Gatekeeper policies bundled with tf2kro evaluated with regorus.
# Usage: ci/validate.sh DIR...   Exit: 0 clean, 1 violations, 2 error / not checked (the worst of all DIRs).
set -u
[ "$#" -gt 0 ] || { echo "usage: $0 DIR..." >&2; exit 2; }
command -v tf2kro >/dev/null 2>&1 || { echo "::error::tf2kro is not installed: nothing was validated" >&2; exit 2; }
worst=0
for dir in "$@"; do
  if [ ! -d "$dir" ]; then
    echo "::error::$dir: no such directory: not checked" >&2
    worst=2
    continue
  fi
  echo "== tf2kro validate $dir"
  tf2kro validate "$dir" --policies bundled
  rc=$?
  [ "$rc" -le 2 ] || rc=2
  [ "$rc" -le "$worst" ] || worst=$rc
done
exit "$worst"
