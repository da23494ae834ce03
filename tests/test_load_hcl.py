"""Tests for the HCL loading stage (`converter.load.hcl`).

Fixtures are small .tf files written into tmp_path, so each test shows exactly the HCL it is about.
The corpus test loads every real-world module directory under ../shared/corpus/hcl.
"""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from converter.load.hcl import config_address, evaluate_expression, load_hcl, parse_file
from converter.model import ToolError


def write(directory: Path, name: str, text: str) -> Path:
    p = directory / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text).lstrip("\n"))
    return p


# --------------------------------------------------------------------------------------------
# variables
# --------------------------------------------------------------------------------------------


def test_variable_precedence_default_tfvars_auto_and_var_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        "variables.tf",
        """
        variable "env" {
          type        = string
          default     = "dev"
          description = "Environment name"
        }
        variable "region" {
          default = "us-east-1"
        }
        variable "size" {
          type    = number
          default = 1
        }
        variable "tags" {
          type    = map(string)
          default = { "team" = "core", owner = "ops" }
        }
        variable "password" {
          type      = string
          sensitive = true
        }
        variable "nothing" {}
        """,
    )
    write(tmp_path, "terraform.tfvars", 'env = "staging"\nregion = "eu-west-1"\n')
    write(tmp_path, "a.auto.tfvars", 'region = "eu-central-1"\n')
    extra1 = write(tmp_path / "vars", "prod.tfvars", 'env = "prod"\nsize = 3\n')
    extra2 = write(tmp_path / "vars", "last.tfvars", "size = 5\n")

    cfg = load_hcl(tmp_path, [extra1, extra2], workers=1)
    v = cfg.root.variables
    assert v["env"].value == "prod" and v["env"].is_set  # --var-file beats terraform.tfvars
    assert v["env"].default == "dev" and v["env"].has_default
    assert v["env"].type == "string" and v["env"].description == "Environment name"
    assert v["region"].value == "eu-central-1"  # *.auto.tfvars beats terraform.tfvars
    assert v["size"].value == 5  # later --var-file wins
    assert v["tags"].value == {"team": "core", "owner": "ops"}  # object keys lose their quotes
    assert v["password"].sensitive and not v["password"].has_default
    assert v["password"].value is None and not v["password"].is_set
    assert v["nothing"].type is None and not v["nothing"].is_set
    assert v["env"].file.endswith("variables.tf") and v["env"].line == 1
    assert v["tags"].line == 13


def test_missing_var_file_is_a_tool_error(tmp_path: Path) -> None:
    write(tmp_path, "main.tf", 'variable "x" {}\n')
    with pytest.raises(ToolError) as err:
        load_hcl(tmp_path, [tmp_path / "nope.tfvars"], workers=1)
    assert "nope.tfvars" in str(err.value.source)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ToolError):
        load_hcl(tmp_path / "missing", workers=1)


# --------------------------------------------------------------------------------------------
# locals
# --------------------------------------------------------------------------------------------


