"""Map stage: renames, tag shapes, folds (all three SG rule styles, routes, associations, policies), secrets."""

from __future__ import annotations

import json

from converter.load.state import parse_state
from converter.mapping.engine import ADOPTION_FIELDS, ADOPTION_POLICY, DELETION_POLICY, map_state
from converter.mapping.spec import load_mappings
from converter.model import Status
from tests import statefactory as sf

SG = "sg-0123456789abcdef0"
OTHER_SG = "sg-0fedcba9876543210"


def _map(*resources):
    return map_state(parse_state(sf.state(*resources)), load_mappings())


def test_vpc_fields_tags_and_adoption_annotations():
    r = _map(sf.resource("aws_vpc", "main", sf.vpc()))
    body = r.objects["aws_vpc.main"].conversion.body
    assert body["apiVersion"] == "ec2.services.k8s.aws/v1alpha1" and body["kind"] == "VPC"
    ann = body["metadata"]["annotations"]
    assert ann[ADOPTION_POLICY] == "adopt"
    assert json.loads(ann[ADOPTION_FIELDS]) == {"vpcID": "vpc-0a1b2c3d4e5f60718"}
    assert ann[DELETION_POLICY] == "retain"
    assert ann["services.k8s.aws/region"] == "eu-west-1"  # detected from ARNs
    spec = body["spec"]
    assert spec["cidrBlocks"] == ["10.0.0.0/16"]
    assert spec["enableDNSHostnames"] is True and spec["enableDNSSupport"] is True
    # tags come from tags_all (provider default_tags included), as EC2 key/value list
    assert spec["tags"] == [{"key": "Environment", "value": "test"}, {"key": "Name", "value": "main"}]
    assert "ipv6CIDRBlock" not in spec  # empty in state → not rendered, adopt fills it


def test_secondary_cidr_folds_into_vpc():
    r = _map(
        sf.resource("aws_vpc", "main", sf.vpc()),
        sf.resource("aws_vpc_ipv4_cidr_block_association", "extra", {"id": "vpc-cidr-assoc-1", "vpc_id": "vpc-0a1b2c3d4e5f60718",
                                                                      "cidr_block": "100.64.0.0/16"}),
    )
    assert r.objects["aws_vpc.main"].spec["cidrBlocks"] == ["10.0.0.0/16", "100.64.0.0/16"]
    assert r.conversions["aws_vpc_ipv4_cidr_block_association.extra"].fold_parent == "aws_vpc.main"


def test_security_group_rules_in_all_three_styles_aggregate_like_ec2():
    inline = {"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/16"], "ipv6_cidr_blocks": [],
              "prefix_list_ids": [], "security_groups": [], "self": False, "description": "https"}
    egress = {"from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"], "ipv6_cidr_blocks": [],
              "prefix_list_ids": [], "security_groups": [], "self": False, "description": ""}
    r = _map(
        sf.resource("aws_security_group", "nodes", sf.security_group(ingress=[inline], egress=[egress])),
        # legacy rule resource: same port range, from another SG, plus a self rule
        sf.resource("aws_security_group_rule", "from_lb", {"id": "sgrule-1", "type": "ingress", "security_group_id": SG,
                                                           "from_port": 443, "to_port": 443, "protocol": "tcp",
                                                           "source_security_group_id": OTHER_SG, "self": False,
                                                           "cidr_blocks": None, "description": "from lb"}),
        sf.resource("aws_security_group_rule", "self", {"id": "sgrule-2", "type": "ingress", "security_group_id": SG,
                                                        "from_port": 0, "to_port": 65535, "protocol": "tcp", "self": True,
                                                        "source_security_group_id": None, "cidr_blocks": None, "description": ""}),
        # new-style per-grant rule, and the same grant again (as a refreshed SG also lists it inline)
        sf.resource("aws_vpc_security_group_ingress_rule", "vpn", {"id": "sgr-1", "security_group_id": SG, "ip_protocol": "tcp",
                                                                   "from_port": 443, "to_port": 443, "cidr_ipv4": "10.0.0.0/16",
                                                                   "description": "https"}),
        sf.resource("aws_vpc_security_group_egress_rule", "dns", {"id": "sgr-2", "security_group_id": SG, "ip_protocol": "udp",
                                                                  "from_port": 53, "to_port": 53, "cidr_ipv4": "10.0.0.2/32"}),
    )
    spec = r.objects["aws_security_group.nodes"].spec
    https = [p for p in spec["ingressRules"] if p.get("fromPort") == 443]
    assert len(https) == 1, "grants with the same protocol/ports are one IpPermission"
    assert https[0]["ipRanges"] == [{"cidrIP": "10.0.0.0/16", "description": "https"}]  # de-duplicated
    assert https[0]["userIDGroupPairs"] == [{"groupID": OTHER_SG, "description": "from lb"}]
    selfrule = [p for p in spec["ingressRules"] if p.get("toPort") == 65535][0]
    assert selfrule["userIDGroupPairs"] == [{"groupID": SG}]  # self = true → own group id
    assert {"ipProtocol": "-1", "ipRanges": [{"cidrIP": "0.0.0.0/0"}]} in spec["egressRules"]
    assert {"ipProtocol": "udp", "fromPort": 53, "toPort": 53, "ipRanges": [{"cidrIP": "10.0.0.2/32"}]} in spec["egressRules"]
    statuses = {a: c.status for a, c in r.conversions.items()}
    assert statuses["aws_security_group_rule.self"] is Status.FOLDED
    assert statuses["aws_vpc_security_group_egress_rule.dns"] is Status.FOLDED


