"""Emit + CLI: kro RGDs with CEL references, deterministic and atomic output, secrets never written, exit codes."""

from __future__ import annotations

import json

import yaml
from click.testing import CliRunner

from converter.cli import main
from tests import statefactory as sf

SG = "sg-0123456789abcdef0"
SG2 = "sg-0fedcba9876543210"


def _estate_text() -> str:
    node_sg = sf.security_group()
    cluster_sg = sf.security_group(id=SG2, name="cluster")
    return sf.state(
        sf.resource("aws_vpc", "this", sf.vpc(), module="module.vpc"),
        sf.resource("aws_subnet", "private", [sf.subnet(0), sf.subnet(1)], module="module.vpc", index_keys=[0, 1],
                    deps=["module.vpc.aws_vpc.this"]),
        sf.resource("aws_security_group", "node", node_sg, module="module.eks", deps=["module.vpc.aws_vpc.this"]),
        sf.resource("aws_security_group", "cluster", cluster_sg, module="module.eks", deps=["module.vpc.aws_vpc.this"]),
        # a cycle: each SG allows the other
        sf.resource("aws_security_group_rule", "n2c", {"id": "r1", "type": "ingress", "security_group_id": SG2, "from_port": 443,
                                                       "to_port": 443, "protocol": "tcp", "source_security_group_id": SG},
                    module="module.eks", deps=["module.eks.aws_security_group.cluster", "module.eks.aws_security_group.node"]),
        sf.resource("aws_security_group_rule", "c2n", {"id": "r2", "type": "ingress", "security_group_id": SG, "from_port": 10250,
                                                       "to_port": 10250, "protocol": "tcp", "source_security_group_id": SG2},
                    module="module.eks", deps=["module.eks.aws_security_group.cluster", "module.eks.aws_security_group.node"]),
        sf.resource("aws_db_instance", "db", {"id": "db-ABC", "identifier": "app-db", "engine": "postgres", "instance_class": "db.t3.micro",
                                              "username": "app", "password": "S3cr3t-test-PW-4242", "tags_all": {},
                                              "arn": "arn:aws:rds:eu-west-1:111122223333:db:app-db"}, sensitive=[["password"]]),
        sf.resource("random_password", "db", {"id": "none", "result": "S3cr3t-test-PW-4242"}, sensitive=[["result"]],
                    provider='provider["registry.terraform.io/hashicorp/random"]'),
    )


def _run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_convert_writes_rgds_with_cel_refs(tmp_path):
    st = tmp_path / "s.tfstate"
    st.write_text(_estate_text())
    out = tmp_path / "out"
    res = _run("convert", "--state", str(st), "--out", str(out), "--env", "staging")
    assert res.exit_code == 0, res.output
    rgd = yaml.safe_load((out / "network" / "rgd.yaml").read_text())
    assert rgd["apiVersion"] == "kro.run/v1alpha1" and rgd["spec"]["schema"]["kind"] == "StagingSNetwork"  # env staging, root s (s.tfstate)
    by_kind = {}
    for r in rgd["spec"]["resources"]:
        by_kind.setdefault(r["template"]["kind"], []).append(r)
    vpc_id = by_kind["VPC"][0]["id"]
    for sub in by_kind["Subnet"]:
        assert sub["template"]["spec"]["vpcID"] == f"${{{vpc_id}.status.vpcID}}"
    # the SG↔SG cycle: exactly one direction becomes CEL, the other stays the literal id
    pairs = [p["groupID"] for s in by_kind["SecurityGroup"] for rule in s["template"]["spec"].get("ingressRules", [])
             for p in rule.get("userIDGroupPairs", [])]
    assert sum(p.startswith("${") for p in pairs) == 1 and sum(p.startswith("sg-") for p in pairs) == 1
    for r in rgd["spec"]["resources"]:
        ann = r["template"]["metadata"]["annotations"]
        assert ann["services.k8s.aws/adoption-policy"] == "adopt"
        assert ann["services.k8s.aws/deletion-policy"] == "retain"
        assert "services.k8s.aws/read-only" not in ann
    inst = yaml.safe_load((out / "network" / "instance.yaml").read_text())
    assert inst["kind"] == "StagingSNetwork" and inst["spec"] == {"region": "eu-west-1"}
    assert inst["metadata"]["namespace"] == "staging-infrastructure" and inst["metadata"]["name"] == "staging-s-network"
    # spec.region is used: every object's region annotation reads it (the instance is the one place it is written)
    for r in rgd["spec"]["resources"]:
        assert r["template"]["metadata"]["annotations"]["services.k8s.aws/region"] == "${schema.spec.region}"
        assert r["template"]["metadata"]["name"].startswith("staging-s-")
        # ready = adopted and synced, never a health state
        assert r["readyWhen"] == ["${" + r["id"] + '.status.conditions.exists(c, c.type == "ACK.ResourceSynced" '
                                  '&& c.status == "True")}']
    report = json.loads((out / "report.json").read_text())
    assert report["counts"] == {"mapped": 6, "folded": 2, "unsupported": 1, "not-adopted": 0}