def test_locals_evaluation(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        """
        variable "env" { default = "prod" }
        variable "cidr" { default = "10.0.0.0/16" }
        variable "tags" { default = { team = "core" } }
        locals {
          name       = "${var.env}-eks"
          upper      = upper(local.name)
          azs        = ["a", "b", "c"]
          subnets    = [for i, az in local.azs : cidrsubnet(var.cidr, 8, i)]
          by_az      = { for i, az in local.azs : az => cidrsubnet(var.cidr, 8, i + 10) }
          tags       = merge(var.tags, { Name = local.name, "kubernetes.io/role/elb" = "1" })
          fmt        = format("%s-%03d", local.name, 7)
          n          = length(local.azs) * 2
          joined     = join(",", concat(local.azs, ["d"]))
          pick       = lookup(local.tags, "team", "none")
          fallback   = try(local.tags.missing, "default")
          cond       = var.env == "prod" ? 3 : 1
          first      = coalesce("", null, "x")
          el         = element(local.azs, 4)
          repl       = replace(local.name, "-", "_")
          set        = toset(["b", "a", "b"])
          json       = jsonencode({ a = 1 })
          lower_list = [for s in tolist(["A", "B"]) : lower(s)]
          splat      = [{ id = 1 }, { id = 2 }][*].id
          unknown    = aws_vpc.main.id
          mixed      = "${aws_vpc.main.id}-${var.env}"
          fn         = timestamp()
          try_unk    = try(aws_vpc.main.id, "fallback")
          cyc_a      = local.cyc_b
          cyc_b      = local.cyc_a
          uses_cyc   = "${local.cyc_a}-x"
          heredoc    = <<-EOT
            {"Name": "${var.env}"}
          EOT
          plain_doc  = <<-EOT
            {"a": "b"}
          EOT
        }
        """,
    )
    cfg = load_hcl(tmp_path, workers=1)
    loc = cfg.root.locals
    assert loc["name"] == "prod-eks"
    assert loc["upper"] == "PROD-EKS"
    assert loc["subnets"] == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    assert loc["by_az"] == {"a": "10.0.10.0/24", "b": "10.0.11.0/24", "c": "10.0.12.0/24"}
    assert loc["tags"] == {"team": "core", "Name": "prod-eks", "kubernetes.io/role/elb": "1"}
    assert loc["fmt"] == "prod-eks-007"
    assert loc["n"] == 6
    assert loc["joined"] == "a,b,c,d"
    assert loc["pick"] == "core"
    assert loc["fallback"] == "default"
    assert loc["cond"] == 3
    assert loc["first"] == "x"
    assert loc["el"] == "b"
    assert loc["repl"] == "prod_eks"
    assert loc["set"] == ["a", "b"]
    assert loc["json"] == '{"a":1}'
    assert loc["lower_list"] == ["a", "b"]
    assert loc["splat"] == [1, 2]
    assert loc["plain_doc"] == '{"a": "b"}'
    # unknowns are None, never an exception, and try() does not paper over an unknown
    for name in ("unknown", "mixed", "fn", "try_unk", "cyc_a", "cyc_b", "uses_cyc", "heredoc"):
        assert loc[name] is None, name
    assert cfg.root.local_expressions["subnets"] == "[for i, az in local.azs : cidrsubnet(var.cidr, 8, i)]"
    assert evaluate_expression("${var.env}-x", cfg.root) == (True, "prod-x")
    assert evaluate_expression("local.n + 1", cfg.root) == (True, 7)
    assert evaluate_expression("aws_vpc.main.id", cfg.root) == (False, None)


# --------------------------------------------------------------------------------------------
# modules
# --------------------------------------------------------------------------------------------


