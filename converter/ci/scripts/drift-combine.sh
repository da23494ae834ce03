#!/bin/sh
# One report from every target's drift job (artifacts downloaded into IN/<target>/): IN/.../drift.md sections
# concatenated, the JUnit files merged into one <testsuites>, and the worst exit code (a target without an
# exit-code file was not checked: 2).
# Usage: ci/drift-combine.sh IN OUT EXPECTED_TARGETS_JSON   Exit: the worst of all targets.
set -eu
in=${1:?}; out=${2:?}; targets=${3:?}
mkdir -p "$out"
# a crash of the merge (unreadable targets file, broken XML) is "not checked" (2), never "findings" (1)
if ! python3 - "$in" "$out" "$targets" <<'PY'
import json, pathlib, sys
import xml.etree.ElementTree as ET
src, out, targets = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), json.loads(pathlib.Path(sys.argv[3]).read_text())
names = [t["name"] for t in targets["targets"]]
worst, md, suites = 0, ["# tf2kro drift: scheduled scan", "", "| target | result |", "|---|---|"], ET.Element("testsuites")
sections = []
for name in names:
    d = src / f"drift-{name}"
    code_file = d / "exit-code"
    code = int(code_file.read_text().strip()) if code_file.is_file() and code_file.read_text().strip().isdigit() else 2
    code = code if code in (0, 1, 2) else 2
    worst = max(worst, code)
    md.append(f"| `{name}` | {('clean', 'findings', 'NOT CHECKED')[code]} |")
    parts = sorted(d.glob("drift.md*"), key=lambda p: (len(p.name), p.name))
    sections.append(f"\n## {name}\n\n" + ("\n".join(p.read_text() for p in parts) if parts else "No report: the job did not finish (not checked).\n"))
    xml = d / "drift.xml"
    try:
        root = ET.parse(xml).getroot() if xml.is_file() else None
    except ET.ParseError:
        root, worst = None, 2  # a damaged report checks nothing
        md[-1] = f"| `{name}` | NOT CHECKED (damaged JUnit report) |"
    if root is not None:
        for s in ([root] if root.tag == "testsuite" else list(root)):
            s.set("name", f"{name}: {s.get('name', '')}")
            suites.append(s)
    else:
        s = ET.SubElement(suites, "testsuite", name=f"{name}: not checked", tests="1", errors="1")
        case = ET.SubElement(s, "testcase", name="drift", classname=name)
        ET.SubElement(case, "error", message="no report: the drift job did not finish")
(out / "drift.md").write_text("\n".join(md) + "\n" + "".join(sections))
ET.ElementTree(suites).write(out / "drift.xml", encoding="utf-8", xml_declaration=True)
(out / "exit-code").write_text(f"{worst}\n")
PY
then
  echo "::error::could not combine the drift reports: not checked" >&2
  exit 2
fi
worst=$(cat "$out/exit-code")
echo "combined the drift reports: worst exit $worst"
exit "$worst"