def test_routes_and_associations_fold():
    rt = {"id": "rtb-0aaaaaaaaaaaaaaaa", "vpc_id": "vpc-0a1b2c3d4e5f60718", "tags_all": {}, "propagating_vgws": [],
          "route": [{"cidr_block": "0.0.0.0/0", "gateway_id": "igw-0aaaaaaaaaaaaaaaa", "ipv6_cidr_block": "", "nat_gateway_id": ""}]}
    r = _map(
        sf.resource("aws_subnet", "a", sf.subnet(1)),
        sf.resource("aws_route_table", "public", rt),
        sf.resource("aws_route", "extra", {"id": "r-1", "route_table_id": "rtb-0aaaaaaaaaaaaaaaa", "destination_cidr_block": "192.168.0.0/16",
                                           "transit_gateway_id": "tgw-0aaaaaaaaaaaaaaaa", "gateway_id": ""}),
        sf.resource("aws_route_table_association", "a", {"id": "rtbassoc-1", "subnet_id": "subnet-01aaaaaaaaaaaaaa",
                                                         "route_table_id": "rtb-0aaaaaaaaaaaaaaaa", "gateway_id": ""}),
    )
    routes = r.objects["aws_route_table.public"].spec["routes"]
    assert {"destinationCIDRBlock": "0.0.0.0/0", "gatewayID": "igw-0aaaaaaaaaaaaaaaa"} in routes
    assert {"destinationCIDRBlock": "192.168.0.0/16", "transitGatewayID": "tgw-0aaaaaaaaaaaaaaaa"} in routes
    assert len(routes) == 2
    assert r.objects["aws_subnet.a"].spec["routeTables"] == ["rtb-0aaaaaaaaaaaaaaaa"]


def test_role_policies_fold_and_kms_tag_shape():
    role = {"id": "app", "name": "app", "arn": "arn:aws:iam::111122223333:role/app", "path": "/", "description": "",
            "assume_role_policy": '{"Version":"2012-10-17","Statement":[]}', "max_session_duration": 3600,
            "managed_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "inline_policy": [{"name": "", "policy": ""}],
            "permissions_boundary": "", "tags_all": {"Team": "platform"}}
    r = _map(
        sf.resource("aws_iam_role", "app", role),
        sf.resource("aws_iam_role_policy_attachment", "ro", {"id": "app-1", "role": "app", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}),
        sf.resource("aws_iam_role_policy_attachment", "ecr", {"id": "app-2", "role": "app",
                                                              "policy_arn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"}),
        sf.resource("aws_iam_role_policy", "inline", {"id": "app:s3", "role": "app", "name": "s3", "policy": '{"Statement":[]}'}),
        sf.resource("aws_iam_role_policy_attachment", "orphan", {"id": "x-1", "role": "not-in-state", "policy_arn": "arn:aws:iam::aws:policy/X"}),
        sf.resource("aws_kms_key", "k", {"id": "k-1", "key_id": "k-1", "arn": "arn:aws:kms:eu-west-1:111122223333:key/k-1",
                                          "description": "eks", "key_usage": "ENCRYPT_DECRYPT", "customer_master_key_spec": "SYMMETRIC_DEFAULT",
                                          "enable_key_rotation": True, "multi_region": False, "deletion_window_in_days": 7,
                                          "policy": "{}", "tags_all": {"Team": "platform"}}),
    )
    spec = r.objects["aws_iam_role.app"].spec
    assert spec["policies"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]
    assert spec["inlinePolicies"] == {"s3": '{"Statement":[]}'}
    assert spec["tags"] == [{"key": "Team", "value": "platform"}]
    orphan = r.conversions["aws_iam_role_policy_attachment.orphan"]
    assert orphan.status is Status.UNSUPPORTED and "not managed in this state" in orphan.reason
    key = r.objects["aws_kms_key.k"].conversion.body
    assert key["spec"]["tags"] == [{"tagKey": "Team", "tagValue": "platform"}]
    assert key["metadata"]["annotations"]["kms.services.k8s.aws/pending-window-in-days"] == "7"


