"""`diff`, `inventory capture` and `fleet upgrade` fail closed (issue 9 §2, issue 10 "Read-only AWS").

No credentials or an unreachable endpoint is one line and exit 2 within seconds, and every report says
"not checked"; a resource left `unknown` is never "No drift"; an explicit --region the state disagrees with is
refused; live values cannot break out of Markdown; the guard sends only the allow-listed reads and never a
secret-value read; a capture holds no state secret and is mode 0600."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.cli import main
from converter.diff.aws import AwsClients, ReadOnlyViolation, classify_error
from converter.diff.compare import ADOPTION, UNKNOWN, DiffReport, Finding, ResourceDiff
from converter.diff.report import _MD_SPECIAL, md_escape, render_junit, render_markdown
from converter.model import ToolError
from converter.pipeline import SAMPLE_DIR
from tests import statefactory as sf
from tests.estate_builder import build

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]

REPO = Path(__file__).resolve().parents[1]
SAMPLE_STATE = SAMPLE_DIR / "terraform.tfstate"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _no_credentials_env(tmp_path: Path) -> dict[str, str]:
    """A process environment with no way to find credentials: no keys, no profile files, no IMDS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_CONFIG_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true", "HOME": str(tmp_path)})
    return env


# "Fast" = the run stops at the preflight instead of backing off through the retry budget of every read; the
# bound is loose because a loaded 2-core CI runner takes 3-14 s for the run itself (seen on this machine).
FAST_S = 45


