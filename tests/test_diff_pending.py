"""`tf2kro diff --hcl`: HCL configuration vs state (`pending-terraform-change`), offline through `--live` with an
empty capture (the comparison reads no AWS). A configured value that differs from state is reported with
address, attribute, config value, state value and file:line; equivalent shapes, unknown values, references,
ignore_changes and sensitive attributes never are; the sample estate (consistent by construction) has none."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from converter.cli import main
from converter.diff.pending import PendingComparer, compare_attribute
from converter.load.hcl import evaluate_static, load_hcl
from converter.model import ResourceInstance
from converter.pipeline import SAMPLE_DIR, load_estate
from tests import statefactory as sf

PENDING = "pending-terraform-change"
SECRET = "hunter2-config-only-password"
STATE_SECRET = "state-side-db-password-xyz"
SENSITIVE_DESC = "sensitive-variable-description"


def _write(d: Path, name: str, text: str) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(textwrap.dedent(text).lstrip("\n"))


@pytest.fixture()
def empty_capture(tmp_path: Path) -> Path:
    p = tmp_path / "empty-capture.json"
    p.write_text(json.dumps({"format": "tf2kro-live-capture/v1", "region": "eu-west-1", "types": {}}))
    return p


def _diff(state: Path, hcl: Path, capture: Path, *extra: str, fmt: str = "json") -> tuple[int, str]:
    # the empty capture leaves every resource `unknown`: accepted here, only the HCL-vs-state comparison is tested
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--hcl", str(hcl), "--live", str(capture),
                                    "--format", fmt, "--allow-unknown", *extra])
    assert res.exit_code in (0, 1), res.output + repr(res.exception)
    return res.exit_code, res.stdout


def _pending(doc: dict) -> list[dict]:
    return [f for r in doc["resources"] for f in r["findings"] if f["class"] == PENDING]


# ---------------------------------------------------------------------------------------------- positive fixture
HCL = '''
variable "env" {
  default = "test"
}

variable "db_description" {
  default   = "sensitive-variable-description"
  sensitive = true
}

locals {
  tags = { Name = "main", Environment = var.env }
}

resource "aws_vpc" "main" {
  cidr_block           = "10.0.0.0/16"
  enable_dns_hostnames = true
  enable_dns_support   = "true"
  instance_tenancy     = "default"
  tags                 = merge(local.tags, { CostCenter = "42" })
}

resource "aws_subnet" "a" {
  count                   = 2
  vpc_id                  = aws_vpc.main.id
  cidr_block              = cidrsubnet("10.0.0.0/16", 8, count.index + 1)
  availability_zone       = data.aws_availability_zones.this.names[count.index]
  map_public_ip_on_launch = true
  tags                    = { Name = "a-${count.index}" }

  lifecycle {
    ignore_changes = [map_public_ip_on_launch]
  }
}

resource "aws_subnet" "b" {
  for_each          = { x = "10.0.7.0/24" }
  vpc_id            = aws_vpc.main.id
  cidr_block        = each.value
  availability_zone = "eu-west-1a"
  ipv6_native       = false

  lifecycle {
    ignore_changes = all
  }
}

resource "aws_iam_role" "r" {
  name                 = "r"
  max_session_duration = "3600"
  description          = "${aws_vpc.main.id} role"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "eks.amazonaws.com" } }]
  })
}

resource "aws_security_group" "nodes" {
  name        = "nodes"
  description = "Managed by Terraform"
  vpc_id      = aws_vpc.main.id
}

resource "aws_security_group_rule" "https" {
  security_group_id = aws_security_group.nodes.id
  type              = "ingress"
  protocol          = "6"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = ["10.0.0.0/8", "192.168.0.0/16"]
  description       = "HTTPS from the office"
}

resource "aws_db_instance" "db" {
  identifier     = "app"
  engine         = "postgres"
  engine_version = "16"
  instance_class = "db.t4g.large"
  password       = "hunter2-config-only-password"
  description    = var.db_description
  port           = module.db_settings.port
  skip_final_snapshot = true
}
'''

ROLE_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Action": ["sts:AssumeRole"], "Principal": {"Service": ["eks.amazonaws.com"]}, "Effect": "Allow", "Sid": ""}]},
    indent=2)


def _fixture_state() -> str:
    return sf.state(
        sf.resource("aws_vpc", "main", sf.vpc(enable_dns_hostnames=False, tags={"Name": "main", "Environment": "test"})),
        sf.resource("aws_subnet", "a", [sf.subnet(1, tags={"Name": "a-0"}, map_public_ip_on_launch=False),
                                        sf.subnet(2, tags={"Name": "a-1"}, map_public_ip_on_launch=False)],
                    index_keys=[0, 1]),
        sf.resource("aws_subnet", "b", [sf.subnet(7, cidr_block="10.0.99.0/24", ipv6_native=True)], index_keys=["x"]),
        sf.resource("aws_iam_role", "r", {
            "id": "r", "name": "r", "arn": "arn:aws:iam::111122223333:role/r", "path": "/", "max_session_duration": 3600,
            "description": "vpc-0a1b2c3d4e5f60718 role, edited", "assume_role_policy": ROLE_POLICY,
            "managed_policy_arns": [], "inline_policy": [], "force_detach_policies": False, "tags": {}, "tags_all": {}}),
        sf.resource("aws_security_group", "nodes", sf.security_group()),
        sf.resource("aws_security_group_rule", "https", {
            "id": "sgrule-1", "security_group_id": "sg-0123456789abcdef0", "type": "ingress", "protocol": "tcp",
            "from_port": 443, "to_port": 443, "cidr_blocks": ["10.0.0.0/8", "192.168.0.0/16"],
            "description": "HTTPS from the VPN", "self": False, "security_group_rule_id": "sgr-1"}),
        sf.resource("aws_db_instance", "db", {
            "id": "db-ABCDEFGHIJKLMNOP", "identifier": "app", "arn": "arn:aws:rds:eu-west-1:111122223333:db:app",
            "engine": "postgres", "engine_version": "16.4", "instance_class": "db.t4g.medium",
            "password": STATE_SECRET, "description": "something else", "port": 5433, "skip_final_snapshot": "true",
            "allocated_storage": 20, "tags": {}, "tags_all": {}}, sensitive=[["password"]]),
    )


@pytest.fixture()
def fixture_estate(tmp_path: Path) -> tuple[Path, Path]:
    hcl = tmp_path / "hcl"
    _write(hcl, "main.tf", HCL)
    state = tmp_path / "terraform.tfstate"
    state.write_text(_fixture_state())
    return state, hcl


def test_config_differing_from_state_is_reported_with_values_and_location(fixture_estate, empty_capture) -> None:
    state, hcl = fixture_estate
    code, out = _diff(state, hcl, empty_capture)
    doc = json.loads(out)
    got = {(f["address"], f["path"]): f for f in _pending(doc)}
    print("\npending-terraform-change findings on the positive fixture:", len(got))
    for (a, p), f in sorted(got.items()):
        print(f"  {a} {p}: config {f['config']!r} state {f['expected']!r} ({f['source']})")
    assert set(got) == {("aws_vpc.main", "enable_dns_hostnames"), ("aws_vpc.main", "tags.CostCenter"),
                        ("aws_db_instance.db", "instance_class"), ("aws_security_group_rule.https", "description")}
    dns = got[("aws_vpc.main", "enable_dns_hostnames")]
    assert dns["config"] is True and dns["expected"] is False and dns["live"] is None
    assert dns["source"] == f"{hcl / 'main.tf'}:16"
    assert dns["type"] == "aws_vpc" and not dns["ignored"]
    cost = got[("aws_vpc.main", "tags.CostCenter")]
    assert cost["config"] == "42" and cost["expected"] is None and "would add" in cost["detail"]
    db = got[("aws_db_instance.db", "instance_class")]
    assert (db["config"], db["expected"]) == ("db.t4g.large", "db.t4g.medium")
    # a folded child (the rule lives in the SG's ingressRules) keeps its address, under its parent's object
    rule = got[("aws_security_group_rule.https", "description")]
    assert (rule["config"], rule["expected"]) == ("HTTPS from the office", "HTTPS from the VPN")
    sg = next(r for r in doc["resources"] if r["address"] == "aws_security_group.nodes")
    assert rule in sg["findings"] and "aws_security_group_rule.https" in sg["folded"]
    # counted like drift: exit 1, in the summary, after adoption-would-change and drift in the class order
    assert code == 1 and doc["exit_code"] == 1
    assert doc["summary"]["counts"][PENDING] == 4
    keys = list(doc["summary"]["counts"])
    assert keys.index("adoption-would-change") < keys.index("drift") < keys.index(PENDING)


def test_skipped_unknowns_references_ignore_changes_and_equivalent_shapes(fixture_estate, empty_capture) -> None:
    state, hcl = fixture_estate
    _, out = _diff(state, hcl, empty_capture)
    paths = {(f["address"], f["path"]) for f in _pending(json.loads(out))}
    # equivalent after Terraform's conversions / the provider's suppressions
    assert ("aws_vpc.main", "enable_dns_support") not in paths  # "true" vs true
    assert ("aws_iam_role.r", "max_session_duration") not in paths  # "3600" vs 3600
    assert ("aws_iam_role.r", "assume_role_policy") not in paths  # same policy, other JSON shape
    assert ("aws_db_instance.db", "engine_version") not in paths  # "16" vs "16.4"
    assert ("aws_db_instance.db", "skip_final_snapshot") not in paths  # true vs "true"
    assert not any(p in ("protocol", "cidr_blocks") for _, p in paths)  # "6" vs "tcp"; a set in set order
    # count.index supplied from the state's index_key: cidrsubnet(…, count.index + 1) and "a-${count.index}" match
    assert not any(a.startswith("aws_subnet.a") for a, _ in paths)
    # references (resource, data source, module output) are unknown until apply
    assert ("aws_iam_role.r", "description") not in paths
    assert ("aws_db_instance.db", "port") not in paths
    # ignore_changes (a list, and `all`)
    assert not any(a.startswith("aws_subnet.b") for a, _ in paths)


def test_sensitive_attributes_are_never_compared_or_printed(fixture_estate, empty_capture, tmp_path: Path) -> None:
    state, hcl = fixture_estate
    for fmt in ("json", "table", "md", "junit"):
        _, out = _diff(state, hcl, empty_capture, fmt=fmt)
        assert PENDING in out or fmt == "junit" and "instance_class" in out, fmt
        for s in (SECRET, STATE_SECRET, SENSITIVE_DESC):
            assert s not in out, (fmt, s)
    paths = {(f["address"], f["path"]) for f in _pending(json.loads(_diff(state, hcl, empty_capture)[1]))}
    assert ("aws_db_instance.db", "password") not in paths  # sensitive in state (and secret-named)
    assert ("aws_db_instance.db", "description") not in paths  # fed by a `sensitive = true` variable


def test_every_format_lists_pending_changes_and_ignore_baseline(fixture_estate, empty_capture, tmp_path: Path) -> None:
    state, hcl = fixture_estate
    _, table = _diff(state, hcl, empty_capture, fmt="table")
    assert "pending-terraform-change" in table and "enable_dns_hostnames" in table and "4 pending-terraform-change" in table
    _, md = _diff(state, hcl, empty_capture, fmt="md")
    assert f"| {PENDING} |" in md and "Pending Terraform changes" in md and "main.tf:16" in md
    assert "<code>aws_security_group_rule.https description</code>" in md  # a folded child's finding names the child
    _, junit = _diff(state, hcl, empty_capture, fmt="junit")
    import xml.etree.ElementTree as ET

    cases = {c.get("name"): c for c in ET.fromstring(junit).iter("testcase")}
    failure = cases["aws_vpc.main"].find("failure")
    assert failure is not None and PENDING in failure.get("message") and "enable_dns_hostnames" in failure.text
    # the --ignore baseline takes the class like any other
    ign = tmp_path / "ignore.yaml"
    ign.write_text(f"- address: aws_vpc.main\n  class: {PENDING}\n  path: 'tags.*'\n")
    code, out = _diff(state, hcl, empty_capture, "--ignore", str(ign))
    doc = json.loads(out)
    assert code == 1 and doc["summary"]["counts"]["ignored"] == 1 and doc["summary"]["counts"][PENDING] == 3
    ign.write_text(f"- address: '*'\n  class: {PENDING}\n")
    code, out = _diff(state, hcl, empty_capture, "--ignore", str(ign))
    assert code == 0 and json.loads(out)["summary"]["counts"]["ignored"] == 4


def test_without_hcl_nothing_is_compared(fixture_estate, empty_capture) -> None:
    state, _ = fixture_estate
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--live", str(empty_capture), "--format", "json",
                                    "--allow-unknown"])
    assert res.exit_code == 0 and json.loads(res.stdout)["summary"]["counts"][PENDING] == 0
    # without --allow-unknown, a capture that read nothing is "not checked", exit 2 — never clean
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--live", str(empty_capture), "--format", "json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["verdict"] == "not-checked"


# ---------------------------------------------------------------------------------------------- sample estate
def test_sample_estate_has_no_pending_changes(empty_capture) -> None:
    code, out = _diff(SAMPLE_DIR / "terraform.tfstate", SAMPLE_DIR, empty_capture)
    found = _pending(json.loads(out))
    print(f"\npending-terraform-change findings on samples/estate: {len(found)}")
    assert found == [] and code == 0
    # not vacuous: most top-level arguments with a static value were compared
    import converter.diff.pending as pending

    compared: list[tuple[str, str]] = []
    real = pending.compare_attribute

    def spy(tf_type, attr, c, s, inst):
        compared.append((inst.address, attr))
        return real(tf_type, attr, c, s, inst)

    est = load_estate(SAMPLE_DIR / "terraform.tfstate", SAMPLE_DIR)
    comparer = PendingComparer(est.hcl)
    pending.compare_attribute = spy
    try:
        assert all(comparer.compare(i) == [] for i in est.state.managed)
    finally:
        pending.compare_attribute = real
    print(f"attributes compared on samples/estate: {len(compared)}")
    assert len(compared) > 150
    assert ("module.vpc.aws_vpc.this", "enable_dns_hostnames") in compared
    assert ("module.vpc.aws_subnet.private[1]", "cidr_block") in compared  # count.index through cidrsubnet()
    assert ('module.eks.aws_security_group_rule.node["ingress_self_all"]', "protocol") in compared  # each.value


def test_sample_estate_with_new_tfvars_reports_the_pending_changes(tmp_path: Path, empty_capture) -> None:
    """The classic case: tfvars changed, not applied yet — the cluster upgrade and the DB resize would be lost."""
    estate = tmp_path / "estate"
    shutil.copytree(SAMPLE_DIR, estate)
    newer = tmp_path / "next.tfvars"
    newer.write_text('cluster_version = "1.31"\ndb_instance_class = "db.r6g.large"\n')
    code, out = _diff(estate / "terraform.tfstate", estate, empty_capture, "--var-file", str(newer))
    got = {(f["address"], f["path"], f["config"], f["expected"]) for f in _pending(json.loads(out))}
    assert got == {("module.eks.aws_eks_cluster.this", "version", "1.31", "1.30"),
                   ("aws_db_instance.postgres", "instance_class", "db.r6g.large", "db.t4g.medium")}
    assert code == 1


# ---------------------------------------------------------------------------------------------- units
def _inst(rtype: str = "aws_x", **attrs) -> ResourceInstance:
    return ResourceInstance(address=f"{rtype}.x", mode="managed", type=rtype, name="x", module="", index_key=None,
                            provider="aws", attributes=attrs)


def _same(c, s, rtype: str = "aws_x", attr: str = "a", **state) -> bool:
    return compare_attribute(rtype, attr, c, s, _inst(rtype, **state)) == []


def test_equivalent_values_are_not_differences() -> None:
    assert _same(5, "5") and _same("5", 5.0) and _same("true", True) and _same(False, "false")
    assert _same(["b", "a"], ["a", "b"])  # state in set order: may be a set, order says nothing
    assert _same("arn:aws:iam::1:role/x", "x") and _same("x", "arn:aws:iam::1:role/x")
    assert _same("tcp", "6", attr="protocol") and _same("all", "-1", attr="ip_protocol")
    assert _same("https://oidc.eks.eu-west-1.amazonaws.com/id/AB", "oidc.eks.eu-west-1.amazonaws.com/id/AB", attr="url")
    assert _same("Sun:03:30-Sun:04:30", "sun:03:30-sun:04:30")  # the provider lower-cases some values
    assert _same("16", "16.4", attr="engine_version")
    assert _same(50, 120, attr="allocated_storage", max_allocated_storage=200)  # storage autoscaling
    assert _same('{"rules": [{"a": 1}]}', '{"rules":[{"a":1}],"extra":"AWS default"}')  # keys only AWS sets
    assert _same({"A": "1", "B": ""}, {"A": "1"}) and _same({"A": 1}, {"A": "1"})
    assert _same("text\n", "text")  # heredoc trailing newline
    cond = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                                                    "Condition": {"Bool": {"aws:SecureTransport": False}}}]}
    as_iam_returns = json.loads(json.dumps(cond).replace("false", '"false"'))
    assert _same(json.dumps(cond), json.dumps(as_iam_returns), attr="policy")


def test_real_differences_are_reported() -> None:
    assert compare_attribute("aws_x", "a", True, False, _inst()) == [("a", True, False, "changed")]
    assert not _same(["a", "c"], ["a", "b"])
    assert not _same(["b", "a"], ["c", "a"])  # state not in set order: a list, order matters
    assert not _same(["a", "b"], ["b", "a"])
    assert not _same("17", "16.4", attr="engine_version")
    assert not _same(50, 120, attr="allocated_storage")  # no autoscaling: a real resize
    assert not _same({"A": "1"}, {"A": "x"}) and not _same({"A": "1"}, {"a": "1"})  # tag values and keys are exact
    out = compare_attribute("aws_x", "tags", {"A": "1"}, {"A": "1", "B": "2"}, _inst())
    assert out == [("tags.B", None, "2", "not in config")]
    pol = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    wider = pol.replace('"s3:*"', '["s3:*", "iam:*"]')
    assert compare_attribute("aws_x", "policy", wider, pol, _inst())


# ---------------------------------------------------------------------------------------------- evaluate_static
def test_evaluate_static_accepts_only_configuration_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "main.tf", '''
    variable "env" { default = "prod" }
    variable "from_env" { default = "d" }
    variable "secret" {
      default   = "s3cr3t-value"
      sensitive = true
    }
    locals {
      name   = "${var.env}-x"
      vpc    = aws_vpc.main.id
      upper  = title(var.env)
      cidrs  = [for i in range(2) : cidrsubnet("10.0.0.0/16", 8, i)]
    }
    module "child" {
      source = "./child"
      env    = var.env
      id     = aws_vpc.main.id
    }
    output "o" { value = "x" }
    ''')
    _write(tmp_path / "child", "main.tf", '''
    variable "env" {}
    variable "id" {}
    locals { n = "${var.env}-child" }
    ''')
    cfg = load_hcl(tmp_path)
    root = cfg.root
    child = root.module_calls["child"].module
    assert evaluate_static("local.name", root) == (True, "prod-x")
    assert evaluate_static("local.cidrs", root) == (True, ["10.0.0.0/24", "10.0.1.0/24"])
    assert evaluate_static('format("%s-%d", var.env, 3)', root) == (True, "prod-3")
    assert evaluate_static("local.n", child) == (True, "prod-child")  # through the module input
    for unknown in ("local.vpc", "aws_vpc.main.id", "data.x.y.id", "module.child.x", "path.module",
                    "terraform.workspace", "local.upper", "var.secret", "var.id", 'format("%v", [1])', "count.index",
                    "each.key", "self.id"):
        assert evaluate_static(unknown, root if unknown != "var.id" else child) == (False, None), unknown
    assert evaluate_static("count.index * 2", root, bindings={"count": {"index": 3}}) == (True, 6)
    assert evaluate_static("each.value", root, bindings={"each": {"key": "k"}}) == (False, None)
    assert evaluate_static("var.from_env", root) == (True, "d")
    monkeypatch.setenv("TF_VAR_from_env", "override")
    assert evaluate_static("var.from_env", root) == (False, None)  # the environment overrides the default


# ---------------------------------------------------------------------------------------------- corpus
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "hcl"


@pytest.mark.corpus
def test_corpus_config_against_itself_and_other_values() -> None:
    """No corpus directory has a matching state, so each managed resource block gets a synthetic instance:
    state = its own static configuration values must give no finding; any other value/shape must not raise."""
    import os

    from converter.diff.pending import _bindings
    from converter.model import ToolError

    if not CORPUS.is_dir():
        pytest.skip(f"corpus not present at {CORPUS}")
    dirs = sorted({d for d, _, fs in os.walk(CORPUS) if any(f.endswith(".tf") for f in fs)})
    resources = static = 0
    for d in dirs:
        try:
            cfg = load_hcl(d)
        except ToolError:
            continue
        comparer = PendingComparer(cfg)
        for r in cfg.resources():
            if r.mode != "managed":
                continue
            module = comparer.modules[r.module_address]
            key: int | str | None = None
            if r.count is not None:
                key = 0
            elif r.for_each is not None:
                known, coll = evaluate_static(r.for_each, module)
                key = sorted(coll)[0] if known and isinstance(coll, dict) and coll else "k"
            addr = r.address + ("" if key is None else f"[{key}]" if isinstance(key, int) else f'["{key}"]')

            def inst(attrs: dict, r=r, key=key, addr=addr) -> ResourceInstance:
                return ResourceInstance(address=addr, mode="managed", type=r.type, name=r.name, module=r.module_address,
                                        index_key=key, provider="aws", attributes=attrs)

            bindings = _bindings(r, inst({}), module) or {}
            same = {}
            for a, text in r.sources.items():
                known, value = evaluate_static(text, module, bindings=bindings)
                if known:
                    same[a] = value
            resources += 1
            static += len(same)
            assert comparer.compare(inst(same)) == [], addr
            for other in ("sentinel", 7, ["x"], {"k": "v"}, [{"a": 1}]):
                comparer.compare(inst(dict.fromkeys(r.sources, other)))
    print(f"\ncorpus: {len(dirs)} HCL dirs, {resources} managed resource blocks, {static} static arguments compared")
    assert resources > 1000
