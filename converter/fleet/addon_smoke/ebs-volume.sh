#!/bin/sh
# The EBS CSI driver provisions, attaches and deletes a volume: a PVC bound by a pod that writes to it, then the PVC
# is deleted and its PersistentVolume (reclaimPolicy Delete) disappears. The probe satisfies the `restricted`
# Pod Security Standard of the smoke namespace.
set -eu
name="ebs-probe-$(date +%s)"
ns="${SMOKE_NAMESPACE}"
cleanup() {
  kubectl -n "$ns" delete pod "$name" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1 || true
  kubectl -n "$ns" delete pvc "$name" --ignore-not-found --wait=true --timeout=120s >/dev/null 2>&1 || true
}
trap cleanup EXIT
sc_line=""
if [ -n "${STORAGE_CLASS:-}" ]; then sc_line="  storageClassName: ${STORAGE_CLASS}"; fi
cat <<YAML | kubectl -n "$ns" apply -f -
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: $name
spec:
  accessModes: [ReadWriteOnce]
$sc_line
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: $name
spec:
  restartPolicy: Never
  securityContext: {runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: write
    image: ${PROBE_IMAGE}
    command: [sh, -c, "echo ok > /data/probe && cat /data/probe"]
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: $name}
YAML
kubectl -n "$ns" wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$name" --timeout="${TIMEOUT:-300s}"
pv=$(kubectl -n "$ns" get pvc "$name" -o jsonpath='{.spec.volumeName}')
if [ -z "$pv" ]; then echo "FAIL: PVC $name not bound"; exit 1; fi
echo "ok: volume $pv provisioned and written"
kubectl -n "$ns" delete pod "$name" --wait=true --timeout=120s
kubectl -n "$ns" delete pvc "$name" --wait=true --timeout=120s
kubectl wait --for=delete "pv/$pv" --timeout="${TIMEOUT:-300s}"
echo "ok: volume $pv deleted"
