#!/bin/sh
# The add-on's workload finished rolling out in kube-system (every pod updated and available).
set -eu
echo "check: rollout of ${WORKLOAD} in kube-system"
kubectl -n kube-system rollout status "${WORKLOAD}" --timeout="${TIMEOUT:-300s}"
echo "ok: ${WORKLOAD} rolled out"