def test_local_module_inputs_outputs_and_for_each(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        """
        variable "env" { default = "dev" }
        locals { cidr = "10.1.0.0/16" }

        module "vpc" {
          source = "./modules/vpc"
          name   = "${var.env}-vpc"
          cidr   = local.cidr
          azs    = ["a", "b"]
        }

        module "ng" {
          source   = "./modules/ng"
          for_each = toset(["blue", "green"])
          name     = each.key
          subnets  = module.vpc.private_subnets
        }

        module "remote" {
          source  = "terraform-aws-modules/iam/aws"
          version = "~> 5.0"
          role    = module.vpc.vpc_name
        }

        locals {
          vpc_name = module.vpc.vpc_name
          sg_count = module.vpc.static
        }
        """,
    )
    write(
        tmp_path / "modules/vpc",
        "main.tf",
        """
        variable "name" { type = string }
        variable "cidr" { type = string }
        variable "azs" { type = list(string) }
        variable "enable" { default = true }

        resource "aws_vpc" "this" {
          cidr_block = var.cidr
          tags       = { Name = var.name }
        }

        resource "aws_subnet" "private" {
          count      = length(var.azs)
          vpc_id     = aws_vpc.this.id
          cidr_block = cidrsubnet(var.cidr, 8, count.index)
        }

        output "private_subnets" { value = aws_subnet.private[*].id }
        output "vpc_name" { value = var.name }
        output "static" { value = 2 }
        """,
    )
    write(
        tmp_path / "modules/ng",
        "main.tf",
        """
        variable "name" {}
        variable "subnets" { type = list(string) }
        variable "size" { default = 2 }
        module "inner" {
          source = "../inner"
          label  = "${var.name}-inner"
        }
        resource "aws_eks_node_group" "this" {
          node_group_name = var.name
          subnet_ids      = var.subnets
        }
        """,
    )
    write(
        tmp_path / "modules/inner",
        "main.tf",
        """
        variable "label" {}
        data "aws_iam_policy_document" "x" {
          statement { actions = ["s3:*"] }
        }
        resource "aws_iam_policy" "p" {
          policy = data.aws_iam_policy_document.x.json
        }
        """,
    )
    cfg = load_hcl(tmp_path, workers=1)
    root = cfg.root
    assert [m.address for m in cfg.modules()] == ["", "module.vpc", "module.ng", "module.ng.module.inner"]
    assert cfg.files_parsed == 4

    vpc_call = root.module_calls["vpc"]
    assert vpc_call.source == "./modules/vpc" and vpc_call.line == 4
    assert vpc_call.inputs == {"name": "${var.env}-vpc", "cidr": "${local.cidr}", "azs": ["a", "b"]}
    assert [r.target for r in vpc_call.input_references["cidr"]] == ["local.cidr"]
    vpc = vpc_call.module
    assert vpc is not None and vpc.address == "module.vpc"
    assert vpc.variables["name"].value == "dev-vpc" and vpc.variables["name"].is_set
    assert vpc.variables["cidr"].value == "10.1.0.0/16"
    assert vpc.variables["azs"].value == ["a", "b"]
    assert vpc.variables["enable"].value is True
    assert vpc.outputs == {
        "private_subnets": "aws_subnet.private[*].id",
        "vpc_name": "var.name",
        "static": "2",
    }
    # parent locals can see child outputs where they are known
    assert root.locals["vpc_name"] == "dev-vpc"
    assert root.locals["sg_count"] == 2

    ng_call = root.module_calls["ng"]
    assert ng_call.for_each == 'toset(["blue", "green"])'
    ng = ng_call.module
    assert ng is not None  # loaded once despite for_each
    assert ng.variables["name"].value is None and not ng.variables["name"].is_set  # each.key
    assert ng.variables["subnets"].is_set is False  # resource ids are unknown
    assert ng.variables["size"].value == 2
    assert ng.module_calls["inner"].module is not None
    assert ng.module_calls["inner"].module.variables["label"].is_set is False

    remote = root.module_calls["remote"]
    assert remote.module is None and remote.version == "~> 5.0"

    addrs = [r.address for r in cfg.resources()]
    assert addrs == [
        "module.vpc.aws_vpc.this",
        "module.vpc.aws_subnet.private",
        "module.ng.aws_eks_node_group.this",
        "module.ng.module.inner.data.aws_iam_policy_document.x",
        "module.ng.module.inner.aws_iam_policy.p",
    ]
    subnet = cfg.resource("module.vpc.aws_subnet.private")
    assert subnet is not None and subnet.count == "length(var.azs)" and subnet.module_address == "module.vpc"
    assert cfg.resource("module.vpc.aws_subnet.private[1]") is subnet
    assert subnet.expressions == {
        "count": "length(var.azs)",
        "vpc_id": "aws_vpc.this.id",
        "cidr_block": "cidrsubnet(var.cidr, 8, count.index)",
    }
    data = cfg.resource("module.ng.module.inner.data.aws_iam_policy_document.x")
    assert (
        data is not None and data.mode == "data" and data.attributes["statement"] == [{"actions": ["s3:*"]}]
    )
    policy = cfg.resource("module.ng.module.inner.aws_iam_policy.p")
    assert policy is not None
    assert [r.target for r in policy.references] == ["data.aws_iam_policy_document.x.json"]
    assert policy.references[0].resource_address == "data.aws_iam_policy_document.x"


def test_missing_local_module_is_a_tool_error(tmp_path: Path) -> None:
    write(tmp_path, "main.tf", '# a comment\n\nmodule "x" {\n  source = "./nope"\n}\n')
    with pytest.raises(ToolError) as err:
        load_hcl(tmp_path, workers=1)
    assert err.value.source == f"{tmp_path}/main.tf:3"


# --------------------------------------------------------------------------------------------
# resources: references, lifecycle, meta-arguments
# --------------------------------------------------------------------------------------------


