#!/bin/sh
# The drift matrix (one entry per Terraform root x account x region) from ci/drift-targets.json, for GitHub Actions
# `strategy.matrix` (fromJSON). Every field is checked here against the grammar tf2kro wrote it with
# (converter/ci/targets.py), before any of it reaches a job name, an environment variable or a command line.
# Usage: ci/drift-targets.sh [FILE]   prints {"include": [...]} on one line; exit 2 on an invalid file.
set -eu
file=${1:-ci/drift-targets.json}
name_re='^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'
region_re='^[a-z]{2}(-[a-z]+)+-[0-9]$'
state_re="^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9!_.*'()/=&?+:-]+|[A-Za-z0-9_.][A-Za-z0-9._/+-]*)\$"
hcl_re='^([A-Za-z0-9_.][A-Za-z0-9._/+-]*)?$'
if ! jq -ce --arg name_re "$name_re" --arg region_re "$region_re" --arg state_re "$state_re" --arg hcl_re "$hcl_re" '
  def ok($v; $re): ($v | type) == "string" and ($v | test($re)) and (($v | split("/")) | index("..") | not);
  if (.targets | type) != "array" or (.targets | length) == 0 then error("no drift targets") else . end
  | .targets |= map(
      if ok(.name; $name_re) and ok(.env; $name_re) and ok(.root; $name_re) and ok(.account; "^[0-9]{12}$")
         and ok(.region; $region_re) and ok(.state; $state_re) and ok(.hcl // ""; $hcl_re)
      then {name, env, root, account, region, state, hcl: (.hcl // "")}
      else error("invalid drift target \(.name | tostring)") end)
  | {include: .targets}' "$file"; then
  echo "::error::$file: not a valid drift targets file: nothing can be scanned" >&2
  exit 2
fi
