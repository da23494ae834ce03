#!/bin/sh
# tf2kro validate, offline: every manifest under each DIR against the CRD schemas bundled with tf2kro, every kro
# RGD like kro's graph builder, Gatekeeper policies evaluated with regorus: TF2KRO_POLICIES (default `bundled`:
# the policies shipped with tf2kro, default parameters; point it at the fleet's hub/gatekeeper/ to check with the
# fleet's own parameters, e.g. its allowed instance types).
# Usage: ci/validate.sh DIR...   Exit: 0 clean, 1 violations, 2 error / not checked (the worst of all DIRs).
set -u
policies=${TF2KRO_POLICIES:-bundled}
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
  tf2kro validate "$dir" --policies "$policies"
  rc=$?
  [ "$rc" -le 2 ] || rc=2
  [ "$rc" -le "$worst" ] || worst=$rc
done
exit "$worst"