def test_references_with_lines_and_scopes(tmp_path: Path) -> None:
    write(
        tmp_path,
        "network.tf",
        """
        resource "aws_vpc" "main" {
          cidr_block = var.cidr
        }

        resource "aws_security_group" "web" {
          name     = "${local.prefix}-web"
          vpc_id   = aws_vpc.main.id
          for_each = var.groups
          description = each.value.description

          dynamic "ingress" {
            for_each = var.rules
            content {
              from_port   = ingress.value.port
              cidr_blocks = [for s in aws_subnet.private : s.cidr_block if s.tags.public]
            }
          }
          dynamic "egress" {
            for_each = var.egress
            iterator = rule
            content {
              to_port         = rule.value.port
              security_groups = [module.lb.sg_id]
            }
          }
          tags = {
            Subnet = aws_subnet.private[0].id
            Other  = aws_subnet.by_key["a"].arn
            All    = aws_subnet.private[*].id
            Self   = path.module
          }
          policy = <<-EOT
            {
              "Resource": "${aws_s3_bucket.logs.arn}",
              "Items": "%{ for b in var.buckets }${b.name}%{ endfor }"
            }
          EOT
          user_data = templatefile("${path.module}/x.tpl", { cluster = data.aws_eks_cluster.this.endpoint })
          provider   = aws.west
          depends_on = [aws_iam_role.node, module.vpc]

          lifecycle {
            ignore_changes        = [tags, scaling_config[0].desired_size, tags["Name"]]
            prevent_destroy       = true
            replace_triggered_by  = [aws_launch_template.lt.id]
            create_before_destroy = true
          }
        }
        """,
    )
    cfg = load_hcl(tmp_path, workers=1)
    sg = cfg.resource("aws_security_group.web")
    assert sg is not None
    assert (sg.line, sg.end_line) == (5, 48)
    f = str(tmp_path / "network.tf")
    got = [(r.target, r.line, r.attribute) for r in sg.references]
    assert got == [
        ("local.prefix", 6, "name"),
        ("aws_vpc.main.id", 7, "vpc_id"),
        ("var.groups", 8, "for_each"),
        ("var.rules", 12, "dynamic"),
        ("aws_subnet.private", 15, "dynamic"),
        ("var.egress", 19, "dynamic"),
        ("module.lb.sg_id", 23, "dynamic"),
        ("aws_subnet.private[0].id", 27, "tags"),
        ('aws_subnet.by_key["a"].arn', 28, "tags"),
        ("aws_subnet.private", 29, "tags"),
        ("aws_s3_bucket.logs.arn", 34, "policy"),
        ("var.buckets", 35, "policy"),
        ("data.aws_eks_cluster.this.endpoint", 38, "user_data"),
        ("aws_launch_template.lt.id", 45, "lifecycle"),
    ]
    assert all(r.file == f for r in sg.references)
    assert sg.references[0].resource_address is None
    assert sg.references[1].resource_address == "aws_vpc.main"
    assert sg.references[6].module_call == "lb"
    assert sg.for_each == "var.groups" and sg.count is None
    assert sg.depends_on == ["aws_iam_role.node", "module.vpc"]
    assert sg.ignore_changes == ["tags", "scaling_config[0].desired_size", 'tags["Name"]']
    assert sg.prevent_destroy is True
    # attributes keep python-hcl2's stripped shape; heredocs are real text (no escaped quotes)
    assert sg.attributes["vpc_id"] == "${aws_vpc.main.id}"
    assert sg.attributes["tags"]["Self"] == "${path.module}"
    assert sg.attributes["policy"].startswith('{\n  "Resource": "${aws_s3_bucket.logs.arn}"')
    assert sg.expressions["vpc_id"] == "aws_vpc.main.id"
    assert "name" in sg.expressions and "policy" in sg.expressions
    vpc = cfg.resource("aws_vpc.main")
    assert vpc is not None and vpc.ignore_changes == [] and vpc.prevent_destroy is False
    assert [(r.target, r.line) for r in vpc.references] == [("var.cidr", 2)]


def test_ignore_changes_all(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        'resource "aws_eks_addon" "a" {\n  lifecycle {\n    ignore_changes = all\n  }\n}\n',
    )
    res = load_hcl(tmp_path, workers=1).resource("aws_eks_addon.a")
    assert res is not None and res.ignore_changes == ["all"]


