#!/bin/sh
# Post a Markdown report (split by tf2kro into FILE, FILE.2, ... under GitHub's comment size limit) on the PR.
# Environment: GH_TOKEN, PR_NUMBER.   Usage: ci/pr-comment.sh FILE
set -eu
file=${1:?usage: $0 FILE}
: "${PR_NUMBER:?}"
for part in "$file" "$file".*; do
  [ -f "$part" ] || continue
  gh pr comment "$PR_NUMBER" --body-file "$part"
done