def test_output_is_byte_identical_and_read_only_switch(tmp_path):
    st = tmp_path / "s.tfstate"
    st.write_text(_estate_text())
    a, b = tmp_path / "a", tmp_path / "b"
    _run("convert", "--state", str(st), "--out", str(a))
    _run("convert", "--state", str(st), "--out", str(b))
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    _run("convert", "--state", str(st), "--out", str(a), "--read-only")
    rgd = yaml.safe_load((a / "network" / "rgd.yaml").read_text())
    assert all(r["template"]["metadata"]["annotations"]["services.k8s.aws/read-only"] == "true" for r in rgd["spec"]["resources"])


def test_secrets_never_written(tmp_path):
    st = tmp_path / "s.tfstate"
    st.write_text(_estate_text())
    out = tmp_path / "out"
    assert _run("convert", "--state", str(st), "--out", str(out)).exit_code == 0
    for p in out.rglob("*"):
        if p.is_file():
            assert "S3cr3t-test-PW-4242" not in p.read_text()
    report = json.loads((out / "report.json").read_text())
    db = next(r for r in report["resources"] if r["address"] == "aws_db_instance.db")
    assert db["status"] == "mapped"


def test_bad_input_exit_2_and_previous_output_untouched(tmp_path):
    good = tmp_path / "s.tfstate"
    good.write_text(_estate_text())
    out = tmp_path / "out"
    assert _run("convert", "--state", str(good), "--out", str(out)).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    bad = tmp_path / "old.tfstate"
    bad.write_text('{"version": 3, "terraform_version": "0.11.14", "modules": [{"path": ["root"]}]}')
    res = CliRunner().invoke(main, ["convert", "--state", str(bad), "--out", str(out)])
    assert res.exit_code == 2
    assert "format version 3" in res.output and str(bad) in res.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    fresh = tmp_path / "fresh"
    res = CliRunner().invoke(main, ["convert", "--state", str(tmp_path / "missing.tfstate"), "--out", str(fresh)])
    assert res.exit_code == 2 and not fresh.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fresh")]


def test_leak_guard_refuses_to_write(tmp_path):
    from converter.emit.writer import LeakError, write_tree

    out = tmp_path / "o"
    try:
        write_tree(out, {"a.yaml": "password: hunter2-secret"}, ["hunter2-secret"])
    except LeakError as e:
        assert "a.yaml" in str(e)
    else:
        raise AssertionError("leak not detected")
    assert not out.exists()


def test_leak_guard_finds_any_of_many_secrets_inside_longer_text(tmp_path):
    """The guard matches all needles in one pass: every one of them, anywhere in any file, short or overlapping."""
    from converter.emit.writer import LeakError, check_no_secrets

    needles = [f"pw-{i:05d}-value" for i in range(2000)] + ["abcdef", "abcdefgh"]
    clean = {f"f{i}.yaml": f"name: item-{i}\npolicy: '{{\"Action\": \"s3:Get*\"}}'\n" for i in range(50)}
    check_no_secrets(clean, needles)
    for leaked in ("pw-01999-value", "pw-00000-value", "abcdef"):
        files = dict(clean)
        files["f7.yaml"] += f"userData: prefix{leaked}suffix\n"
        try:
            check_no_secrets(files, needles)
        except LeakError as e:
            assert "f7.yaml" in str(e)
        else:
            raise AssertionError(f"{leaked} not detected")


