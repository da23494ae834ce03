"""`describe:` spec/state maps of ELBv2 (load balancer, target group, listener, rule), ACM certificates and
Route 53 (hosted zone, health check) against a real moto server: a fresh resource whose state mirrors the AWS
provider (5.x) diffs clean, and one out-of-band change is found on the right field with the right class."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.statefactory import resource
from tests.test_diff_types import _assert_clean, _aws_tags, _diff, _network, _only, _tf_tags

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]
pytestmark = pytest.mark.moto


def _elbv2_estate(moto: MotoServer) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    elb = moto.client("elbv2")
    ec2 = moto.client("ec2")
    vpc, subnets = _network(moto)
    # the VPC's default SG (never reported unmanaged)
    sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                               {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    lb = elb.create_load_balancer(Name="web", Subnets=subnets, SecurityGroups=[sg], Scheme="internet-facing",
                                  Type="application", IpAddressType="ipv4",
                                  Tags=_aws_tags({"Name": "web"}))["LoadBalancers"][0]
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance",
                                 HealthCheckPath="/health", Matcher={"HttpCode": "200"},
                                 Tags=_aws_tags())["TargetGroups"][0]
    ls = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                             # as AWS describes a plain forward (moto echoes what it is given)
                             DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"], "Order": 1,
                                              "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg["TargetGroupArn"],
                                                                                  "Weight": 1}],
                                                                "TargetGroupStickinessConfig": {"Enabled": False}}}],
                             Tags=_aws_tags())["Listeners"][0]
    rule = elb.create_rule(ListenerArn=ls["ListenerArn"], Priority=10,
                           # moto leaves out the legacy Values AWS repeats for path-pattern/host-header: a method condition here
                           Conditions=[{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}}],
                           Actions=[{"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {
                               "StatusCode": "404", "ContentType": "text/plain", "MessageBody": "no"}}],
                           Tags=_aws_tags())["Rules"][0]
    ids = {"vpc": vpc, "subnets": subnets, "sg": sg, "lb": lb, "tg": tg, "ls": ls, "rule": rule}
    res = [
        resource("aws_lb", "web", {
            "id": lb["LoadBalancerArn"], "arn": lb["LoadBalancerArn"], "name": "web", "internal": False,
            "load_balancer_type": "application", "ip_address_type": "ipv4", "security_groups": [sg],
            "subnets": sorted(subnets), "vpc_id": vpc, "dns_name": lb["DNSName"], "zone_id": lb["CanonicalHostedZoneId"],
            "customer_owned_ipv4_pool": "", "enable_deletion_protection": False, "idle_timeout": 60,
            **_tf_tags({"Name": "web"})}),
        resource("aws_lb_target_group", "web", {
            "id": tg["TargetGroupArn"], "arn": tg["TargetGroupArn"], "name": "web", "port": 80, "protocol": "HTTP",
            "protocol_version": tg.get("ProtocolVersion", "HTTP1"), "vpc_id": vpc, "target_type": "instance",
            "ip_address_type": "ipv4",
            "health_check": [{"enabled": True, "interval": tg["HealthCheckIntervalSeconds"], "path": "/health",
                              "port": "traffic-port", "protocol": "HTTP", "timeout": tg["HealthCheckTimeoutSeconds"],
                              "healthy_threshold": tg["HealthyThresholdCount"],
                              "unhealthy_threshold": tg["UnhealthyThresholdCount"], "matcher": "200"}],
            **_tf_tags()}),
        resource("aws_lb_listener", "http", {
            "id": ls["ListenerArn"], "arn": ls["ListenerArn"], "load_balancer_arn": lb["LoadBalancerArn"], "port": 80,
            "protocol": "HTTP", "ssl_policy": ls.get("SslPolicy", ""), "certificate_arn": None, "alpn_policy": None,
            "default_action": [{"type": "forward", "target_group_arn": tg["TargetGroupArn"], "order": 1,
                                "forward": [], "redirect": [], "fixed_response": [], "authenticate_cognito": [],
                                "authenticate_oidc": []}],
            **_tf_tags()}),
        resource("aws_lb_listener_rule", "api", {
            "id": rule["RuleArn"], "arn": rule["RuleArn"], "listener_arn": ls["ListenerArn"], "priority": 10,
            "action": [{"type": "fixed-response", "order": 1, "target_group_arn": "",
                        "fixed_response": [{"status_code": "404", "content_type": "text/plain", "message_body": "no"}],
                        "forward": [], "redirect": [], "authenticate_cognito": [], "authenticate_oidc": []}],
            "condition": [{"http_request_method": [{"values": ["GET"]}], "host_header": [], "path_pattern": [], "http_header": [],
                           "query_string": [], "source_ip": []}],
            **_tf_tags()}),
    ]
    return ids, res


ELBV2 = {"aws_lb.web", "aws_lb_target_group.web", "aws_lb_listener.http", "aws_lb_listener_rule.api"}
ELBV2_UNVERIFIED = {("aws_lb_listener_rule.api", "spec.listenerARN")}


def test_elbv2_clean(moto: MotoServer, tmp_path: Path) -> None:
    _, res = _elbv2_estate(moto)
    doc = _diff(moto, tmp_path, res)
    _assert_clean(doc, ELBV2, ELBV2_UNVERIFIED)


def test_elbv2_out_of_band_changes(moto: MotoServer, tmp_path: Path) -> None:
    ids, res = _elbv2_estate(moto)
    elb = moto.client("elbv2")
    elb.modify_target_group(TargetGroupArn=ids["tg"]["TargetGroupArn"], HealthCheckPath="/other")
    elb.set_rule_priorities(RulePriorities=[{"RuleArn": ids["rule"]["RuleArn"], "Priority": 20}])
    elb.add_tags(ResourceArns=[ids["lb"]["LoadBalancerArn"]], Tags=[{"Key": "Owner", "Value": "someone"}])
    doc = _diff(moto, tmp_path, res)
    _only(doc, {
        ("adoption-would-change", "aws_lb_target_group.web", "spec.healthCheckPath"),
        ("drift", "aws_lb_target_group.web", "health_check.path"),
        ("adoption-would-change", "aws_lb_listener_rule.api", "spec.priority"),
        ("drift", "aws_lb_listener_rule.api", "priority"),
        ("adoption-would-change", "aws_lb.web", "spec.tags"),
        ("drift", "aws_lb.web", "tags_all"),
    })


def test_elbv2_listener_action_changed(moto: MotoServer, tmp_path: Path) -> None:
    ids, res = _elbv2_estate(moto)
    moto.client("elbv2").modify_listener(ListenerArn=ids["ls"]["ListenerArn"], DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/plain"}}])
    doc = _diff(moto, tmp_path, res)
    _only(doc, {("adoption-would-change", "aws_lb_listener.http", "spec.defaultActions")})


# ---------------------------------------------------------------------------------------------- ACM
def _acm_estate(moto: MotoServer) -> tuple[str, list[dict[str, Any]]]:
    acm = moto.client("acm")
    arn = acm.request_certificate(DomainName="example.com", SubjectAlternativeNames=["example.com", "www.example.com"],
                                  ValidationMethod="DNS", Tags=_aws_tags())["CertificateArn"]
    cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    res = [resource("aws_acm_certificate", "web", {
        "id": arn, "arn": arn, "domain_name": "example.com", "subject_alternative_names": ["www.example.com"],
        "key_algorithm": cert.get("KeyAlgorithm", "RSA_2048"), "validation_method": "DNS", "type": "AMAZON_ISSUED",
        "status": cert["Status"], "certificate_authority_arn": "", "certificate_body": None, "private_key": None,
        "options": [{"certificate_transparency_logging_preference": "ENABLED"}], "validation_option": [],
        **_tf_tags()})]
    return arn, res


def test_acm_certificate_clean_and_tag_change(moto: MotoServer, tmp_path: Path) -> None:
    arn, res = _acm_estate(moto)
    doc = _diff(moto, tmp_path, res)
    _assert_clean(doc, {"aws_acm_certificate.web"})
    moto.client("acm").add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "Owner", "Value": "someone"}])
    doc = _diff(moto, tmp_path, res)
    _only(doc, {("adoption-would-change", "aws_acm_certificate.web", "spec.tags"),
                ("drift", "aws_acm_certificate.web", "tags_all")})


# ---------------------------------------------------------------------------------------------- Route 53
def _r53_estate(moto: MotoServer) -> tuple[dict[str, str], list[dict[str, Any]]]:
    r53 = moto.client("route53")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="z1",
                                  HostedZoneConfig={"Comment": "main", "PrivateZone": False})
    zid = zone["HostedZone"]["Id"].split("/")[-1]
    hc = r53.create_health_check(CallerReference="h1", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "www.example.com", "Port": 443, "ResourcePath": "/health",
        "RequestInterval": 30, "FailureThreshold": 3, "EnableSNI": True})["HealthCheck"]
    r53.change_tags_for_resource(ResourceType="healthcheck", ResourceId=hc["Id"], AddTags=_aws_tags({"Name": "web"}))
    res = [
        resource("aws_route53_zone", "main", {
            "id": zid, "zone_id": zid, "name": "example.com", "comment": "main", "delegation_set_id": "",
            "force_destroy": False, "vpc": [], "name_servers": zone["DelegationSet"]["NameServers"], **_tf_tags()}),
        resource("aws_route53_health_check", "web", {
            "id": hc["Id"], "type": "HTTPS", "fqdn": "www.example.com", "ip_address": "", "port": 443,
            "resource_path": "/health", "search_string": "", "request_interval": 30, "failure_threshold": 3,
            "measure_latency": False, "invert_healthcheck": False, "disabled": False, "enable_sni": True,
            "regions": [], "child_healthchecks": [], "child_health_threshold": 0,
            "insufficient_data_health_status": "", "routing_control_arn": "", "cloudwatch_alarm_name": "",
            "cloudwatch_alarm_region": "", **_tf_tags({"Name": "web"})}),
    ]
    return {"zone": zid, "hc": hc["Id"]}, res


R53_UNVERIFIED = {("aws_route53_zone.main", "spec.tags")}


def test_route53_clean_and_changes(moto: MotoServer, tmp_path: Path) -> None:
    ids, res = _r53_estate(moto)
    doc = _diff(moto, tmp_path, res)
    _assert_clean(doc, {"aws_route53_zone.main", "aws_route53_health_check.web"}, R53_UNVERIFIED)
    r53 = moto.client("route53")
    r53.update_hosted_zone_comment(Id=ids["zone"], Comment="changed")
    r53.update_health_check(HealthCheckId=ids["hc"], ResourcePath="/other")
    doc = _diff(moto, tmp_path, res)
    _only(doc, {("adoption-would-change", "aws_route53_zone.main", "spec.hostedZoneConfig.comment"),
                ("drift", "aws_route53_zone.main", "comment"),
                ("adoption-would-change", "aws_route53_health_check.web", "spec.healthCheckConfig.resourcePath"),
                ("drift", "aws_route53_health_check.web", "resource_path")})
