"""How big an object is when Kubernetes stores it, and the limits that matter (docs/naming.md "Object size").

- 262 144 bytes (256 KiB): the total size of an object's annotations. Client-side apply (`kubectl apply`, ArgoCD
  without `ServerSideApply=true`) stores the whole object as JSON in `kubectl.kubernetes.io/last-applied-
  configuration`, so an object over 256 KiB cannot be client-side applied at all.
- 1 572 864 bytes (1.5 MiB): etcd's default request limit (`--max-request-bytes`); the API server rejects a larger
  object whatever the apply mode.

Custom resources are stored as JSON, so the compact JSON of the object is the size that counts.
"""

from __future__ import annotations

import json
from typing import Any

CLIENT_SIDE_APPLY_LIMIT = 256 * 1024
ETCD_REQUEST_LIMIT = 1536 * 1024
# Why 192 KiB: every RGD then stays applicable by client-side apply too (its last-applied annotation holds the
# whole object: under the 256 KiB annotation limit with 25 % headroom for the externalRef entries a split adds and
# for a stricter apply path), and far under etcd's 1.5 MiB even after kro adds status (topologicalOrder, one
# dependency list per resource), server-side apply adds managedFields and kro keeps a GraphRevision copy of the spec.
RGD_SIZE_BUDGET = 192 * 1024


def serialized_size(obj: Any) -> int:
    """Bytes of the compact JSON encoding (what the API server stores for a custom resource)."""
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