def test_sensitive_values_are_omitted_and_reported():
    r = _map(sf.resource("aws_launch_template", "lt", {"id": "lt-0aaaaaaaaaaaaaaaa", "name": "nodes", "image_id": "ami-1",
                                                       "user_data": "c2VjcmV0LXVzZXItZGF0YQ==", "tags_all": {}},
                         sensitive=[["user_data"]]))
    conv = r.conversions["aws_launch_template.lt"]
    assert "userData" not in conv.body["spec"].get("data", {})
    assert "c2VjcmV0LXVzZXItZGF0YQ==" not in json.dumps(conv.body)
    assert [o.field for o in conv.omissions] == ["spec.data.userData"]


def test_every_managed_resource_gets_one_status():
    r = _map(
        sf.resource("aws_vpc", "main", sf.vpc()),
        sf.resource("null_resource", "x", {"id": "1"}, provider='provider["registry.terraform.io/hashicorp/null"]'),
        sf.resource("aws_gamelift_fleet", "f", {"id": "fleet-1"}),
        sf.resource("aws_key_pair", "k", {"id": "k"}),
    )
    reasons = {a: (c.status, c.reason) for a, c in r.conversions.items()}
    assert reasons["aws_vpc.main"][0] is Status.MAPPED
    assert reasons["null_resource.x"][0] is Status.UNSUPPORTED and "null provider" in reasons["null_resource.x"][1]
    assert "no mapping for aws_gamelift_fleet" in reasons["aws_gamelift_fleet.f"][1]
    assert "key pairs" in reasons["aws_key_pair.k"][1]


def test_nodegroup_desired_size_annotation_follows_ignore_changes():
    ng = {"id": "c:ng", "cluster_name": "c", "node_group_name": "ng", "node_role_arn": "arn:aws:iam::111122223333:role/n",
          "subnet_ids": ["subnet-01aaaaaaaaaaaaaa"], "scaling_config": [{"desired_size": 2, "min_size": 1, "max_size": 5}],
          "update_config": [{"max_unavailable": 1, "max_unavailable_percentage": 0}], "tags_all": {}, "arn": "arn:aws:eks:eu-west-1:111122223333:nodegroup/c/ng/x"}
    st = parse_state(sf.state(sf.resource("aws_eks_node_group", "this", ng)))
    key = "eks.services.k8s.aws/desired-size-managed-by"
    no_hcl = map_state(st, load_mappings()).objects["aws_eks_node_group.this"].annotations
    assert no_hcl[key] == "external-autoscaler"  # unknown → never fight an autoscaler
    ignored = map_state(st, load_mappings(), ignore_changes={"aws_eks_node_group.this": ["scaling_config[0].desired_size"]})
    assert ignored.objects["aws_eks_node_group.this"].annotations[key] == "external-autoscaler"
    managed = map_state(st, load_mappings(), ignore_changes={"aws_eks_node_group.this": []})
    ann = managed.objects["aws_eks_node_group.this"].annotations
    assert key not in ann
    spec = managed.objects["aws_eks_node_group.this"].spec
    assert spec["scalingConfig"] == {"desiredSize": 2, "minSize": 1, "maxSize": 5}
    assert spec["updateConfig"] == {"maxUnavailable": 1}
