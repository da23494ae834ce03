"""Render a `DiffReport`: table (rich), JSON (schema in docs/diff.md), Markdown (PR comment, chunked), JUnit XML.

Every renderer scrubs the estate's secrets out of its data before escaping (`redact.scrub_tree`) and out of its
final text as a last guard: rendered specs never hold secrets and sensitive state attributes are not compared,
but a live value could still echo one.

The verdict (`verdict()`): any resource left `unknown` means the estate was **not checked** — exit 2 and never
"No drift" — unless `--allow-unknown` (a failed preflight is exit 2 even then: the command sees to that). Live values are untrusted: in
Markdown they are entity-escaped inside `<code>`, so a tag value cannot close its code span, the `<details>`
block or inject HTML, mentions or links.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
from dataclasses import dataclass
from typing import Any

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
from converter.diff.redact import scrub_tree
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


NOT_CHECKED = "not-checked"
FINDINGS = "findings"
PARTIAL = "partially-checked"
CLEAN = "clean"


@dataclass(frozen=True)
class Verdict:
    """What the run means for CI: `not-checked` (exit 2), `findings` (exit 1), `partially-checked` (unknown
    resources accepted by --allow-unknown, exit 0) or `clean` (exit 0)."""

    status: str
    exit_code: int
    checked: int  # resources actually compared with a live read
    unknown: int  # resources left unknown
    allow_unknown: bool


def verdict(report: DiffReport, allow_unknown: bool = False) -> Verdict:
    resources = [r for r in report.resources if r.status != UNMANAGED]
    unknown = sum(1 for r in resources if r.status == UNKNOWN)
    checked = len(resources) - unknown
    findings = report.exit_code == 1
    if unknown and not allow_unknown:
        return Verdict(NOT_CHECKED, 2, checked, unknown, allow_unknown)
    if findings:
        return Verdict(FINDINGS, 1, checked, unknown, allow_unknown)
    # unknown resources accepted by --allow-unknown: exit 0, but the report never calls it clean
    return Verdict(PARTIAL if unknown else CLEAN, 0, checked, unknown, allow_unknown)


def now_iso() -> str:
    """When a scan ran, as the reports record it (JSON `generated_at`, JUnit testsuite `timestamp`): ISO-8601 UTC."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------- JSON
