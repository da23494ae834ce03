#!/bin/sh
# `kubectl kustomize` of every kustomization directory a change touches (the nearest directory above each changed
# file that holds a kustomization.yaml), so a PR cannot merge a tree ArgoCD cannot build.
# Usage: ci/kustomize-changed.sh BASE_REF [TREE]   Exit: 0 all build, 1 a build failed, 2 not checked.
set -u
base=${1:?usage: $0 BASE_REF [TREE]}
tree=${2:-.}
command -v kubectl >/dev/null 2>&1 || { echo "::error::kubectl is not installed: nothing was built" >&2; exit 2; }
list=$(mktemp)
if ! git diff --relative --name-only "$base...HEAD" -- "$tree" > "$list"; then
  echo "::error::git diff against $base failed (fetch-depth 0?): not checked" >&2
  exit 2
fi
dirs=$(mktemp)
while IFS= read -r file; do
  d=$(dirname -- "$file")
  while :; do
    if [ -f "$d/kustomization.yaml" ] || [ -f "$d/kustomization.yml" ] || [ -f "$d/Kustomization" ]; then
      printf '%s\n' "$d" >> "$dirs"
      break
    fi
    [ "$d" = "." ] || [ "$d" = "/" ] && break
    d=$(dirname -- "$d")
  done
done < "$list"
worst=0
count=0
sort -u "$dirs" -o "$dirs"
while IFS= read -r d; do
  if grep -qs '^kind: Component' "$d/kustomization.yaml" "$d/kustomization.yml"; then
    echo "skip $d (a kustomize Component: built by the kustomization that uses it)"
    continue
  fi
  count=$((count + 1))
  if kubectl kustomize "$d" > /dev/null; then
    echo "ok   $d"
  else
    echo "::error::kubectl kustomize $d failed"
    worst=1
  fi
done < "$dirs"
echo "$count kustomization director(y/ies) built"
exit "$worst"
