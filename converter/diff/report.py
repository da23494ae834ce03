"""Render a `DiffReport`: table (rich), JSON (schema in docs/diff.md), Markdown (PR comment, chunked), JUnit XML.

Every renderer goes through `scrub()` with the estate's secrets as a last guard: rendered specs never hold
secrets and sensitive state attributes are not compared, but a live value could still echo one.
"""

from __future__ import annotations

import io
import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from converter.diff.compare import (
    ADOPTION,
    CLASSES,
    COUNTED,
    DELETED,
    DRIFT,
    PENDING,
    UNKNOWN,
    UNMANAGED,
    UNVERIFIED,
    DiffReport,
    Finding,
)
from converter.secrets import scrub

JSON_SCHEMA_VERSION = "tf2kro-diff/v1"
MD_CHUNK = 60_000
_ORDER = {c: i for i, c in enumerate(CLASSES)}
_ICON = {ADOPTION: "🛑", DELETED: "❌", DRIFT: "⚠️", PENDING: "⏳", UNMANAGED: "➕", UNVERIFIED: "❔", UNKNOWN: "🚫"}


def _short(value: Any, limit: int = 160) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sorted_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.ignored, _ORDER.get(f.cls, 99), f.path))


def _resources(report: DiffReport) -> list[Any]:
    """Resources with adoption changes first, then deleted, drift, pending Terraform changes, unmanaged, the rest."""

    def rank(r: Any) -> tuple[int, str]:
        classes = [f.cls for f in r.findings if not f.ignored]
        best = min((_ORDER.get(c, 99) for c in classes), default=99)
        return (best, r.address)

    return sorted(report.resources, key=rank)


# ---------------------------------------------------------------------------------------------- JSON
def to_dict(report: DiffReport) -> dict[str, Any]:
    return {
        "schema": JSON_SCHEMA_VERSION,
        "source": report.source,
        "region": report.region,
        "scope": report.scope,
        "exit_code": report.exit_code,
        "summary": {
            "counts": report.counts(),
            "resources": len([r for r in report.resources if r.status != UNMANAGED]),
            "api_calls": report.total_calls,
            "http_attempts": report.http_attempts,
        },
        "api_calls": report.api_calls,
        "types": report.types,
        "resources": [
            {"address": r.address, "type": r.tf_type, "kind": r.kind, "phase": r.phase, "live_id": r.live_id,
             "status": r.status, "folded": r.folded, "findings": [f.to_dict() for f in _sorted_findings(r.findings)]}
            for r in _resources(report)
        ],
        "not_checked": report.not_checked,
    }


def render_json(report: DiffReport, secrets: list[str]) -> str:
    return scrub(json.dumps(to_dict(report), indent=2, sort_keys=False, default=str), secrets)


# ---------------------------------------------------------------------------------------------- table
def _summary_line(report: DiffReport) -> str:
    c = report.counts()
    parts = [f"{c[k]} {k}" for k in CLASSES]
    if c["ignored"]:
        parts.append(f"{c['ignored']} ignored")
    checked = len([r for r in report.resources if r.status != UNMANAGED])
    return (f"{checked} resources checked: " + ", ".join(parts)
            + f" — {report.total_calls} AWS API calls ({report.http_attempts} HTTP attempts)")


def render_table(report: DiffReport, secrets: list[str], width: int = 200) -> str:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    table = Table(box=None, show_lines=False)
    for col in ("class", "address", "path", "expected (ACK / state)", "live", "detail"):
        table.add_column(col, overflow="fold")
    for r in _resources(report):
        for f in _sorted_findings(r.findings):
            cls = f"{f.cls} (ignored)" if f.ignored else f.cls
            table.add_row(cls, f.address, f.path, _short(f.expected, 60), _short(f.live, 60), f.detail)
    if table.row_count:
        console.print(table)
    else:
        console.print("no findings")
    unknown = {t: v for t, v in report.types.items() if v["status"] != "ok"}
    for t, v in unknown.items():
        console.print(f"unknown type {t}: {v['reason']}")
    console.print(_summary_line(report))
    return scrub(console.export_text(), secrets)


