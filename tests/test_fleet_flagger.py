"""Flagger output of `tf2kro fleet` is what Flagger accepts: CRD-valid Canaries with the router reference their
provider needs, metrics that resolve, webhooks to the emitted loadtester, ArgoCD leaving Flagger's fields alone."""

from __future__ import annotations

import copy
import re
import shlex

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.cli import main
from converter.fleet import flagger
from converter.fleet.argocd import preview_applications
from converter.fleet.config import from_dict
from converter.fleet.render import render_fleet
from converter.model import ToolError
from converter.pipeline import REPO_ROOT
from converter.validate.crds import CrdIndex, is_builtin_api, validate_object

SAMPLES = REPO_ROOT / "samples"
FLEET = SAMPLES / "fleet.yaml"
APP = "aws-load-balancer-controller"


def _doc() -> dict:
    return yaml.safe_load(FLEET.read_text())


def _render(mutate=None) -> dict[str, str]:
    doc = _doc()
    if mutate:
        mutate(doc["spec"]["applications"][0]["progressiveDelivery"])
    return render_fleet(from_dict(doc, base_dir=SAMPLES))


def _objs(files: dict[str, str], prefix: str = "") -> list[dict]:
    out = []
    for rel, text in sorted(files.items()):
        if rel.endswith(".yaml") and rel.startswith(prefix) and not rel.startswith("policies/gator/cases/"):
            out.extend(d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind"))
    return out


def _manifests(files: dict[str, str]) -> list[dict]:
    return _objs(files, f"apps/{APP}/envs/") + _objs(files, "platform/base/flagger-loadtester.yaml")


def _canary(files: dict[str, str]) -> dict:
    [c] = [d for d in _objs(files) if d["kind"] == "Canary"]
    return c


def _crd_errors(docs: list[dict]) -> list[str]:
    idx = CrdIndex.bundled()
    return [f"{d['kind']}/{d['metadata']['name']}: {p.path} {p.message}" for d in docs
            for p in validate_object(d, idx)
            if p.severity == "error" and not (p.code == "no-crd" and is_builtin_api(d["apiVersion"]))]


NGINX = {"strategy": "canary", "targetName": "web", "provider": "nginx", "port": 80, "stepWeight": 10, "maxWeight": 50}


def _nginx(p: dict) -> None:
    p.clear()
    p.update(copy.deepcopy(NGINX))


# ------------------------------------------------------------------------------------------ the sample


def test_sample_canary_passes_flagger_crd_and_admission_rules():
    files = _render()
    docs = _manifests(files)
    assert {d["kind"] for d in docs} >= {"Canary", "MetricTemplate", "Deployment", "Service"}
    assert _crd_errors(docs) == []
    assert flagger.admission_problems(docs) == []
    can = _canary(files)
    # blue/green on the L4 kubernetes provider, taking over the chart's webhook Service (else the webhooks
    # would keep selecting the target pods Flagger scales to zero)
    assert can["spec"]["provider"] == "kubernetes" and can["spec"]["analysis"]["iterations"] == 5
    assert can["spec"]["service"]["name"] == "aws-load-balancer-webhook-service"
    assert "ingressRef" not in can["spec"]


def test_loadtester_url_resolves_to_an_emitted_service():
    files = _render()
    services = {(d["metadata"]["name"], d["metadata"]["namespace"]): d for d in _objs(files) if d["kind"] == "Service"}
    deployments = {(d["metadata"]["name"], d["metadata"]["namespace"]): d for d in _objs(files)
                   if d["kind"] == "Deployment"}
    hooks = _canary(files)["spec"]["analysis"]["webhooks"]
    assert {h["type"] for h in hooks} == {"pre-rollout", "rollout"}
    for h in hooks:
        host = h["url"].split("//")[1].rstrip("/")
        name, ns = host.split(".")
        svc = services[(name, ns)]
        dep = deployments[(name, ns)]
        # the Service selects the loadtester's pods and targets its container port
        labels = dep["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items())
        ports = {p["name"] for c in dep["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        assert svc["spec"]["ports"][0]["targetPort"] in ports
    # the acceptance test and the load test aim at the canary Service Flagger creates (<apex>-canary)
    for h in hooks:
        assert "https://aws-load-balancer-webhook-service-canary.kube-system:443/" in h["metadata"]["cmd"]


def test_webhook_to_a_service_not_emitted_is_refused():
    def bad(p):
        p["webhooks"] = [{"name": "smoke", "type": "pre-rollout", "url": "http://flagger-loadtester.test/",
                          "metadata": {"type": "bash", "cmd": "true"}}]

    with pytest.raises(ToolError, match="flagger-loadtester.*test.*not emitted"):
        _render(bad)
    # an external URL is the user's business
    files = _render(lambda p: p.update(webhooks=[{"name": "gate", "type": "confirm-rollout",
                                                  "url": "https://gate.example.com/approve"}]))
    assert _canary(files)["spec"]["analysis"]["webhooks"][0]["url"] == "https://gate.example.com/approve"


def test_applicationset_ignores_the_fields_flagger_owns():
    files = _render()
    aset = yaml.safe_load(files[f"hub/argocd/applicationsets/{APP}.yaml"])
    spec = aset["spec"]["template"]["spec"]
    ign = {(i["kind"], i["name"]): i["jsonPointers"] for i in spec["ignoreDifferences"]}
    can = _canary(files)
    assert ign[(can["spec"]["targetRef"]["kind"], can["spec"]["targetRef"]["name"])] == ["/spec/replicas"]
    assert ign[("Service", can["spec"]["service"]["name"])] == ["/spec/selector", "/spec/ports"]
    assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]
    assert spec["syncPolicy"]["automated"]["selfHeal"] is True  # selfHeal stays, minus Flagger's fields
    # the Applications reviewers see carry them, and they are valid ArgoCD
    fl = from_dict(_doc(), base_dir=SAMPLES)
    [app] = preview_applications(fl, fl.applications[0])
    assert app["spec"]["ignoreDifferences"] == spec["ignoreDifferences"]
    assert _crd_errors([aset, app]) == []


def test_no_ignore_differences_without_progressive_delivery():
    doc = _doc()
    del doc["spec"]["applications"][0]["progressiveDelivery"]
    files = render_fleet(from_dict(doc, base_dir=SAMPLES))
    spec = yaml.safe_load(files[f"hub/argocd/applicationsets/{APP}.yaml"])["spec"]["template"]["spec"]
    assert "ignoreDifferences" not in spec and "RespectIgnoreDifferences=true" not in spec["syncPolicy"]["syncOptions"]
    assert "platform/base/flagger-loadtester.yaml" not in files


# ------------------------------------------------------------------------------------------ providers


def test_nginx_canary_carries_an_ingress_ref():
    files = _render(_nginx)
    can = _canary(files)
    assert can["spec"]["ingressRef"] == {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "web"}
    assert _crd_errors(_manifests(files)) == [] and flagger.admission_problems(_manifests(files)) == []
    files = _render(lambda p: (_nginx(p), p.update(ingressRef="web-public")))
    assert _canary(files)["spec"]["ingressRef"]["name"] == "web-public"
    # the rule: an nginx Canary without it is what Flagger rejects ("ingress selector is empty")
    broken = copy.deepcopy(_canary(files))
    del broken["spec"]["ingressRef"]
    assert any("ingress selector is empty" in p for p in flagger.admission_problems([broken]))


def test_nginx_default_metrics_are_builtins_of_that_provider():
    can = _canary(_render(_nginx))
    names = {m["name"] for m in can["spec"]["analysis"]["metrics"]}
    assert names == {"request-success-rate", "request-duration"} <= set(flagger.rules()["builtinMetrics"])
    assert all("templateRef" not in m for m in can["spec"]["analysis"]["metrics"])


def test_alb_is_refused_with_the_alternative():
    with pytest.raises(ToolError, match="no AWS ALB router.*provider kubernetes"):
        _render(lambda p: p.update(provider="alb"))
    with pytest.raises(ToolError, match="not a Flagger provider"):
        _render(lambda p: p.update(provider="envoy-gateway"))


def test_cli_exit_2_on_a_canary_flagger_would_reject(tmp_path):
    doc = _doc()
    doc["spec"]["applications"][0]["progressiveDelivery"]["provider"] = "alb"
    cfg = tmp_path / "fleet.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    (tmp_path / "estate").symlink_to(SAMPLES / "estate")  # the fleet file's relative source paths
    res = CliRunner().invoke(main, ["fleet", "--config", str(cfg), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "Traceback" not in res.output and "provider 'alb'" in res.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.yaml"))


def test_kubernetes_provider_is_blue_green_only():
    with pytest.raises(ToolError, match="does not support weighted canary"):
        _render(lambda p: p.update(strategy="canary"))
    with pytest.raises(ToolError, match="does not support A/B"):
        _render(lambda p: p.update(match=[{"headers": {"x-canary": {"exact": "insider"}}}]))
    weighted = _canary(_render())
    weighted["spec"]["analysis"]["stepWeight"] = 10
    assert any("blue/green only" in p for p in flagger.admission_problems([weighted]))


def test_metric_templates_referenced_exist():
    with pytest.raises(ToolError, match="templateRef 'nope' is not in metricTemplates"):
        _render(lambda p: p["metrics"][0].update(templateRef="nope"))
    with pytest.raises(ToolError, match="not a Flagger built-in"):
        _render(lambda p: p["metrics"].append({"name": "error-budget", "thresholdRange": {"max": 1}}))
    files = _render()
    without = [d for d in _manifests(files) if d["kind"] != "MetricTemplate"]
    assert any("MetricTemplate kube-system/controller-reconcile-errors" in p
               for p in flagger.admission_problems(without))
    # a template in another namespace is a reference the fleet file vouches for
    files = _render(lambda p: p["metrics"][0].update(templateRef={"name": "shared", "namespace": "flagger-system"}))
    assert _canary(files)["spec"]["analysis"]["metrics"][0]["templateRef"] == {"name": "shared",
                                                                               "namespace": "flagger-system"}


# ------------------------------------------------------------------------------------------ blue/green variants


def test_header_routed_ab_variant():
    match = [{"headers": {"x-canary": {"exact": "insider"}}}, {"headers": {"cookie": {"regex": "^(.*?;)?(canary=always)(;.*)?$"}}}]

    def ab(p):
        _nginx(p)
        p.update(strategy="bluegreen", iterations=10, match=match)

    files = _render(ab)
    can = _canary(files)
    an = can["spec"]["analysis"]
    assert an["iterations"] == 10 and an["match"] == match and "stepWeight" not in an
    assert can["metadata"]["labels"]["tf2kro.dev/strategy"] == "ab" and can["spec"]["ingressRef"]["name"] == "web"
    # the load test sends the header, or the canary would see no requests to measure
    load = next(h for h in an["webhooks"] if h["type"] == "rollout")["metadata"]["cmd"]
    assert shlex.split(load)[-2:] == ["-H", "x-canary: insider"]
    assert _crd_errors(_manifests(files)) == [] and flagger.admission_problems(_manifests(files)) == []


def test_mirroring_only_where_flagger_mirrors():
    with pytest.raises(ToolError, match="mirroring"):
        _render(lambda p: (_nginx(p), p.update(strategy="bluegreen", mirror=True)))
    files = _render(lambda p: p.update(provider="istio", mirror=True))
    an = _canary(files)["spec"]["analysis"]
    assert an["mirror"] is True and an["iterations"] == 5
    assert _crd_errors(_manifests(files)) == []


def test_gatewayapi_needs_gateway_refs():
    with pytest.raises(ToolError, match="gatewayRefs is required"):
        _render(lambda p: p.update(provider="gatewayapi:v1"))
    files = _render(lambda p: p.update(provider="gatewayapi:v1", gatewayRefs=[{"name": "public", "namespace": "gw"}]))
    assert _canary(files)["spec"]["service"]["gatewayRefs"] == [{"name": "public", "namespace": "gw"}]
    assert _crd_errors(_manifests(files)) == []


def test_init_default_canary_has_ingress_ref(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    out = tmp_path / "fleet.yaml"
    res = CliRunner().invoke(main, ["fleet", "init", "--state", "samples/estate/terraform.tfstate", "--hcl",
                                    "samples/estate", "--progressive", f"{APP}=canary", "--out", str(out)])
    assert res.exit_code == 0, res.output
    p = yaml.safe_load(out.read_text())["spec"]["applications"][0]["progressiveDelivery"]
    assert p["provider"] == "nginx" and p["ingressRef"] == APP


# ------------------------------------------------------------------------------------------ shell sink


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=20, alphabet=st.characters(blacklist_categories=("Cs",))),
       st.text(max_size=40, alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_match_header_values_reach_the_load_test_as_one_word(header, value):
    doc = _doc()
    p = doc["spec"]["applications"][0]["progressiveDelivery"]
    _nginx(p)
    p.update(strategy="bluegreen", iterations=3, match=[{"headers": {header: {"exact": value}}}])
    app = from_dict(doc, base_dir=SAMPLES).applications[0]
    load = next(h for h in flagger.default_webhooks(app) if h["type"] == "rollout")["metadata"]["cmd"]
    words = shlex.split(load)
    assert words[:2] == ["hey", "-z"] and words[-2:] == ["-H", f"{header}: {value}"]
    assert words[-3] == "http://web-canary.kube-system:80/"


def test_daemonset_target_ignores_flaggers_scale_to_zero_selector_and_hpa_ref():
    files = _render(lambda p: (_nginx(p), p.update(targetKind="DaemonSet", autoscalerRef="web")))
    aset = yaml.safe_load(files[f"hub/argocd/applicationsets/{APP}.yaml"])
    [target] = [i for i in aset["spec"]["template"]["spec"]["ignoreDifferences"] if i["kind"] == "DaemonSet"]
    # Flagger "scales" a DaemonSet by adding this nodeSelector (pkg/canary/daemonset_controller.go)
    assert target["group"] == "apps"
    assert target["jsonPointers"] == ["/spec/template/spec/nodeSelector/flagger.app~1scale-to-zero"]
    can = _canary(files)
    assert can["spec"]["targetRef"]["kind"] == "DaemonSet"
    assert can["spec"]["autoscalerRef"] == {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                                            "name": "web"}
    assert _crd_errors(_manifests(files)) == []
    with pytest.raises(ToolError, match="targetKind 'StatefulSet'"):
        _render(lambda p: p.update(targetKind="StatefulSet"))


@pytest.mark.parametrize("variant", ["sample", "nginx-canary", "nginx-ab", "istio-mirror"])
def test_tf2kro_validate_accepts_every_variant(tmp_path, variant):
    mutate = {
        "sample": None,
        "nginx-canary": _nginx,
        "nginx-ab": lambda p: (_nginx(p), p.update(strategy="bluegreen", iterations=4,
                                                   match=[{"headers": {"x-canary": {"exact": "1"}}}])),
        "istio-mirror": lambda p: p.update(provider="istio", mirror=True),
    }[variant]
    for rel, text in _render(mutate).items():
        if rel.startswith(("apps/", "hub/argocd/", "platform/")):
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(text)
    res = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert " 0 errors" in res.output


def test_cloudwatch_template_region_follows_the_clusters_it_serves():
    cw = {"name": "alb-5xx", "provider": "cloudwatch", "query": "[]"}

    def with_cw(p):
        p["metricTemplates"].append(dict(cw))
        p["metrics"].append({"name": "alb-5xx", "templateRef": "alb-5xx", "thresholdRange": {"max": 1}})

    files = _render(with_cw)
    [t] = [d for d in _manifests(files) if d["metadata"]["name"] == "alb-5xx"]
    assert t["spec"]["provider"]["region"] == "eu-west-1"  # the selected staging cluster's
    assert _crd_errors([t]) == []
    # the staging manifests reaching clusters in two regions: one region would be wrong for one of them
    doc = _doc()
    second = dict(doc["spec"]["clusters"][1], env="staging", name="platform-staging-use1")
    doc["spec"]["clusters"].append(second)
    app = doc["spec"]["applications"][0]
    app["selector"]["region"].append("us-east-1")
    with_cw(app["progressiveDelivery"])
    with pytest.raises(ToolError, match="alb-5xx.*eu-west-1, us-east-1"):
        render_fleet(from_dict(doc, base_dir=SAMPLES))
    app["progressiveDelivery"]["metricTemplates"][-1]["region"] = "eu-west-1"
    assert render_fleet(from_dict(doc, base_dir=SAMPLES))


def test_loadtester_pod_has_no_api_credentials_and_can_start():
    dep = next(d for d in flagger.loadtester() if d["kind"] == "Deployment")
    pod = dep["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False  # it executes webhook commands
    [c] = pod["containers"]
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    # the image's USER is the named user `app`: runAsNonRoot without a numeric runAsUser is refused by the kubelet
    assert "runAsNonRoot" not in c["securityContext"] or "runAsUser" in c["securityContext"]
    assert c["image"].startswith("ghcr.io/fluxcd/flagger-loadtester:")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=70))
def test_service_name_reaches_the_webhook_commands_only_as_a_dns_label(name):
    doc = _doc()
    doc["spec"]["applications"][0]["progressiveDelivery"]["serviceName"] = name
    app = from_dict(doc, base_dir=SAMPLES).applications[0]
    try:
        flagger.check_progressive(app)
    except ToolError:
        return
    for h in flagger.default_webhooks(app):
        url = next(w for w in shlex.split(h["metadata"]["cmd"]) if w.startswith("https://"))
        host = url.split("//")[1].split(":")[0]
        assert host == f"{name or app.progressive.target_name}-canary.kube-system" and re.fullmatch(r"[a-z0-9-]+\.kube-system", host)
