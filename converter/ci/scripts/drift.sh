#!/bin/sh
# Drift report of one Terraform root: AWS is read ONCE (`tf2kro inventory capture`, read-only calls, scrubbed of
# every state secret, mode 0600), then the Markdown and JUnit reports are rendered offline from that capture.
# Environment: TARGET (name), STATE (path or s3://bucket/key), REGION, HCL (optional), OUT (report directory);
# TF2KRO_PUSHGATEWAY_URL (optional, the scheduled scans only) with TARGET_ENV and ROOT: the result is pushed as metrics
# (`tf2kro inventory metrics --push`, group job/tf2kro-drift/env/TARGET_ENV/root/ROOT) for the fleet dashboard.
# Writes OUT/capture.json, OUT/drift.md[.N], OUT/drift.xml, OUT/drift.json, OUT/exit-code.
# Exit: 0 clean, 1 findings, 2 error / not checked (no credentials, AccessDenied, unreachable, unknown types).
set -u
: "${TARGET:?}" "${STATE:?}" "${REGION:?}" "${OUT:?}"
mkdir -p "$OUT"
verdict() {
  printf '%s\n' "$1" > "$OUT/exit-code"
  case "$1" in
    0) echo "$TARGET: no drift: adopting changes nothing" ;;
    1) echo "::error::$TARGET: drift or adoption-would-change findings (see the report)" ;;
    *) echo "::error::$TARGET: not checked (exit $1): nothing may be called clean" ;;
  esac
  exit "$1"
}
set -- --state "$STATE" --region "$REGION"
[ -n "${HCL:-}" ] && set -- "$@" --hcl "$HCL"
tf2kro inventory capture "$@" --out "$OUT/capture.json"
rc=$?
if [ ! -f "$OUT/capture.json" ]; then
  printf '# tf2kro drift: %s\n\n**Not checked**: the live read failed (exit %s); see the job log.\n' "$TARGET" "$rc" > "$OUT/drift.md"
  verdict 2
fi
tf2kro diff "$@" --live "$OUT/capture.json" --format table --output "md:$OUT/drift.md" --output "junit:$OUT/drift.xml" \
  --output "json:$OUT/drift.json"
drc=$?
[ "$rc" -le "$drc" ] || drc=$rc
[ "$drc" -le 2 ] || drc=2
# Metrics only for a scan that checked everything (0 or 1): a partial one would show fewer findings than there are.
# Not pushed: the last-run time goes stale and Tf2kroDriftScanStale fires; the verdict is unchanged.
if [ -n "${TF2KRO_PUSHGATEWAY_URL:-}" ] && [ "$drc" -le 1 ]; then
  tf2kro inventory metrics "$OUT/drift.json" --env "${TARGET_ENV:?}" --root "${ROOT:?}" --push "$TF2KRO_PUSHGATEWAY_URL" ||
    echo "::warning::$TARGET: drift metrics not pushed to the Pushgateway (the dashboard shows the scan as stale)"
fi
verdict "$drc"