# --------------------------------------------------------------------------------------------
# errors, parse_file, addresses
# --------------------------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "ok.tf", 'variable "a" {}\n')
    bad = write(
        tmp_path, "broken.tf", 'resource "aws_vpc" "x" {\n  cidr_block = "10.0.0.0/16"\n  tags = \n}\n'
    )
    with pytest.raises(ToolError) as err:
        load_hcl(tmp_path, workers=1)
    assert err.value.source == f"{bad}:3"
    assert "line 3" in str(err.value)
    with pytest.raises(ToolError) as err2:
        parse_file(bad)
    assert err2.value.source == f"{bad}:3"


def test_unterminated_block_reports_a_line(tmp_path: Path) -> None:
    bad = write(tmp_path, "broken.tf", 'resource "a" "b" {\n  x = 1\n')
    with pytest.raises(ToolError) as err:
        parse_file(bad)
    assert str(err.value.source).startswith(f"{bad}:")
    assert "end of file" in str(err.value)


def test_parse_file_shape(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "main.tf",
        'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n  tags = { "a/b" = var.x }\n}\n',
    )
    assert parse_file(p) == {
        "resource": [{"aws_vpc": {"main": {"cidr_block": "10.0.0.0/16", "tags": {"a/b": "${var.x}"}}}}]
    }


@pytest.mark.parametrize(
    ("state", "config"),
    [
        (
            'module.eks.module.ng["default"].aws_eks_node_group.this[0]',
            "module.eks.module.ng.aws_eks_node_group.this",
        ),
        ("aws_vpc.main", "aws_vpc.main"),
        ('aws_subnet.s["a.b[0]"]', "aws_subnet.s"),
        ('module.x["k\\"]"].data.aws_ami.y', "module.x.data.aws_ami.y"),
        ("module.a[3].aws_iam_role.r", "module.a.aws_iam_role.r"),
    ],
)
def test_config_address(state: str, config: str) -> None:
    assert config_address(state) == config


def test_parallel_and_cache_give_identical_results(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for i in range(12):
        write(src, f"f{i}.tf", f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "${{var.p}}-{i}"\n}}\n')
    write(src, "vars.tf", 'variable "p" { default = "x" }\n')
    seq = load_hcl(src, workers=1)
    par = load_hcl(src, workers=2, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.json"))) == 13
    cached = load_hcl(src, workers=2, cache_dir=tmp_path / "cache")
    for cfg in (par, cached):
        assert [r.address for r in cfg.resources()] == [r.address for r in seq.resources()]
        assert [r.references for r in cfg.resources()] == [r.references for r in seq.resources()]
        assert cfg.files_parsed == 13


# --------------------------------------------------------------------------------------------
# corpus
# --------------------------------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2] / "shared/corpus/hcl"


@pytest.mark.corpus
def test_corpus_loads_every_module_directory(tmp_path: Path) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not present at {CORPUS}")
    tf_files: set[str] = set()
    tfvars: list[str] = []
    dirs: list[str] = []
    for d, subdirs, files in os.walk(CORPUS):
        subdirs[:] = [s for s in subdirs if s != ".terraform"]
        tf = [f for f in files if f.endswith(".tf")]
        tf_files.update(os.path.realpath(os.path.join(d, f)) for f in tf)
        tfvars += [os.path.join(d, f) for f in files if f.endswith(".tfvars")]
        if tf:
            dirs.append(d)
    cache = tmp_path / "cache"  # shared between directories, so ../.. modules parse once
    started = time.perf_counter()
    seen: set[str] = set()
    resources = references = 0
    for d in sorted(dirs):
        cfg = load_hcl(d, workers=os.cpu_count(), cache_dir=cache)
        for m in cfg.modules():
            seen.update(os.path.realpath(f) for f in m.files)
        for r in cfg.resources():
            resources += 1
            references += len(r.references)
            assert r.line <= r.end_line
            assert all(ref.line >= r.line and ref.line <= r.end_line for ref in r.references), r.address
    for p in tfvars:
        assert isinstance(parse_file(p), dict)
    elapsed = time.perf_counter() - started
    print(
        f"corpus: {len(dirs)} dirs, {len(seen)} .tf + {len(tfvars)} .tfvars, {resources} resources, {references} refs, {elapsed:.1f}s"
    )
    assert len(seen) == len(tf_files)  # 634 in the corpus as checked in
    assert seen == tf_files
    assert resources > 1000 and references > 1000
