"""A resource in another region than the state's main one is annotated with its own region (from its ARN)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from converter.cli import main
from converter.load.state import parse_state
from converter.mapping.engine import REGION, instance_region, map_state
from converter.mapping.spec import load_mappings
from tests import statefactory as sf


def _ecr(name: str, region: str) -> dict:
    return {"id": name, "name": name, "arn": f"arn:aws:ecr:{region}:111122223333:repository/{name}",
            "registry_id": "111122223333", "repository_url": f"111122223333.dkr.ecr.{region}.amazonaws.com/{name}",
            "image_tag_mutability": "MUTABLE", "force_delete": None, "encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}],
            "image_scanning_configuration": [{"scan_on_push": False}], "tags": {}, "tags_all": {}}


def _estate_text() -> str:
    return sf.state(
        sf.resource("aws_vpc", "main", sf.vpc()),
        sf.resource("aws_subnet", "a", sf.subnet(1)),
        sf.resource("aws_ecr_repository", "mirror", _ecr("mirror", "us-east-1")),
        sf.resource("aws_ecr_repository", "app", _ecr("app", "eu-west-1")),
    )


def test_other_region_resource_gets_its_own_annotation():
    result = map_state(parse_state(_estate_text()), load_mappings())
    assert result.region == "eu-west-1"
    ann = {a: mo.annotations[REGION] for a, mo in result.objects.items()}
    assert ann == {"aws_vpc.main": "eu-west-1", "aws_subnet.a": "eu-west-1",
                   "aws_ecr_repository.mirror": "us-east-1", "aws_ecr_repository.app": "eu-west-1"}
    note = result.conversions["aws_ecr_repository.mirror"].reason
    assert note and "us-east-1" in note and "eu-west-1" in note
    assert result.conversions["aws_ecr_repository.app"].reason is None


def test_explicit_region_does_not_override_an_arn_region(tmp_path):
    path = tmp_path / "s.tfstate"
    path.write_text(_estate_text())
    res = CliRunner().invoke(main, ["inspect", "--state", str(path), "--region", "eu-central-1", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["address"]: r for r in json.loads(res.output)["resources"]}
    assert "us-east-1" in rows["aws_ecr_repository.mirror"]["note"]
    assert "eu-west-1" in rows["aws_subnet.a"]["note"]  # the subnet's own ARN says eu-west-1, not the --region


def test_instance_region_sources():
    inst = parse_state(sf.state(
        sf.resource("aws_s3_bucket", "b", {"id": "b", "arn": "arn:aws:s3:::b", "bucket": "b", "region": "ap-south-1"}),
        sf.resource("aws_iam_role", "r", {"id": "r", "name": "r", "arn": "arn:aws:iam::111122223333:role/r"}),
    )).by_address()
    assert instance_region(inst["aws_s3_bucket.b"]) == "ap-south-1"  # S3 ARNs carry no region: the attribute does
    assert instance_region(inst["aws_iam_role.r"]) is None  # global
