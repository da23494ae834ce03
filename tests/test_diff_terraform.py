"""End to end with the real hashicorp/aws provider: `terraform apply` against a moto server, then `tf2kro diff`
of the state Terraform wrote must be empty. The strongest fidelity check of the mappings and normalisers: every
attribute name and shape comes from the provider, not from a hand-written fixture.

Needs `terraform` on PATH and the provider mirror at /opt/tf-plugins (skipped otherwise)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from converter.cli import main

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]
MIRROR = Path(os.environ.get("TF2KRO_TF_MIRROR", "/opt/tf-plugins"))
pytestmark = [
    pytest.mark.terraform,
    pytest.mark.moto,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not on PATH"),
    pytest.mark.skipif(not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir(),
                       reason=f"no hashicorp/aws provider mirror at {MIRROR}"),
]

CLI_CONFIG = """provider_installation {
  filesystem_mirror {
    path    = "%s"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
"""

MAIN_TF = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  endpoints {
    ec2 = "%(url)s"
    iam = "%(url)s"
    s3  = "%(url)s"
    sts = "%(url)s"
  }
  default_tags {
    tags = { Project = "tf2kro-e2e" }
  }
}

resource "aws_vpc" "main" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = "e2e" }
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.20.1.0/24"
  availability_zone = "eu-west-1a"
  tags              = { Name = "e2e-a", "kubernetes.io/role/internal-elb" = "1" }
}

resource "aws_subnet" "b" {
  vpc_id                  = aws_vpc.main.id
  cidr_block              = "10.20.2.0/24"
  availability_zone       = "eu-west-1b"
  map_public_ip_on_launch = true
  tags                    = { Name = "e2e-b" }
}

resource "aws_security_group" "web" {
  name        = "e2e-web"
  description = "web tier"
  vpc_id      = aws_vpc.main.id

  ingress {
    description = "https"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8", "192.168.0.0/16"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = { Name = "e2e-web" }
}

resource "aws_security_group" "app" {
  name        = "e2e-app"
  description = "app tier"
  vpc_id      = aws_vpc.main.id
  tags        = { Name = "e2e-app" }
}

resource "aws_security_group_rule" "app_from_web" {
  type                     = "ingress"
  security_group_id        = aws_security_group.app.id
  from_port                = 8080
  to_port                  = 8080
  protocol                 = "tcp"
  source_security_group_id = aws_security_group.web.id
  description              = "web to app"
}

resource "aws_security_group_rule" "app_self" {
  type              = "ingress"
  security_group_id = aws_security_group.app.id
  from_port         = 0
  to_port           = 65535
  protocol          = "tcp"
  self              = true
}

resource "aws_security_group_rule" "app_egress" {
  type              = "egress"
  security_group_id = aws_security_group.app.id
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_iam_role" "app" {
  name        = "e2e-app"
  description = "application role"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  tags = { Name = "e2e-app" }
}

resource "aws_iam_role_policy_attachment" "app_ro" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "app_inline" {
  name = "e2e-app-inline"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:GetObject", "s3:ListBucket"], Resource = "*" }]
  })
}

resource "aws_s3_bucket" "data" {
  bucket = "tf2kro-e2e-data"
  tags   = { Name = "e2e-data" }
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration { status = "Enabled" }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
"""


def _tf(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    res = subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)
    if res.returncode != 0:
        pytest.fail(f"terraform {' '.join(args)} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")


def test_real_terraform_state_diffs_clean(moto: MotoServer, tmp_path: Path) -> None:
    work = tmp_path / "tf"
    work.mkdir()
    (tmp_path / "cli.tfrc").write_text(CLI_CONFIG % MIRROR)
    (work / "main.tf").write_text(MAIN_TF % {"url": moto.url})
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(tmp_path / "cli.tfrc"), "HOME": str(tmp_path), "CHECKPOINT_DISABLE": "1",
           "TF_IN_AUTOMATION": "1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env.pop("AWS_ENDPOINT_URL", None)
    _tf(["init", "-input=false", "-no-color"], work, env)
    _tf(["apply", "-auto-approve", "-input=false", "-no-color"], work, env)
    state = work / "terraform.tfstate"
    assert json.loads(state.read_text())["version"] == 4

    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--hcl", str(work), "--region", "eu-west-1",
                                    "--endpoint-url", moto.url, "--format", "json", "--scope-tag", "Project=tf2kro-e2e"])
    doc = json.loads(res.stdout)
    findings = [f for r in doc["resources"] for f in r["findings"]]
    print("\n".join(f"{f['class']} {f['address']} {f['path']} {f['expected']!r} {f['live']!r}" for f in findings))
    assert [f for f in findings if f["class"] != "unverified"] == []
    assert res.exit_code == 0, res.output
    checked = {r["address"] for r in doc["resources"]}
    assert {"aws_vpc.main", "aws_subnet.a", "aws_subnet.b", "aws_security_group.web", "aws_security_group.app",
            "aws_iam_role.app", "aws_s3_bucket.data"} <= checked

    # and the out-of-band change Terraform would call drift shows up in all its classes
    moto.client("ec2").create_tags(Resources=[_id(state, "aws_subnet", "a")], Tags=[{"Key": "x", "Value": "y"}])
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--region", "eu-west-1", "--endpoint-url", moto.url,
                                    "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    got = {(f["class"], f["path"]) for r in doc["resources"] if r["address"] == "aws_subnet.a" for f in r["findings"]}
    assert ("adoption-would-change", "spec.tags.x") in got and ("drift", "tags_all.x") in got


def _id(state: Path, rtype: str, name: str) -> str:
    for r in json.loads(state.read_text())["resources"]:
        if r["type"] == rtype and r["name"] == name:
            return r["instances"][0]["attributes"]["id"]
    raise KeyError(name)