# ---------------------------------------------------------------------------------------------- Markdown
def _md_cell(value: Any, limit: int = 120) -> str:
    return _short(value, limit).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: DiffReport, secrets: list[str], chunk_size: int = MD_CHUNK) -> list[str]:
    """A PR comment: summary counts first, one `<details>` per resource; split into chunks under `chunk_size`."""
    c = report.counts()
    head = ["## tf2kro diff", ""]
    verdict = ("**ACK would change AWS after adoption** — fix these before merging." if c[ADOPTION]
               else "**Drift found.**" if c[DELETED] or c[DRIFT] or c[UNMANAGED]
               else "" if c[PENDING] else "**No drift**: adopting changes nothing.")
    if c[PENDING]:
        verdict = (verdict + " " if verdict else "") + (
            "**Pending Terraform changes**: the configuration differs from state; tf2kro renders state, so these "
            "changes are lost after the hand-over — apply them first (or change the configuration).")
    head.append(verdict)
    head.append("")
    head.append("| " + " | ".join(CLASSES) + " | ignored | API calls |")
    head.append("|" + "---|" * (len(CLASSES) + 2))
    head.append("| " + " | ".join(str(c[k]) for k in CLASSES) + f" | {c['ignored']} | {report.total_calls} |")
    head.append("")
    unknown = {t: v for t, v in report.types.items() if v["status"] != "ok"}
    if unknown:
        head.append("Types not checked (`unknown`): " + "; ".join(f"`{t}`: {v['reason']}" for t, v in unknown.items()))
        head.append("")
    sections: list[str] = []
    for r in _resources(report):
        fs = [f for f in _sorted_findings(r.findings)]
        if not fs:
            continue
        classes = sorted({f.cls for f in fs if not f.ignored}, key=lambda k: _ORDER[k])
        icon = _ICON.get(classes[0], "") if classes else "✅"
        lines = [f"<details><summary>{icon} <code>{escape(r.address)}</code> — {', '.join(classes) or 'ignored only'}"
                 f" ({len(fs)})</summary>", "", "| class | path | expected (ACK / state) | live | detail |",
                 "|---|---|---|---|---|"]
        for f in fs:
            cls = f"{f.cls} (ignored)" if f.ignored else f.cls
            path = (f.path or "—") if f.address == r.address else f"{f.address} {f.path}"  # a folded child's own finding
            lines.append(f"| {cls} | `{_md_cell(path)}` | `{_md_cell(f.expected)}` | `{_md_cell(f.live)}` | "
                         f"{_md_cell(f.detail, 200)} |")
        if r.folded:
            lines.append("")
            lines.append("Folded into this object: " + ", ".join(f"`{a}`" for a in r.folded))
        lines += ["", "</details>", ""]
        sections.append("\n".join(lines))
    foot = f"\n<sub>{_summary_line(report)}</sub>\n"
    chunks: list[str] = []
    current = "\n".join(head) + "\n"
    for sec in sections:
        sec = scrub(sec, secrets)
        if len(sec) > chunk_size - 200:
            sec = sec[: chunk_size - 400] + "\n\n…(truncated)\n\n</details>\n"
        if len(current) + len(sec) + len(foot) > chunk_size:
            chunks.append(current)
            current = f"## tf2kro diff (continued, part {len(chunks) + 1})\n\n"
        current += sec
    current += foot
    chunks.append(current)
    return [scrub(ch, secrets) for ch in chunks]


# ---------------------------------------------------------------------------------------------- JUnit
def render_junit(report: DiffReport, secrets: list[str]) -> str:
    """One testcase per resource (classname = type); failure for counted findings, skipped for unknown."""
    cases = []
    failures = skipped = 0
    for r in _resources(report):
        counted = [f for f in r.findings if f.cls in COUNTED and not f.ignored]
        body = ""
        if counted:
            failures += 1
            text = "\n".join(f"{f.cls} {f.address} {f.path}: state {_short(f.expected)} config {_short(f.config)} — {f.detail}"
                             if f.cls == PENDING else
                             f"{f.cls} {f.path}: expected {_short(f.expected)} live {_short(f.live)} — {f.detail}"
                             for f in counted)
            body = (f"<failure message={quoteattr(f'{len(counted)} finding(s): ' + ', '.join(sorted({f.cls for f in counted})))}"
                    f" type=\"drift\">{escape(text)}</failure>")
        elif r.status == UNKNOWN:
            skipped += 1
            reason = next((f.detail for f in r.findings if f.cls == UNKNOWN), "unknown")
            body = f"<skipped message={quoteattr(reason)}/>"
        unverified = [f for f in r.findings if f.cls == UNVERIFIED]
        if unverified:
            body += "<system-out>" + escape("\n".join(f"unverified {f.path}: {f.detail}" for f in unverified)) + "</system-out>"
        cases.append(f'  <testcase classname={quoteattr(r.tf_type)} name={quoteattr(r.address)}>{body}</testcase>')
    xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="tf2kro-diff" tests="{len(cases)}" '
           f'failures="{failures}" errors="0" skipped="{skipped}">\n' + "\n".join(cases) + "\n</testsuite>\n</testsuites>\n")
    return scrub(xml, secrets)


__all__ = ["render_json", "render_junit", "render_markdown", "render_table", "to_dict", "DRIFT"]