def test_inspect_and_graph_from_stdin(tmp_path):
    res = _run("inspect", "--state", "-", "--format", "json", input=_estate_text())
    rep = json.loads(res.output)
    statuses = {r["address"]: r["status"] for r in rep["resources"]}
    assert statuses["module.eks.aws_security_group_rule.n2c"] == "folded"
    assert statuses["random_password.db"] == "unsupported"
    assert rep["aws_coverage"]["percent"] == 100.0
    res = _run("graph", "--state", "-", "--format", "json", input=_estate_text())
    g = json.loads(res.output)
    edges = {(e["from"], e["to"]) for e in g["edges"]}
    assert ("module.vpc.aws_vpc.this", "module.vpc.aws_subnet.private[0]") in edges
    assert any(f["kind"] == "cycle" for f in g["findings"])
    mer = _run("graph", "--state", "-", input=_estate_text()).output
    assert mer.startswith("flowchart LR") and "subgraph network" in mer


def test_literal_dollar_brace_is_escaped_for_kro_and_evaluates_back(tmp_path):
    """IAM policy variables (`${aws:username}`) are literal text, but kro reads every `${` of a template as CEL:
    the RGD must write them as `${"${"}` (an expression returning "${"), the review objects keep them raw, and
    evaluating the template the way kro does must give back exactly the value in state."""
    from converter.validate.kro import _env, extract_expressions
    from converter.validate.runner import validate_tree

    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::x/${aws:PrincipalTag/team}"],
        "Condition": {"StringEquals": {"s3:prefix": "say \"${hi}\" \\ ${"}}}]}, sort_keys=True)
    doc = sf.state(sf.resource("aws_iam_policy", "home", {
        "id": "arn:aws:iam::111122223333:policy/home", "arn": "arn:aws:iam::111122223333:policy/home",
        "name": "home", "path": "/", "policy": policy, "description": "", "tags": {}, "tags_all": {}}),
        sf.resource("aws_vpc", "v", {"id": "vpc-1", "arn": "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1",
                                     "cidr_block": "10.0.0.0/16", "tags": {}, "tags_all": {}}))
    st = tmp_path / "s.tfstate"
    st.write_text(doc)
    out = tmp_path / "o"
    res = _run("convert", "--state", str(st), "--out", str(out))
    assert res.exit_code == 0, res.output
    rgd = yaml.safe_load((out / "identity" / "rgd.yaml").read_text())
    rendered = next(r["template"]["spec"]["policyDocument"] for r in rgd["spec"]["resources"] if "template" in r)
    assert "${aws:username}" not in rendered.replace('${"${"}', "")
    exprs, err = extract_expressions(rendered)
    assert err is None and exprs and set(exprs) == {'"${"'}
    # kro's string template: each ${expr} replaced by its (string) value
    value = rendered.replace('${"${"}', _env(()).compile('"${"').eval().value())
    assert json.loads(value) == json.loads(policy)
    review = list(yaml.safe_load_all((out / "identity" / "review" / "ack-objects.yaml").read_text()))
    assert json.loads(review[0]["spec"]["policyDocument"]) == json.loads(policy)
    report = validate_tree(out, [])
    assert [f.message for f in report.errors if "CEL" in f.message or "expression" in f.message] == []


def test_region_unknown_gives_valid_instances_and_a_finding(tmp_path):
    """IAM ARNs carry no region: an IAM-only state must still give instances that satisfy their RGD schema."""
    from converter.validate.runner import validate_tree

    doc = sf.state(sf.resource("aws_iam_role", "r", {
        "id": "r", "arn": "arn:aws:iam::111122223333:role/r", "name": "r", "path": "/",
        "assume_role_policy": "{}", "tags": {}, "tags_all": {}, "max_session_duration": 3600}))
    st = tmp_path / "s.tfstate"
    st.write_text(doc)
    out = tmp_path / "o"
    res = _run("convert", "--state", str(st), "--out", str(out))
    assert res.exit_code == 0, res.output
    report = validate_tree(out, [])
    assert [f"{f.file}: {f.message}" for f in report.errors if "instance" in f.file] == []
    rep = json.loads((out / "report.json").read_text())
    assert any(f["kind"] == "region" and "--region" in f["message"] for f in rep["findings"])
    assert "region" in res.output
