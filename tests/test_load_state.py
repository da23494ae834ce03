"""State loading: addresses, sensitive paths, and every bad-input path gives a ToolError naming the file."""

from __future__ import annotations

import io
import json

import pytest

from converter.load.state import load_state, parse_state
from converter.model import ToolError
from tests import statefactory as sf


def test_module_and_index_addresses():
    text = sf.state(
        sf.resource("aws_eks_node_group", "this", [{"id": "c:ng"}], module='module.eks.module.mng["general"]', index_keys=[0]),
        sf.resource("aws_subnet", "private", [sf.subnet(0), sf.subnet(1)], module="module.vpc", index_keys=[0, 1]),
        sf.resource("aws_iam_role", "irsa", [{"id": "r"}], index_keys=["ebs-csi"]),
        sf.resource("aws_availability_zones", "all", {"id": "eu-west-1"}, mode="data"),
    )
    st = parse_state(text, "t.tfstate")
    addrs = [i.address for i in st.instances]
    assert addrs == [
        'module.eks.module.mng["general"].aws_eks_node_group.this[0]',
        "module.vpc.aws_subnet.private[0]",
        "module.vpc.aws_subnet.private[1]",
        'aws_iam_role.irsa["ebs-csi"]',
        "data.aws_availability_zones.all",
    ]
    assert [i.address for i in st.managed][-1] == 'aws_iam_role.irsa["ebs-csi"]'
    assert st.instances[0].resource_address == 'module.eks.module.mng["general"].aws_eks_node_group.this'


def test_sensitive_paths_tainted_and_zero_instances():
    doc = json.loads(sf.state(sf.resource("aws_db_instance", "db", {"id": "db-1", "password": "x"}, sensitive=[["password"]])))
    doc["resources"][0]["instances"][0]["status"] = "tainted"
    doc["resources"].append({"mode": "managed", "type": "aws_eip", "name": "none", "provider": sf.AWS, "instances": []})
    st = parse_state(json.dumps(doc))
    (db,) = st.managed
    assert db.tainted
    assert db.sensitive_paths[0].steps == ("password",)


def test_old_state_format_message_is_consistent(tmp_path):
    """A format-3 file whose terraform_version says 0.12.31 (never rewritten since): the message names format 4 as
    what Terraform ≥ 0.12 writes and how to upgrade, without claiming 0.12.31 cannot have written it."""
    p = tmp_path / "old.tfstate"
    p.write_text('{"version": 3, "terraform_version": "0.12.31", "modules": []}')
    with pytest.raises(ToolError) as err:
        load_state(p)
    msg = str(err.value)
    assert "format version 3" in msg and "0.12.31" in msg and "format 4" in msg and "state pull" in msg
    assert "only format 4 (Terraform ≥ 0.12)" not in msg and "old.tfstate" in msg and "\n" not in msg


@pytest.mark.parametrize(
    "text, needle",
    [
        ('{"version": 3, "terraform_version": "0.11.8", "modules": []}', "format version 3"),
        ('{"version": 4, "resources": [', "truncated"),
        ('{"hello": "world"}', "not a Terraform state"),
        ("", "empty"),
        ('{"version": 4, "terraform_version": "1.9", "resources": [{"mode": "managed"}]}', "lacks 'type'"),
        ('{"version": 5, "terraform_version": "9", "resources": []}', "newer"),
    ],
)
def test_bad_state_is_a_clear_error(tmp_path, text, needle):
    p = tmp_path / "bad.tfstate"
    p.write_text(text)
    with pytest.raises(ToolError) as err:
        load_state(p)
    assert needle in str(err.value)
    assert str(p) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ToolError, match="not found"):
        load_state(tmp_path / "nope.tfstate")


def test_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(sf.state(sf.resource("aws_vpc", "main", sf.vpc()))))
    st = load_state("-")
    assert st.path == "<stdin>" and st.managed[0].address == "aws_vpc.main"


@pytest.mark.parametrize("where, key, value", [
    ("top", "serial", "x"), ("top", "outputs", True), ("resource", "module", True),
    ("instance", "schema_version", "x"), ("instance", "schema_version", [1]), ("instance", "dependencies", True),
])
def test_structural_fields_of_the_wrong_type_are_tool_errors(tmp_path, where, key, value):
    """Found by fuzzing: these crashed (TypeError/ValueError/AttributeError) instead of naming the file."""
    doc = json.loads(sf.state(sf.resource("aws_vpc", "v", {"id": "vpc-1", "cidr_block": "10.0.0.0/16"})))
    target = {"top": doc, "resource": doc["resources"][0], "instance": doc["resources"][0]["instances"][0]}[where]
    target[key] = value
    p = tmp_path / "bad.tfstate"
    p.write_text(json.dumps(doc))
    with pytest.raises(ToolError) as err:
        load_state(p)
    assert "bad.tfstate" in str(err.value) or "bad.tfstate" in (err.value.source or "")
