"""tf2kro plan: the Terraform handoff of every phase equals exactly what the phase's manifests adopt or fold
(nothing managed twice, nothing orphaned), removed/import blocks parse back and are fmt-clean, PR bodies,
secrets, and `plan --status` from kubectl JSON."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest
import yaml
from click.testing import CliRunner

from converter.cli import main
from converter.emit.kro import report
from converter.emit.naming import Naming
from converter.load.address import config_address
from converter.mapping.engine import READ_ONLY, TF_ADDRESS
from converter.pipeline import SAMPLE_DIR, load_estate
from converter.plan.terraform import hcl_string, import_id
from tests import statefactory as sf

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "tfstate"  # absent in a plain clone: no cases


def _v4(p: Path) -> bool:
    try:
        return json.loads(p.read_text(encoding="utf-8")).get("version") == 4
    except (OSError, ValueError):
        return False


CORPUS_STATES = sorted(p for p in CORPUS.glob("*.tfstate*") if _v4(p)) if CORPUS.exists() else []
SAMPLE_STATE = SAMPLE_DIR / "terraform.tfstate"
ALL_STATES = ([pytest.param(SAMPLE_STATE, id="sample")] if SAMPLE_STATE.exists() else []) + [
    pytest.param(p, id=p.name[:60], marks=pytest.mark.corpus) for p in CORPUS_STATES
]
TERRAFORM = shutil.which("terraform")


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _unquote(s: str) -> str:
    assert s.startswith('"') and s.endswith('"'), s
    s = s[1:-1]
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), s).replace(
        "$${", "${").replace("%%{", "%{")


def _trav(s: str) -> str:
    assert s.startswith("${") and s.endswith("}"), s
    return s[2:-1]


def _fmt_check(text: str, tmp_path: Path) -> None:
    if not TERRAFORM:
        return
    home = tmp_path / "tfhome"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home), "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([TERRAFORM, "fmt", "-check", "-"], input=text, capture_output=True, text=True, env=env,
                          cwd=home, timeout=60)
    # with "-" fmt -check prints nothing and exits 0 when already formatted
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _state_rm_addresses(sh: str) -> list[str]:
    out = []
    for line in sh.splitlines():
        line = line.strip().rstrip("\\").strip()
        if line.startswith("'"):
            out.extend(shlex.split(line))
    return out


# ---------------------------------------------------------------------------------------------- units
def test_import_id_templates():
    assert import_id(None, {"id": "vpc-1"}).value == "vpc-1"
    assert import_id("{role}/{policy_arn}", {"role": "r", "policy_arn": "arn:x"}).value == "r/arn:x"
    tpl = "{route_table_id}_{destination_cidr_block|destination_ipv6_cidr_block|destination_prefix_list_id}"
    assert import_id(tpl, {"route_table_id": "rtb-1", "destination_cidr_block": "", "destination_ipv6_cidr_block": "::/0"}
                     ).value == "rtb-1_::/0"
    missing = import_id(tpl, {"route_table_id": "rtb-1"})
    assert missing.value is None and "destination_cidr_block" in missing.manual
    assert import_id("{network_acl_id}:{rule_number}:{protocol}:{egress}",
                     {"network_acl_id": "acl-1", "rule_number": 100, "protocol": "tcp", "egress": False}).value == "acl-1:100:tcp:false"
    m = import_id("manual: build it", {"id": "x"})
    assert m.value is None and m.manual == "build it"
    assert import_id("{log_group_name}|{name}", {"log_group_name": "g", "name": "f"}).value == "g|f"


def test_hcl_string_round_trip():
    for raw in ['plain', 'with "quotes"', 'back\\slash', 'tmpl ${x} and %{y}', 'arn:aws:iam::1:role/a#b']:
        text = f'import {{\n  to = aws_vpc.a\n  id = {hcl_string(raw)}\n}}\n'
        parsed = hcl2.loads(text)["import"][0]
        assert _unquote(parsed["id"]) == raw


# ---------------------------------------------------------------------------------------------- invariants
@pytest.mark.parametrize("state_path", ALL_STATES)
def test_plan_handoff_equals_adoption(state_path, tmp_path):
    hcl_dir = SAMPLE_DIR if state_path == SAMPLE_STATE and (SAMPLE_DIR / "main.tf").exists() else None
    out = tmp_path / "plan"
    args = ["plan", "--state", state_path, "--out", out, "--env", "test"]
    if hcl_dir:
        args += ["--hcl", hcl_dir]
    res = _run(*args)
    assert res.exit_code == 0, res.output
    estate = load_estate(state_path, hcl_dir)
    conv = estate.result.conversions
    by_cfg: dict[str, set[str]] = {}
    for inst in estate.state.managed:
        by_cfg.setdefault(config_address(inst.address), set()).add(inst.address)
    in_state = {i.address for i in estate.state.managed}
    plan = json.loads((out / "environments/test/plan.json").read_text())
    assert plan["format"] == "tf2kro.plan/v1"
    assert [p["phase"] for p in plan["phases"]] == [p for p in estate.graph.phase_order
                                                   if any(c.phase == p for c in conv.values())]
    seen: set[str] = set()
    for ph in plan["phases"]:
        d = ph["dir"]
        tf = out / "terraform" / "test" / d
        removed_text = (tf / "removed.tf").read_text()
        imports_text = (tf / "rollback-imports.tf").read_text()
        removed = [_trav(b["from"]) for b in hcl2.loads(removed_text).get("removed", [])]
        for b in hcl2.loads(removed_text).get("removed", []):
            assert b["lifecycle"][0]["destroy"] is False
        imports = {_trav(b["to"]): _unquote(b["id"]) for b in hcl2.loads(imports_text).get("import", [])}
        _fmt_check(removed_text, tmp_path)
        _fmt_check(imports_text, tmp_path)
        state_rm = _state_rm_addresses((tf / "state-rm.sh").read_text())
        # every address exists in the state; removed.from has no instance keys
        for cfg in removed:
            assert cfg in by_cfg and cfg == config_address(cfg), cfg
        assert set(imports) <= in_state and set(state_rm) <= in_state
        handoff = [a for cfg in removed for a in by_cfg[cfg]] + state_rm
        assert len(handoff) == len(set(handoff)), "an instance is handed over twice"
        handoff_set = set(handoff)
        # what the phase's manifests adopt (from the rendered RGD) or fold into an adopted object
        adopted: set[str] = set()
        rgd_file = out / "environments" / "test" / d / "adopt" / "rgd.yaml"
        ro_file = out / "environments" / "test" / d / "read-only" / "rgd.yaml"
        if rgd_file.exists():
            rgd = yaml.safe_load(rgd_file.read_text())
            ro = yaml.safe_load(ro_file.read_text())
            for r in rgd["spec"]["resources"]:
                if "template" in r:
                    ann = r["template"]["metadata"]["annotations"]
                    assert READ_ONLY not in ann
                    adopted.add(ann[TF_ADDRESS])
            for r in ro["spec"]["resources"]:
                if "template" in r:
                    assert r["template"]["metadata"]["annotations"][READ_ONLY] == "true"
        folded = {f for a in adopted for f in estate.result.objects[a].folded}
        assert handoff_set == adopted | folded, (d, sorted(handoff_set ^ (adopted | folded))[:10])
        assert not (handoff_set & seen), "managed twice across phases"
        seen |= handoff_set
        # rollback: every handed-over instance has an import block unless its ID is manual
        manual = {it["address"] for it in ph["items"] if it["status"] not in ("unsupported", "not-adopted") and it["import_id"] is None}
        assert set(imports) == handoff_set - manual
        for it in ph["items"]:
            if it["address"] in imports:
                assert imports[it["address"]] == it["import_id"]
        # removed blocks only where every instance of the config address is handed over in this phase
        for cfg in removed:
            assert by_cfg[cfg] <= handoff_set
        pr = (out / "prs" / "test" / f"{d}.md").read_text()
        assert f"# tf2kro: adopt `{ph['phase']}`" in pr
    # nothing orphaned: every mapped/folded instance is handed over exactly once; unsupported ones never
    handed = {a for a, c in conv.items() if c.status.value not in ("unsupported", "not-adopted")}
    assert seen == handed
    codeowners = (out / "CODEOWNERS").read_text()
    for ph in plan["phases"]:
        assert f"/environments/test/{ph['dir']}/ @platform-{ph['phase']}" in codeowners


# ---------------------------------------------------------------------------------------------- PR body
def _golden_state() -> tuple[Path, Path | None]:
    if SAMPLE_STATE.exists():
        return SAMPLE_STATE, SAMPLE_DIR if (SAMPLE_DIR / "main.tf").exists() else None
    if CORPUS_STATES:
        return CORPUS_STATES[0], None
    pytest.skip("no state available")


def test_pr_body_sections_and_counts(tmp_path):
    state, hcl = _golden_state()
    out = tmp_path / "plan"
    args = ["plan", "--state", state, "--out", out, "--owners", "network=@acme/net", "--owners", "identity=@acme/iam"]
    if hcl:
        args += ["--hcl", hcl]
    assert _run(*args).exit_code == 0
    estate = load_estate(state, hcl)
    plan = json.loads((out / "environments/main/plan.json").read_text())
    # the plan names objects exactly as convert does (env + root)
    rep = report(estate.result, estate.graph, Naming(plan["env"], plan["root"]))
    for ph in plan["phases"]:
        rows = [r for r in rep["resources"] if r["phase"] == ph["phase"]]
        expect = {s: sum(1 for r in rows if r["status"] == s) for s in ("mapped", "folded", "unsupported", "not-adopted")}
        assert ph["counts"] == expect
        pr = (out / "prs" / "main" / f"{ph['dir']}.md").read_text()
        m = re.search(r"\*\*(\d+) mapped · (\d+) folded · (\d+) unsupported · ([^*]+)\*\*", pr)
        assert m, pr[:500]
        assert (int(m.group(1)), int(m.group(2)), int(m.group(3))) == (expect["mapped"], expect["folded"], expect["unsupported"])
        assert "adoption-would-change" in m.group(4) and "not checked" in m.group(4)
        for section in ("## Steps", "## Findings", "## Resources", "```mermaid", "## Fields", "Omitted fields",
                        "## Shared ownership", "## Unsupported resources", "## Terraform handoff", "## Prerequisites", "## Rollback"):
            assert section in pr, (ph["dir"], section)
        # one table row per mapped/folded instance, with its ACK kind/name and adoption id
        for r in rows:
            if r["status"] == "mapped":
                line = next(ln for ln in pr.splitlines() if ln.startswith("| ") and f"`{r['address']}`" in ln)
                assert r["kind"].rsplit("/", 1)[-1] in line and r["name"] in line
                for v in r["adoption_fields"].values():
                    assert v in line
            elif r["status"] in ("unsupported", "not-adopted"):
                assert f"`{r['address']}`" in pr
        for f in ph["findings"]:
            assert f["kind"] in pr
        # steps with their exit checks
        assert "ACK.ResourceSynced=True" in pr and "terraform plan -detailed-exitcode" in pr
        assert "ec2-controller" in pr or ph["phase"] != "network"
    codeowners = (out / "CODEOWNERS").read_text()
    assert "/environments/main/01-network/ @acme/net" in codeowners
    assert (out / "README.md").read_text().startswith("# Migration plans")
    assert (out / "environments/main/README.md").read_text().startswith("# Migration plan: Terraform → ACK (env `main`)")


def test_sample_db_password_becomes_external_secret(tmp_path):
    if not SAMPLE_STATE.exists():
        pytest.skip("sample estate absent")
    out = tmp_path / "plan"
    assert _run("plan", "--state", SAMPLE_STATE, "--out", out, "--env", "staging").exit_code == 0
    estate = load_estate(SAMPLE_STATE)
    secrets = estate.secrets()
    for f in out.rglob("*"):
        if f.is_file():
            text = f.read_text()
            assert not any(s in text for s in secrets if len(s) >= 6), f
    dbs = [i for i in estate.state.managed if i.type == "aws_db_instance" and i.attributes.get("password")]
    if not dbs:
        pytest.skip("sample has no RDS password")
    docs = [d for f in out.glob("environments/staging/*/secrets/external-secrets.yaml")
            for d in yaml.safe_load_all(f.read_text())]
    es = [d for d in docs if d["metadata"]["annotations"]["tf2kro.dev/terraform-address"] == dbs[0].address]
    assert es and es[0]["apiVersion"] == "external-secrets.io/v1"
    assert es[0]["spec"]["secretStoreRef"] == {"name": "aws-secrets-manager", "kind": "ClusterSecretStore"}
    assert es[0]["spec"]["data"][0]["remoteRef"]["key"].startswith("staging/")
    store = yaml.safe_load((out / "environments/staging/00-prerequisites/cluster-secret-store.yaml").read_text())
    assert store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]["namespace"] == "external-secrets"
    pr = next(f.read_text() for f in (out / "prs" / "staging").glob("*.md") if "## Secrets" in f.read_text())
    assert es[0]["spec"]["data"][0]["remoteRef"]["key"] in pr and "masterUserPassword" in pr


# ---------------------------------------------------------------------------------------------- split / state rm
def _split_state() -> str:
    vpc = sf.vpc()
    return sf.state(
        sf.resource("aws_vpc", "this", vpc),
        # two tags under one config address: one parent is managed here (folded), the other is not (unsupported)
        sf.resource("aws_ec2_tag", "t", [
            {"id": f"{vpc['id']},team", "resource_id": vpc["id"], "key": "team", "value": "a"},
            {"id": "vpc-0ffffffffffffffff,team", "resource_id": "vpc-0ffffffffffffffff", "key": "team", "value": "a"},
        ], index_keys=["mine", "other"]),
    )


def test_partly_unsupported_config_address_goes_to_state_rm(tmp_path):
    st = tmp_path / "s.tfstate"
    st.write_text(_split_state())
    estate = load_estate(st)
    statuses = {a: c.status.value for a, c in estate.result.conversions.items()}
    if sorted(statuses.values()) != ["folded", "mapped", "unsupported"]:
        pytest.skip(f"aws_ec2_tag fold changed: {statuses}")
    out = tmp_path / "plan"
    assert _run("plan", "--state", st, "--out", out).exit_code == 0
    removed = hcl2.loads((out / "terraform/main/01-network/removed.tf").read_text()).get("removed", [])
    assert [_trav(b["from"]) for b in removed] == ["aws_vpc.this"]
    assert _state_rm_addresses((out / "terraform/main/01-network/state-rm.sh").read_text()) == ['aws_ec2_tag.t["mine"]']
    pr = (out / "prs/main/01-network.md").read_text()
    assert "state-rm" in pr and "stay in Terraform" in pr


# ---------------------------------------------------------------------------------------------- status
def _status_estate(tmp_path: Path) -> Path:
    st = tmp_path / "s.tfstate"
    st.write_text(sf.state(
        sf.resource("aws_vpc", "this", sf.vpc(), module="module.vpc"),
        sf.resource("aws_subnet", "private", [sf.subnet(0), sf.subnet(1)], module="module.vpc", index_keys=[0, 1]),
    ))
    return st


def _ack(kind: str, name: str, *, adopted=True, synced=True, read_only=False, ns="main-infrastructure") -> dict:
    ann = {"services.k8s.aws/adoption-policy": "adopt"}
    if adopted:
        ann["services.k8s.aws/adopted"] = "true"
    if read_only:
        ann["services.k8s.aws/read-only"] = "true"
    return {"apiVersion": "ec2.services.k8s.aws/v1alpha1", "kind": kind,
            "metadata": {"name": name, "namespace": ns, "annotations": ann},
            "status": {"conditions": [{"type": "ACK.ResourceSynced", "status": "True" if synced else "False"}]}}


def test_plan_status_from_kubectl_json(tmp_path):
    st = _status_estate(tmp_path)
    out = tmp_path / "plan"
    assert _run("plan", "--state", st, "--out", out).exit_code == 0
    plan = json.loads((out / "environments/main/plan.json").read_text())
    objs = [(it["kind"], it["name"]) for it in plan["phases"][0]["items"] if it["status"] == "mapped"]
    assert len(objs) == 3

    def write(items, name):
        p = tmp_path / name
        p.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
        return p

    # step 1 done (read-only), step 2 not yet
    ns = plan["namespace"]
    assert ns == "main-infrastructure"  # one namespace per environment by default
    ro = write([_ack(k, n, read_only=True, ns=ns) for k, n in objs], "ro.json")
    res = _run("plan", "--status", "--out", out, "--kubectl-json", ro)
    assert res.exit_code == 1 and "3/3 adopted+synced" in res.output and "read-only: done" in res.output
    assert "adopt: pending" in res.output
    # one object not synced, one missing → pending
    bad = write([_ack(objs[0][0], objs[0][1], synced=False), _ack(objs[1][0], objs[1][1])], "bad.json")
    res = _run("plan", "--status", "--out", out, "--kubectl-json", bad)
    assert res.exit_code == 1 and "1/3 adopted+synced" in res.output and "missing" in res.output and "not synced" in res.output
    # everything adopted + synced and read-write, split over two kubectl outputs → done
    a = write([_ack(*objs[0])], "a.json")
    b = write([_ack(k, n) for k, n in objs[1:]], "b.json")
    res = _run("plan", "--status", "--out", out, "--kubectl-json", a, "--kubectl-json", b, "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc[0]["counts"]["adopted_and_synced"] == 3 and doc[0]["steps"]["adopt"] == "done"
    # with a terraform state list: handoff pending while Terraform still has the instances
    sl = tmp_path / "state-list.txt"
    sl.write_text("module.vpc.aws_vpc.this\n")
    res = _run("plan", "--status", "--out", out, "--kubectl-json", a, "--kubectl-json", b, "--terraform-state-list", sl)
    assert res.exit_code == 1 and "still in Terraform state: module.vpc.aws_vpc.this" in res.output
    sl.write_text("aws_s3_bucket.unrelated\n")
    res = _run("plan", "--status", "--out", out, "--kubectl-json", a, "--kubectl-json", b, "--terraform-state-list", sl)
    assert res.exit_code == 0 and "handoff: done" in res.output
    # wrong namespace → not found
    other = write([_ack(k, n, ns="default") for k, n in objs], "other.json")
    assert _run("plan", "--status", "--out", out, "--kubectl-json", other).exit_code == 1


def test_plan_status_errors(tmp_path):
    res = CliRunner().invoke(main, ["plan", "--status", "--out", str(tmp_path), "--kubectl-json", __file__])
    assert res.exit_code == 2
    st = _status_estate(tmp_path)
    out = tmp_path / "plan"
    assert _run("plan", "--state", st, "--out", out).exit_code == 0
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    res = CliRunner().invoke(main, ["plan", "--status", "--out", str(out), "--kubectl-json", str(junk)])
    assert res.exit_code == 2 and "kubectl" in res.output
    # what a failed `kubectl get … > FILE` leaves (empty, whitespace) or JSON that is not kubectl's: could not check
    # (2, one line naming the file), never "every object missing" (1)
    for i, text in enumerate(["", " \n\t", "{}", "[]", "null", '{"kind": "Status", "status": "Failure"}', '"x"']):
        bad = tmp_path / f"bad{i}.json"
        bad.write_text(text)
        res = CliRunner().invoke(main, ["plan", "--status", "--out", str(out), "--kubectl-json", str(bad)])
        assert res.exit_code == 2, (text, res.output)
        assert res.output.count("\n") == 1 and str(bad) in res.output and "kubectl" in res.output, res.output
    # an empty List is kubectl's answer when there are no objects: read (objects missing → 1), not an error
    empty = tmp_path / "empty-list.json"
    empty.write_text('{"apiVersion": "v1", "kind": "List", "items": []}')
    res = CliRunner().invoke(main, ["plan", "--status", "--out", str(out), "--kubectl-json", str(empty)])
    assert res.exit_code == 1, res.output


# ---------------------------------------------------------------------------------------------- --live
def test_plan_live_capture_counts_adoption_would_change(tmp_path):
    pytest.importorskip("converter.diff.run")
    st = tmp_path / "s.tfstate"
    vpc = sf.vpc()
    st.write_text(sf.state(sf.resource("aws_vpc", "this", vpc)))
    item = {"VpcId": vpc["id"], "CidrBlock": "10.0.0.0/16", "InstanceTenancy": "dedicated", "State": "available",
            "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16", "CidrBlockState": {"State": "associated"}}],
            "Tags": [{"Key": k, "Value": v} for k, v in vpc["tags_all"].items()],
            "_join": {"dns_support": True, "dns_hostnames": True, "nau_metrics": False}}
    cap = tmp_path / "live.json"
    cap.write_text(json.dumps({"format": "tf2kro-live-capture/v1", "region": "eu-west-1", "captured_at": "2026-01-01T00:00:00Z",
                               "scope": {}, "types": {"aws_vpc": {"tf_type": "aws_vpc", "requested": [vpc["id"]],
                                                                  "items": {vpc["id"]: item}}}}))
    out = tmp_path / "plan"
    res = _run("plan", "--state", st, "--out", out, "--live", cap)
    assert res.exit_code == 0, res.output
    plan = json.loads((out / "environments/main/plan.json").read_text())
    n = plan["phases"][0]["adoption_would_change"]
    assert n >= 1
    pr = (out / "prs/main/01-network.md").read_text()
    assert f"{n} adoption-would-change" in pr and "**blocking**" in pr and "instanceTenancy" in pr


def test_pr_body_diff_hint_is_a_runnable_command(tmp_path, monkeypatch):
    """The PR body's `tf2kro diff` hint carries the --state (and --hcl) plan was given: the diff command's own
    parser accepts it and the paths it names exist from where plan ran."""
    import os

    shutil.copytree(SAMPLE_DIR, tmp_path / "infra dev")
    monkeypatch.chdir(tmp_path)
    res = _run("plan", "--state", "infra dev/terraform.tfstate", "--hcl", "infra dev", "--out", "out")
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "out/environments/main/plan.json").read_text())
    if not doc.get("phases"):
        pytest.skip("no phase")
    body = (tmp_path / "out/prs/main" / f"{doc['phases'][0]['dir']}.md").read_text()
    m = re.search(r"run `(tf2kro diff [^`]+)`", body)
    if m is None:
        pytest.skip("converter.diff not available: no diff hint")
    args = shlex.split(m.group(1))
    assert args[:2] == ["tf2kro", "diff"]
    opts = dict(zip(args[2::2], args[3::2], strict=True))
    assert opts["--state"] == "infra dev/terraform.tfstate" and os.path.isfile(opts["--state"])
    assert opts["--hcl"] == "infra dev" and opts["--phase"] == doc["phases"][0]["phase"]
    import click

    diff = main.get_command(click.Context(main), "diff")
    diff.make_context("diff", args[2:])  # the options parse (types, choices, paths)
