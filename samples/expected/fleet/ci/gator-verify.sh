#!/bin/sh
# gator verify: the Gatekeeper policy unit tests (policies/gator/suite.yaml of `tf2kro fleet`) with the real
# Gatekeeper engine. Uses `gator` from PATH, else downloads the pinned release (GATOR_VERSION).
# Usage: ci/gator-verify.sh SUITE_DIR   Exit: 0 pass, 1 a case failed, 2 not checked (no gator, download failed).
set -u
suite_dir=${1:-policies/gator}
version=${GATOR_VERSION:-v3.23.0}
if [ ! -f "$suite_dir/suite.yaml" ]; then
  echo "no gator suite at $suite_dir/suite.yaml: nothing to verify"
  exit 0
fi
if ! command -v gator >/dev/null 2>&1; then
  bin=${RUNNER_TEMP:-/tmp}/gator-bin
  mkdir -p "$bin"
  url="https://github.com/open-policy-agent/gatekeeper/releases/download/$version/gator-$version-linux-amd64.tar.gz"
  if ! curl -fsSL --retry 3 "$url" | tar -xz -C "$bin" gator; then
    echo "::error::could not install gator $version from $url: policies not checked" >&2
    exit 2
  fi
  PATH="$bin:$PATH"
fi
gator verify "$suite_dir/..."
rc=$?
[ "$rc" -eq 0 ] && exit 0
[ "$rc" -eq 1 ] && exit 1
exit 2
