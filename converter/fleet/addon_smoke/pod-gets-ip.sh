#!/bin/sh
# The CNI assigns pod IPs: a fresh probe pod reaches Running with status.podIP set, then it is deleted.
set -eu
pod="cni-probe-$(date +%s)"
trap 'kubectl -n "${SMOKE_NAMESPACE}" delete pod "$pod" --ignore-not-found --wait=false >/dev/null 2>&1 || true' EXIT
kubectl -n "${SMOKE_NAMESPACE}" run "$pod" --image="${PROBE_IMAGE}" --restart=Never \
  --overrides='{"spec":{"securityContext":{"runAsNonRoot":true,"runAsUser":65534}}}' --command -- sleep 60
kubectl -n "${SMOKE_NAMESPACE}" wait --for=condition=Ready "pod/$pod" --timeout="${TIMEOUT:-300s}"
ip=$(kubectl -n "${SMOKE_NAMESPACE}" get pod "$pod" -o jsonpath='{.status.podIP}')
if [ -z "$ip" ]; then echo "FAIL: probe pod has no IP"; exit 1; fi
echo "ok: CNI assigned $ip"