def to_dict(report: DiffReport, allow_unknown: bool = False, generated_at: str | None = None) -> dict[str, Any]:
    v = verdict(report, allow_unknown)
    return {
        "schema": JSON_SCHEMA_VERSION,
        "generated_at": generated_at or now_iso(),  # what `inventory metrics` reports as the scan's time
        "source": report.source,
        "region": report.region,
        "scope": report.scope,
        "verdict": v.status,
        "exit_code": v.exit_code,
        "summary": {
            "counts": report.counts(),
            "resources": len([r for r in report.resources if r.status != UNMANAGED]),
            "checked": v.checked,
            "unknown": v.unknown,
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
        **({"failure": report.failure} if report.failure else {}),
    }


def render_json(report: DiffReport, secrets: list[str], allow_unknown: bool = False,
                generated_at: str | None = None) -> str:
    doc = scrub_tree(json.loads(json.dumps(to_dict(report, allow_unknown, generated_at), default=str)), secrets)
    return scrub(json.dumps(doc, indent=2, sort_keys=False), secrets)


# ---------------------------------------------------------------------------------------------- table
def _summary_line(report: DiffReport) -> str:
    c = report.counts()
    parts = [f"{c[k]} {k}" for k in CLASSES]
    if c["ignored"]:
        parts.append(f"{c['ignored']} ignored")
    checked = len([r for r in report.resources if r.status != UNMANAGED])
    return (f"{checked} resources checked: " + ", ".join(parts)
            + f" — {report.total_calls} AWS API calls ({report.http_attempts} HTTP attempts)")


def render_table(report: DiffReport, secrets: list[str], width: int = 200, allow_unknown: bool = False) -> str:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    if report.failure:  # nothing was read: the cause once, not one row (and one type line) per resource repeating it
        n = len([r for r in report.resources if r.status != UNMANAGED])
        console.print(f"NOT CHECKED: none of {n} resource(s) could be read from AWS; this is not a clean result. "
                      f"Cause: {report.failure}")
        return scrub(console.export_text(), secrets)
    table = Table(box=None, show_lines=False)
    for col in ("class", "address", "path", "expected (ACK / state)", "live", "detail"):
        table.add_column(col, overflow="fold")
    for r in _resources(report):
        for f in _sorted_findings(r.findings):
            cls = f"{f.cls} (ignored)" if f.ignored else f.cls
            table.add_row(*(scrub(x, secrets) for x in (cls, f.address, f.path, _short(f.expected, 60),
                                                        _short(f.live, 60), f.detail)))
    if table.row_count:
        console.print(table)
    else:
        console.print("no findings")
    unknown = {t: v for t, v in report.types.items() if v["status"] != "ok"}
    for t, v in unknown.items():
        console.print(f"unknown type {t}: {v['reason']}")
    console.print(_summary_line(report))
    v = verdict(report, allow_unknown)
    if v.status == NOT_CHECKED:
        console.print(f"NOT CHECKED: {v.unknown} resource(s) could not be read (unknown); this is not a clean result "
                      "(--allow-unknown accepts it)")
    return scrub(console.export_text(), secrets)


# ---------------------------------------------------------------------------------------------- Markdown
# Characters with a meaning in HTML or (GitHub-flavoured) Markdown: code spans, emphasis, links, tables, math,
# mentions, issue references. Inside a cell every one becomes a numeric entity.
_MD_SPECIAL = frozenset("&<>\"'`*_[]\\|~$@#")


def md_escape(text: str) -> str:
    """`text` as inert Markdown/HTML: entities for every special character, one line. An underscore between two
    letters/digits stays as is (GFM never reads it as emphasis), so `aws_vpc.main` remains greppable."""
    out = []
    for i, ch in enumerate(text):
        if ch == "_" and 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum():
            out.append(ch)
        elif ch in _MD_SPECIAL:
            out.append(f"&#{ord(ch)};")
        else:
            out.append(" " if ch in "\r\n\t" else ch)
    return "".join(out)


def md_code(value: Any, secrets: list[str], limit: int = 120) -> str:
    """An untrusted value in a `<code>` element that it cannot leave (scrubbed first, then escaped)."""
    return f"<code>{md_escape(scrub(_short(value, limit), secrets))}</code>"


def md_text(value: Any, secrets: list[str], limit: int = 200) -> str:
    return md_escape(scrub(_short(value, limit), secrets))


def _md_verdict(report: DiffReport, v: Verdict) -> str:
    c = report.counts()
    if v.status == NOT_CHECKED:
        text = (f"**Not checked**: {v.unknown} resource(s) could not be read (`unknown`) — this is not a clean "
                "result. Fix the credentials/permissions below, or accept with `--allow-unknown`.")
        if v.checked == 0:
            text = ("**Not checked**: nothing could be read from AWS — this is not a clean result. "
                    "See the reason below.")
        if report.exit_code == 1:
            text += " Findings among the resources that were read are listed below."
        return text
    if c[ADOPTION]:
        text = "**ACK would change AWS after adoption** — fix these before merging."
    elif c[DELETED] or c[DRIFT] or c[UNMANAGED]:
        text = "**Drift found.**"
    elif c[PENDING]:
        text = ""
    elif v.unknown:
        text = (f"**Checked resources are in sync**; {v.unknown} resource(s) were not checked (`unknown`, "
                "accepted by `--allow-unknown`).")
    else:
        text = "**No drift**: adopting changes nothing."
    if c[PENDING]:
        text = (text + " " if text else "") + (
            "**Pending Terraform changes**: the configuration differs from state; tf2kro renders state, so these "
            "changes are lost after the hand-over — apply them first (or change the configuration).")
    if v.unknown and v.status == FINDINGS:
        text += f" {v.unknown} resource(s) were not checked (`unknown`, accepted by `--allow-unknown`)."
    return text


def _cut(sec: str, limit: int) -> str:
    """A section cut at a line boundary under `limit` (never inside an entity or a tag)."""
    head = sec[:limit]
    nl = head.rfind("\n")
    return (head[:nl] if nl > 0 else "") + "\n\n…(truncated)\n\n</details>\n"


def render_markdown(report: DiffReport, secrets: list[str], chunk_size: int = MD_CHUNK,
                    allow_unknown: bool = False) -> list[str]:
    """A PR comment: verdict and summary counts first, one `<details>` per resource; split into chunks under
    `chunk_size`."""
    c = report.counts()
    v = verdict(report, allow_unknown)
    head = ["## tf2kro diff", "", _md_verdict(report, v), ""]
    head.append("| " + " | ".join(CLASSES) + " | ignored | API calls |")
    head.append("|" + "---|" * (len(CLASSES) + 2))
    head.append("| " + " | ".join(str(c[k]) for k in CLASSES) + f" | {c['ignored']} | {report.total_calls} |")
    head.append("")
    unknown = {t: tv for t, tv in report.types.items() if tv["status"] != "ok"}
    if report.failure:  # the cause once; no per-resource section repeating it
        head += [f"Cause: {md_text(report.failure, secrets, 600)}", ""]
        return [scrub("\n".join(head), secrets)]
    if unknown:
        by_reason: dict[str, list[str]] = {}
        for t, tv in unknown.items():
            by_reason.setdefault(str(tv.get("reason") or "not read"), []).append(t)
        head.append("Types not checked (`unknown`):")
        head.append("")
        for reason, types in by_reason.items():
            head.append(f"- {md_text(reason, secrets, 400)}: " + ", ".join(md_code(t, secrets) for t in types))
        head.append("")
    sections: list[str] = []
    for r in _resources(report):
        fs = [f for f in _sorted_findings(r.findings)]
        if not fs:
            continue
        classes = sorted({f.cls for f in fs if not f.ignored}, key=lambda k: _ORDER[k])
        icon = _ICON.get(classes[0], "") if classes else "✅"
        lines = [f"<details><summary>{icon} {md_code(r.address, secrets, 300)} — {', '.join(classes) or 'ignored only'}"
                 f" ({len(fs)})</summary>", "", "| class | path | expected (ACK / state) | live | detail |",
                 "|---|---|---|---|---|"]
        for f in fs:
            cls = f"{f.cls} (ignored)" if f.ignored else f.cls
            path = (f.path or "—") if f.address == r.address else f"{f.address} {f.path}"  # a folded child's own finding
            lines.append(f"| {cls} | {md_code(path, secrets)} | {md_code(f.expected, secrets)} | "
                         f"{md_code(f.live, secrets)} | {md_text(f.detail, secrets)} |")
        if r.folded:
            lines.append("")
            lines.append("Folded into this object: " + ", ".join(md_code(a, secrets, 300) for a in r.folded))
        lines += ["", "</details>", ""]
        sections.append("\n".join(lines))
    foot = f"\n<sub>{_summary_line(report)}</sub>\n"
    chunks: list[str] = []
    current = "\n".join(head) + "\n"
    for sec in sections:
        sec = scrub(sec, secrets)
        if len(sec) > chunk_size - 200:
            sec = _cut(sec, chunk_size - 400)
        if len(current) + len(sec) + len(foot) > chunk_size:
            chunks.append(current)
            current = f"## tf2kro diff (continued, part {len(chunks) + 1})\n\n"
        current += sec
    current += foot
    chunks.append(current)
    return [scrub(ch, secrets) for ch in chunks]


# ---------------------------------------------------------------------------------------------- JUnit
def render_junit(report: DiffReport, secrets: list[str], *, allow_unknown: bool = False,
                 timestamp: str | None = None, elapsed: float = 0.0) -> str:
    """One testcase per resource (classname = Terraform type). A counted finding is a `<failure>` whose `type` is
    the most severe finding class (adoption-would-change, deleted, drift, pending-terraform-change, unmanaged); an
    `unknown` resource is an `<error type="unknown">` (it was not checked — CI must not read it as passed), or
    `<skipped>` when `--allow-unknown` accepted it."""
    from xml.etree import ElementTree as ET

    def clean(text: str) -> str:  # scrubbed before XML escaping, so `&amp;`-escaped secrets cannot slip through
        return "".join(ch for ch in scrub(text, secrets) if ch in "\t\n" or ord(ch) >= 0x20)

    ts = timestamp or now_iso()
    suites = ET.Element("testsuites", {"name": "tf2kro-diff", "time": f"{elapsed:.3f}"})
    suite = ET.SubElement(suites, "testsuite", {"name": "tf2kro-diff", "timestamp": ts, "time": f"{elapsed:.3f}",
                                                "hostname": "aws" if report.source == "aws" else "capture"})
    failures = errors = skipped = tests = 0
    for r in _resources(report):
        tests += 1
        case = ET.SubElement(suite, "testcase", {"classname": clean(r.tf_type), "name": clean(r.address),
                                                 "time": "0.000"})
        counted = [f for f in r.findings if f.cls in COUNTED and not f.ignored]
        if counted:
            failures += 1
            classes = sorted({f.cls for f in counted}, key=lambda k: _ORDER.get(k, 99))
            text = "\n".join(f"{f.cls} {f.address} {f.path}: state {_short(f.expected)} config {_short(f.config)} — {f.detail}"
                             if f.cls == PENDING else
                             f"{f.cls} {f.path}: expected {_short(f.expected)} live {_short(f.live)} — {f.detail}"
                             for f in counted)
            el = ET.SubElement(case, "failure", {"type": classes[0],
                                                 "message": clean(f"{len(counted)} finding(s): " + ", ".join(classes))})
            el.text = clean(text)
        elif r.status == UNKNOWN:
            reason = ("nothing could be read from AWS (cause in the testsuite's system-err)" if report.failure else
                      clean(next((f.detail for f in r.findings if f.cls == UNKNOWN), "unknown")))
            if allow_unknown:
                skipped += 1
                ET.SubElement(case, "skipped", {"message": f"not checked (accepted by --allow-unknown): {reason}"})
            else:
                errors += 1
                el = ET.SubElement(case, "error", {"type": UNKNOWN, "message": f"not checked: {reason}"})
                el.text = reason
        unverified = [f for f in r.findings if f.cls == UNVERIFIED]
        if unverified:
            ET.SubElement(case, "system-out").text = clean("\n".join(f"unverified {f.path}: {f.detail}" for f in unverified))
    if report.failure:
        ET.SubElement(suite, "system-err").text = clean(f"not checked: {report.failure}")
    for el in (suites, suite):
        el.set("tests", str(tests))
        el.set("failures", str(failures))
        el.set("errors", str(errors))
        el.set("skipped", str(skipped))
    ET.indent(suites, space=" ")
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    return scrub(xml, secrets)


__all__ = ["render_json", "render_junit", "render_markdown", "render_table", "now_iso", "to_dict", "verdict", "Verdict", "DRIFT"]
