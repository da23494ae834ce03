"""Fields whose exact bytes only AWS knows (issue 11 §2).

iam-controller compares `inlinePolicies` byte-exactly (delta.go `MapStringStringPEqual`) against the text IAM
returns, and IAM keeps the text Terraform sent (`jsonencode` output, a heredoc's whitespace), while state holds the
provider's normalised text. Rendering from state would make ACK call `PutRolePolicy` on the first reconcile — the
same content, but a write. A `describe.spec` entry with `render_from_live: <normaliser>` names such a field: with a
capture (`convert --live`) the field is rendered from AWS's text wherever it is semantically the state's value (a real
difference is drift and stays visible to `tf2kro diff`); without one the field is rendered from state and flagged.
"""

from __future__ import annotations

from typing import Any

from converter.mapping.engine import MapResult
from converter.mapping.paths import MISSING, assign, lookup
from converter.ownership.analyze import Decision, OwnershipReport, Writer


def render_exact_fields(result: MapResult, report: OwnershipReport, live: Any = None) -> None:
    from converter.diff.compare import Entry
    from converter.diff.live import search, state_id
    from converter.diff.normalize import NormContext, apply, canonical

    for addr in sorted(result.objects):
        mo = result.objects[addr]
        d = mo.mapping.describe or {}
        for fld, raw in (d.get("spec") or {}).items():
            if not isinstance(raw, dict) or not raw.get("render_from_live"):
                continue
            rendered = lookup(mo.spec, fld)
            if rendered is MISSING:
                continue
            entry = Entry.parse(raw, f"{mo.mapping.file}: {mo.inst.type}")
            tr = live.types.get(mo.inst.type) if live is not None else None
            sid = state_id(d, mo.inst.attributes)
            item = tr.items.get(sid) if tr is not None and sid is not None else None
            if item is None or entry.source is None:
                report.decisions.append(Decision(
                    address=addr, tf_type=mo.inst.type, field=fld, decision="note", writers=[Writer("aws-service", "AWS (exact text)")],
                    reason=(f"the controller compares this field byte-exactly ({entry.ack}); state holds Terraform's normalised "
                            "text, so ACK may rewrite it once with the same content: pass --live CAPTURE to render AWS's text"),
                    rule=f"exact.{fld}", controller=entry.ack or ""))
                continue
            ctx = NormContext(item=item, region=live.region)
            exact = apply((entry.render_from_live,), search(entry.source, item), ctx)
            if not isinstance(exact, dict) or not isinstance(rendered, dict):
                continue
            semantic = entry.terraform_compare or ()
            taken = []
            merged = dict(rendered)
            for name, text in rendered.items():
                if name in exact and exact[name] != text and \
                        canonical(apply(semantic, {name: text}, ctx)) == canonical(apply(semantic, {name: exact[name]}, ctx)):
                    merged[name] = exact[name]
                    taken.append(name)
            if taken:
                assign(mo.spec, fld, merged)
                mo.conversion.body = mo.body()
                report.decisions.append(Decision(
                    address=addr, tf_type=mo.inst.type, field=fld, decision="note", writers=[Writer("live", "AWS (exact text)")],
                    reason=(f"rendered from the live capture for {', '.join(sorted(taken))}: same content as state, but the "
                            f"controller compares the exact text ({entry.ack})"),
                    rule=f"exact.{fld}", controller=entry.ack or ""))
