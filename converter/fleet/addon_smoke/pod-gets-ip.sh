#!/bin/sh
# The CNI assigns pod IPs: a fresh probe pod reaches Ready with status.podIP set, then it is deleted.
# The probe satisfies the `restricted` Pod Security Standard of the smoke namespace.
set -eu
pod="cni-probe-$(date +%s)"
ns="${SMOKE_NAMESPACE}"
trap 'kubectl -n "$ns" delete pod "$pod" --ignore-not-found --wait=false >/dev/null 2>&1 || true' EXIT
cat <<YAML | kubectl -n "$ns" apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: $pod
  labels: {app.kubernetes.io/name: addon-smoke-probe}
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: probe
    image: ${PROBE_IMAGE}
    command: [sleep, "120"]
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
YAML
kubectl -n "$ns" wait --for=condition=Ready "pod/$pod" --timeout="${TIMEOUT:-300s}"
ip=$(kubectl -n "$ns" get pod "$pod" -o jsonpath='{.status.podIP}')
if [ -z "$ip" ]; then echo "FAIL: probe pod has no IP"; exit 1; fi
echo "ok: CNI assigned $ip"