def _tf2kro(args: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "converter", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    return proc, time.monotonic() - t0


# ---------------------------------------------------------------------------------------------- preflight
@pytest.mark.parametrize("case", ["no-credentials", "closed-port"])
def test_diff_without_aws_exits_2_fast_and_reports_not_checked(tmp_path: Path, case: str) -> None:
    env = _no_credentials_env(tmp_path)
    args = ["diff", "--state", str(SAMPLE_STATE), "--format", "md", "--output", f"junit:{tmp_path / 'r.xml'}"]
    if case == "closed-port":
        env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        args += ["--endpoint-url", f"http://127.0.0.1:{_closed_port()}"]
    proc, elapsed = _tf2kro(args, env, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert elapsed < FAST_S, f"took {elapsed:.1f} s"
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1
    cause = "no usable AWS credentials" if case == "no-credentials" else "endpoint unreachable"
    assert cause in errors[0] and "checked" in errors[0]
    # stderr is that one line: no summary, no `unknown type …` line per type repeating the cause
    assert [ln for ln in proc.stderr.splitlines() if ln.strip()] == errors, proc.stderr
    md = proc.stdout
    assert "**Not checked**" in md and "not a clean result" in md and "No drift" not in md
    assert md.count(cause) == 1 and "<details>" not in md  # the cause once, no section per resource
    root = ET.parse(tmp_path / "r.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None and int(suite.get("errors")) == len(suite.findall("testcase")) > 0
    assert suite.get("skipped") == "0" and suite.get("timestamp") and suite.get("time")
    print(f"\n{case}: exit 2 after {elapsed:.2f} s")


def test_diff_table_without_credentials_states_the_cause_once(tmp_path: Path) -> None:
    """The default table on a failed preflight: the verdict and the cause once, not one row per resource."""
    proc, _ = _tf2kro(["diff", "--state", str(SAMPLE_STATE)], _no_credentials_env(tmp_path), tmp_path)
    assert proc.returncode == 2, proc.stderr
    out = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(out) == 1 and out[0].startswith("NOT CHECKED") and "not a clean result" in out[0], proc.stdout
    assert proc.stdout.count("no usable AWS credentials") == 1
    err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("error:") and "no usable AWS credentials" in err[0], proc.stderr


def test_capture_without_credentials_writes_nothing_and_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "live.json"
    proc, elapsed = _tf2kro(["inventory", "capture", "--state", str(SAMPLE_STATE), "--out", str(out)],
                            _no_credentials_env(tmp_path), tmp_path)
    assert proc.returncode == 2 and elapsed < FAST_S
    assert not out.exists()
    assert [ln for ln in proc.stderr.splitlines() if ln.strip()] == [proc.stderr.strip()]  # one line
    assert "no usable AWS credentials" in proc.stderr


def test_fleet_upgrade_without_credentials_is_one_line_exit_2(tmp_path: Path) -> None:
    proc, elapsed = _tf2kro(["fleet", "upgrade", "--config", str(REPO / "samples" / "fleet.yaml"), "--cluster",
                             "platform-staging", "--to", "1.31", "--state", str(SAMPLE_STATE), "--out",
                             str(tmp_path / "o"), "--profile", "nobody"], _no_credentials_env(tmp_path), tmp_path)
    assert proc.returncode == 2 and elapsed < FAST_S, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "nobody" in lines[0], proc.stderr
    assert not (tmp_path / "o").exists()
    proc, _ = _tf2kro(["fleet", "upgrade", "--config", str(REPO / "samples" / "fleet.yaml"), "--cluster",
                       "platform-staging", "--to", "1.31", "--state", str(SAMPLE_STATE), "--out", str(tmp_path / "o")],
                      _no_credentials_env(tmp_path), tmp_path)
    assert proc.returncode == 2 and "no usable AWS credentials" in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1


def test_preflight_prints_identity_and_diff_reads(moto: MotoServer, tmp_path: Path) -> None:
    est = build(moto.client)
    path = tmp_path / "terraform.tfstate"
    path.write_text(est.state_json())
    res = CliRunner().invoke(main, ["diff", "--state", str(path), "--endpoint-url", moto.url, "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "AWS: account 123456789012, partition aws, region eu-west-1, endpoint " + moto.url in res.stderr
    assert json.loads(res.stdout)["verdict"] == "clean"


def test_explicit_region_disagreeing_with_state_is_refused(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["diff", "--state", str(SAMPLE_STATE), "--region", "us-east-1",
                                    "--endpoint-url", f"http://127.0.0.1:{_closed_port()}"])
    assert res.exit_code == 2
    assert "--region us-east-1 disagrees with the state" in res.stderr and "eu-west-1" in res.stderr
    res = CliRunner().invoke(main, ["inventory", "capture", "--state", str(SAMPLE_STATE), "--region", "us-east-1",
                                    "--out", str(tmp_path / "c.json")])
    assert res.exit_code == 2 and "disagrees" in res.stderr and not (tmp_path / "c.json").exists()


# ---------------------------------------------------------------------------------------------- unknown
def _capture_with_unknown(moto: MotoServer, tmp_path: Path) -> tuple[Path, Path]:
    est = build(moto.client)
    path = tmp_path / "terraform.tfstate"
    path.write_text(est.state_json())
    cap = tmp_path / "live.json"
    res = CliRunner().invoke(main, ["inventory", "capture", "--state", str(path), "--endpoint-url", moto.url,
                                    "--out", str(cap)])
    assert res.exit_code == 0, res.output
    doc = json.loads(cap.read_text())
    doc["types"]["aws_subnet"].update(status="unknown", reason="denied: DescribeSubnets: AccessDenied", items={},
                                      missing=[])
    cap.write_text(json.dumps(doc))
    return path, cap


def test_unknown_is_not_checked_exit_2_and_junit_error(moto: MotoServer, tmp_path: Path) -> None:
    path, cap = _capture_with_unknown(moto, tmp_path)
    md, xml = tmp_path / "r.md", tmp_path / "r.xml"
    res = CliRunner().invoke(main, ["diff", "--state", str(path), "--live", str(cap), "--format", "json",
                                    "--output", f"md:{md}", "--output", f"junit:{xml}"])
    assert res.exit_code == 2, res.output
    doc = json.loads(res.stdout)
    assert doc["verdict"] == "not-checked" and doc["exit_code"] == 2 and doc["summary"]["unknown"] >= 1
    text = md.read_text()
    assert "**Not checked**" in text and "No drift" not in text and "AccessDenied" in text
    cases = {c.get("name"): c for c in ET.parse(xml).getroot().iter("testcase")}
    subnets = [c for n, c in cases.items() if n.startswith("aws_subnet.")]
    assert subnets and all(c.find("error") is not None and c.find("skipped") is None for c in subnets)
    assert {c.find("error").get("type") for c in subnets} == {UNKNOWN}
    # accepted: exit on what was read, junit marks them skipped, md never says plain "No drift"
    res = CliRunner().invoke(main, ["diff", "--state", str(path), "--live", str(cap), "--format", "md",
                                    "--allow-unknown", "--output", f"junit:{xml}"])
    assert res.exit_code == 0, res.output
    assert "No drift" not in res.stdout and "not checked" in res.stdout
    cases = {c.get("name"): c for c in ET.parse(xml).getroot().iter("testcase")}
    assert all(cases[n].find("skipped") is not None for n in cases if n.startswith("aws_subnet."))
    res = CliRunner().invoke(main, ["diff", "--state", str(path), "--live", str(cap), "--format", "json",
                                    "--allow-unknown"])
    assert res.exit_code == 0 and json.loads(res.stdout)["verdict"] == "partially-checked"


def test_plan_live_with_unknown_or_deleted_is_blocking(moto: MotoServer, tmp_path: Path) -> None:
    path, cap = _capture_with_unknown(moto, tmp_path)
    doc = json.loads(cap.read_text())
    vpc = doc["types"]["aws_vpc"]
    gone = vpc["requested"][0]
    vpc["items"].pop(gone)
    vpc["missing"] = [gone]
    cap.write_text(json.dumps(doc))
    out = tmp_path / "plan"
    res = CliRunner().invoke(main, ["plan", "--state", str(path), "--out", str(out), "--live", str(cap)])
    assert res.exit_code == 0, res.output
    plan = json.loads((out / "environments" / "main" / "plan.json").read_text())
    network = next(p for p in plan["phases"] if p["phase"] == "network")
    blocking = {f["kind"] for f in network["findings"] if f["severity"] == "blocking"}
    assert {"not-checked", "deleted"} <= blocking, network["findings"]


# ---------------------------------------------------------------------------------------------- outputs
def test_one_scan_several_outputs_and_tf2kroignore_discovery(moto: MotoServer, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    est = build(moto.client)
    path = tmp_path / "terraform.tfstate"
    path.write_text(est.state_json())
    moto.client("ec2").create_tags(Resources=[est.ids["vpc"]], Tags=[{"Key": "Owner", "Value": "someone"}])
    files = {k: tmp_path / f"r.{k}" for k in ("md", "junit", "json")}
    res = CliRunner().invoke(main, ["diff", "--state", str(path), "--endpoint-url", moto.url, "--format", "table",
                                    *[a for k, f in files.items() for a in ("--output", f"{k}:{f}")]])
    assert res.exit_code == 1, res.output
    calls = json.loads(files["json"].read_text())["summary"]["api_calls"]
    assert "adoption-would-change" in res.stdout and "resources checked" in res.stdout  # stdout keeps --format
    assert "<details>" in files["md"].read_text()
    failure = next(c.find("failure") for c in ET.parse(files["junit"]).getroot().iter("testcase")
                   if c.get("name") == "aws_vpc.main")
    assert failure.get("type") == ADOPTION
    assert res.stderr.count("AWS: account") == 1 and calls > 0  # one preflight, one scan for three reports
    # .tf2kroignore in the working directory is the baseline
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tf2kroignore").write_text("- address: aws_vpc.main\n  path: 'spec.tags.Owner'\n"
                                            "- address: aws_vpc.main\n  path: 'tags_all.*'\n")
    res = CliRunner().invoke(main, ["diff", "--state", str(path), "--endpoint-url", moto.url])
    assert res.exit_code == 0, res.output
    assert "using the ignore baseline .tf2kroignore" in res.stderr


def _report_with_live(value: str) -> DiffReport:
    rd = ResourceDiff(address="aws_vpc.main", tf_type="aws_vpc", kind="ec2/VPC", phase="network", live_id="vpc-1",
                      status="changed")
    rd.findings = [Finding(cls=ADOPTION, address=rd.address, tf_type="aws_vpc", path="spec.tags.Owner", expected=None,
                           live=value, detail=f"only in AWS: {value}")]
    return DiffReport(resources=[rd], types={}, api_calls={}, http_attempts=0, scope={}, region="eu-west-1",
                      source="aws")


CRAFTED = "x` </code></details><img src=x onerror=alert(1)> | @org/team #1 *b* [l](http://e) $m$ \\ ``"


def test_markdown_escapes_a_crafted_live_tag_value() -> None:
    md = "".join(render_markdown(_report_with_live(CRAFTED), []))
    assert "<img" not in md and "onerror=alert" in md  # the text is there, inert
    assert md.count("<details>") == md.count("</details>") == 1
    assert md.count("<code>") == md.count("</code>")
    row = next(ln for ln in md.splitlines() if ln.startswith("| adoption-would-change | <code>"))
    assert row.count("|") == 6  # no cell was split by the value's `|`
    for cell in row.split("<code>")[1:]:
        inner = cell.split("</code>")[0]
        assert not set(inner.replace("&#", "").replace(";", "")) & set("`<>|@#*[]$\\")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_md_escape_leaves_no_markup(text: str) -> None:
    import re

    out = md_escape(text)
    bare = re.sub(r"&#\d+;", "", out)
    assert "\n" not in bare and "\r" not in bare
    leftover = set(bare) & _MD_SPECIAL
    assert leftover <= {"_"}
    assert all(0 < m.start() < len(bare) - 1 and bare[m.start() - 1].isalnum() and bare[m.start() + 1].isalnum()
               for m in re.finditer("_", bare))


def test_html_error_page_bodies_never_reach_a_report() -> None:
    from botocore.exceptions import ClientError

    body = "<html><head><title>502</title></head><body>upstream said: token=abc123secret</body></html>"
    exc = ClientError({"Error": {"Code": "502", "Message": body}, "ResponseMetadata": {"HTTPStatusCode": 502}},
                      "DescribeVpcs")
    _, msg = classify_error(exc)
    assert "abc123secret" not in msg and "<html" not in msg and "502" in msg and "DescribeVpcs" in msg


def test_junit_failure_type_is_the_finding_class_and_secrets_are_scrubbed_before_escaping() -> None:
    secret = 'pa"ss&w<rd>42'
    xml = render_junit(_report_with_live(secret), [secret], elapsed=1.5, timestamp="2026-01-01T00:00:00+00:00")
    root = ET.fromstring(xml)
    case = next(root.iter("testcase"))
    assert case.find("failure").get("type") == ADOPTION
    assert root.find("testsuite").get("timestamp") == "2026-01-01T00:00:00+00:00"
    assert root.find("testsuite").get("time") == "1.500"
    assert secret not in ET.tostring(root, encoding="unicode") and "pa&quot;ss&amp;w" not in xml
    assert secret not in "".join(render_markdown(_report_with_live(secret), [secret]))
    assert "pa&#34;ss&#38;w" not in "".join(render_markdown(_report_with_live(secret), [secret]))


# ---------------------------------------------------------------------------------------------- guard
def test_guard_allows_only_the_listed_reads_and_never_secret_reads(moto: MotoServer) -> None:
    clients = AwsClients(region="eu-west-1", endpoint_url=moto.url)
    refused = [
        lambda: clients.client("secretsmanager").get_secret_value(SecretId="x"),
        lambda: clients.client("ssm").get_parameter(Name="x", WithDecryption=True),
        lambda: clients.client("ssm").get_parameters_by_path(Path="/"),
        lambda: clients.client("ecr").get_authorization_token(),
        lambda: clients.client("sts").get_session_token(),
        lambda: clients.client("kms").decrypt(CiphertextBlob=b"x"),
        lambda: clients.client("cognito-identity").get_id(IdentityPoolId="eu-west-1:x"),
        lambda: clients.client("ec2").describe_images(),  # a read, but no mapping uses it
        lambda: clients.client("iam").list_access_keys(),
    ]
    for call in refused:
        with pytest.raises(ReadOnlyViolation):
            call()
    assert clients.total_attempts == 0  # nothing was sent
    # even an allow-list that names a secret read does not let it through
    rogue = AwsClients(region="eu-west-1", endpoint_url=moto.url,
                       allowed=frozenset({("secretsmanager", "GetSecretValue"), ("ec2", "DescribeVpcs")}))
    with pytest.raises(ReadOnlyViolation, match="secret"):
        rogue.client("secretsmanager").get_secret_value(SecretId="x")
    rogue.client("ec2").describe_vpcs()
    assert rogue.total_attempts == 1
    # the mappings' reads and the fixed ones go through
    clients.client("ec2").describe_vpcs()
    clients.client("sts").get_caller_identity()
    assert clients.total_calls == 2


def _mappings_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings", dst)
    return dst


def test_mapping_schema_rejects_an_operation_outside_the_allow_list(tmp_path: Path) -> None:
    from converter.mapping.spec import load_mappings

    d = _mappings_copy(tmp_path)
    f = d / "ec2.yaml"
    f.write_text(f.read_text().replace("operation: DescribeVpcs", "operation: DescribeImages", 1))
    with pytest.raises(ToolError, match="readOperation|is not one of") as err:
        load_mappings(str(d))
    assert "ec2.yaml" in str(err.value.source)


def test_mapping_naming_a_secret_read_is_refused_even_if_the_schema_lists_it(tmp_path: Path) -> None:
    from converter.mapping.spec import load_mappings

    d = _mappings_copy(tmp_path)
    schema = d / "_schema.yaml"
    schema.write_text(schema.read_text().replace("      - DescribeVpcs\n", "      - DescribeVpcs\n      - GetSecretValue\n"))
    f = d / "secretsmanager.yaml"
    text = f.read_text()
    assert "operation: DescribeSecret" in text
    f.write_text(text.replace("operation: DescribeSecret", "operation: GetSecretValue", 1))
    with pytest.raises(ToolError, match="secretsmanager:GetSecretValue reads secret values"):
        load_mappings(str(d))


# ---------------------------------------------------------------------------------------------- capture
def test_capture_is_0600_and_holds_no_state_secret(moto: MotoServer, tmp_path: Path) -> None:
    secret = 'db-"pass"&<word>-7781'
    est = build(moto.client)
    # a live tag that echoes a state secret (someone pasted it into a tag): the capture must not keep it
    moto.client("ec2").create_tags(Resources=[est.ids["vpc"]], Tags=[{"Key": "Note", "Value": f"pw={secret}"}])
    est.add("aws_ssm_parameter", "db", {"id": "/db/pw", "name": "/db/pw", "type": "SecureString", "value": secret,
                                         "arn": "arn:aws:ssm:eu-west-1:123456789012:parameter/db/pw"})
    doc = json.loads(est.state_json())
    for r in doc["resources"]:
        if r["type"] == "aws_ssm_parameter":
            r["instances"][0]["sensitive_attributes"] = [[{"type": "get_attr", "value": "value"}]]
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(doc))
    cap = tmp_path / "caps" / "live.json"
    res = CliRunner().invoke(main, ["inventory", "capture", "--state", str(path), "--endpoint-url", moto.url,
                                    "--out", str(cap)])
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(cap.stat().st_mode) == 0o600
    text = cap.read_text()
    assert secret not in text and json.dumps(secret)[1:-1] not in text and "7781" not in text
    tags = json.loads(text)["types"]["aws_vpc"]["items"][est.ids["vpc"]]["Tags"]
    assert {"Key": "Note", "Value": "pw=***"} in tags


def test_state_with_no_readable_resource_is_not_an_empty_capture(tmp_path: Path, moto: MotoServer) -> None:
    path = tmp_path / "terraform.tfstate"
    path.write_text(sf.state(sf.resource("null_resource", "x", {"id": "1"})))
    out = tmp_path / "live.json"
    res = CliRunner().invoke(main, ["inventory", "capture", "--state", str(path), "--region", "eu-west-1",
                                    "--endpoint-url", moto.url, "--out", str(out)])
    assert res.exit_code == 2 and "nothing to capture" in res.stderr and not out.exists()


@settings(max_examples=150, deadline=None)
@given(secret=st.text(st.characters(blacklist_characters='*"{}[]:, ', blacklist_categories=("Cs",)),
                      min_size=6, max_size=24),  # JSON syntax characters excluded: they occur in any document
       prefix=st.text(max_size=8), suffix=st.text(max_size=8))
def test_scrub_tree_removes_a_secret_from_every_leaf_in_every_json_form(secret: str, prefix: str, suffix: str) -> None:
    from converter.diff.redact import contains_secret, scrub_tree

    doc = {"Tags": [{"Key": f"{prefix}{secret}", "Value": f"{prefix}{secret}{suffix}"}],
           "nested": {"list": [secret, 1, None, {"deep": suffix + secret}]}}
    clean = scrub_tree(doc, [secret])
    assert contains_secret(doc, [secret]) and not contains_secret(clean, [secret])
    text = json.dumps(clean)  # ensure_ascii: non-ASCII secrets would appear \u-escaped
    assert secret not in text and json.dumps(secret)[1:-1] not in text


def test_endpoint_lost_mid_scan_stops_after_one_retry(moto: MotoServer, tmp_path: Path) -> None:
    """The preflight passed, then EC2 stops answering: the scan stops with one line (not 8 attempts with backoff
    for every type)."""
    from botocore.exceptions import EndpointConnectionError

    from converter.diff.aws import AwsUnreachable
    from converter.diff.run import run_diff
    from converter.pipeline import load_estate

    est = build(moto.client)
    path = tmp_path / "terraform.tfstate"
    path.write_text(est.state_json())

    sent = []

    def refuse(request, event_name="", **kw):
        sent.append(event_name)
        raise EndpointConnectionError(endpoint_url=request.url)

    clients = AwsClients(region="eu-west-1", endpoint_url=moto.url, max_attempts=8,
                         extra_handlers=[("before-send.ec2", refuse)])
    clients.preflight()
    t0 = time.monotonic()
    with pytest.raises(AwsUnreachable, match="endpoint unreachable .EndpointConnectionError. after 2 attempts"):
        run_diff(load_estate(path, region="eu-west-1"), clients=clients)
    assert time.monotonic() - t0 < 10
    assert len(sent) == 2 and len(set(sent)) == 1  # one call, retried once, then the scan stopped
