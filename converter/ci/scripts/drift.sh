#!/bin/sh
# Drift report of one Terraform root: AWS is read ONCE (`tf2kro inventory capture`, read-only calls, scrubbed of
# every state secret, mode 0600), then the Markdown and JUnit reports are rendered offline from that capture.
# Environment: TARGET (name), STATE (path or s3://bucket/key), REGION, HCL (optional), OUT (report directory).
# Writes OUT/capture.json, OUT/drift.md[.N], OUT/drift.xml, OUT/exit-code.
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
tf2kro diff "$@" --live "$OUT/capture.json" --format table --output "md:$OUT/drift.md" --output "junit:$OUT/drift.xml"
drc=$?
[ "$rc" -le "$drc" ] || drc=$rc
[ "$drc" -le 2 ] || drc=2
verdict "$drc"
