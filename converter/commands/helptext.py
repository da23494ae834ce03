"""What `--help` says beyond the option definitions: a one-line summary per command (click otherwise cuts the
docstring with "..." in `tf2kro --help`), an Examples section per command, and the meaning of a shared option
on the command at hand (`--region` is the annotation region on convert but the API region on diff).

Kept in one table, applied when the CLI is assembled, so the command modules stay as they are."""

from __future__ import annotations

import click

ST = "--state terraform.tfstate"

SHORT_HELP: dict[str, str] = {
    "convert": "Write kro RGDs + instances whose ACK objects adopt the estate.",
    "inspect": "List every resource with its phase and conversion status.",
    "graph": "Print the dependency graph (mermaid, dot or JSON).",
    "diff": "Diff the estate against live AWS or a capture (CI exit codes).",
    "inventory": "Capture the live AWS read of an estate for offline diffs.",
    "plan": "Write the phase-by-phase migration plan, or check its status.",
    "fleet": "Render the GitOps layer (ArgoCD, Flagger, ESO, Gatekeeper).",
    "validate": "Validate emitted manifests offline (CRD schemas, kro, policies).",
    "inventory capture": "Read the estate from AWS (read-only) and save it.",
    "inventory metrics": "Print a diff JSON report as Prometheus metrics.",
    "fleet init": "Derive a fleet file from a state.",
    "fleet upgrade": "Plan a blue/green EKS upgrade as PR-sized steps.",
    "fleet addons": "Propose add-on bumps dev → prod as gated PR-sized steps.",
    "fleet addon-gate": "Check an add-on bump's soak gate on the previous env.",
}

EXAMPLES: dict[str, list[str]] = {
    "convert": [
        f"tf2kro convert {ST} --hcl . --out gitops/",
        f"tf2kro convert {ST} --phase network --env prod --read-only --out gitops/",
        "terraform state pull | tf2kro convert --state - --region eu-west-1 --out gitops/",
    ],
    "inspect": [
        f"tf2kro inspect {ST}",
        f"tf2kro inspect {ST} --format tsv | awk -F'\\t' '$5 == \"unsupported\"'",
        f"tf2kro inspect {ST} --format json | jq '.aws_coverage'",
    ],
    "graph": [
        f"tf2kro graph {ST} --phase network > network.mmd",
        f"tf2kro graph {ST} --format dot | dot -Tsvg > graph.svg",
    ],
    "diff": [
        f"tf2kro diff {ST} --profile readonly --region eu-west-1",
        f"tf2kro diff {ST} --hcl . --format md --output drift.md",
        f"tf2kro diff {ST} --live capture.json --format junit --output drift.xml",
    ],
    "inventory": [f"tf2kro inventory capture {ST} --profile readonly --out capture.json"],
    "inventory metrics": [
        "tf2kro inventory metrics drift.json --env prod --root network",
        "tf2kro inventory metrics drift.json --env prod --root network --push http://pushgateway.monitoring:9091",
    ],
    "inventory capture": [
        f"tf2kro inventory capture {ST} --profile readonly --out capture.json",
        f"tf2kro diff {ST} --live capture.json   # later, in CI, without credentials",
    ],
    "plan": [
        f"tf2kro plan {ST} --hcl . --env prod --owners network=@net-team --out plan/",
        "tf2kro plan --env dev=dev.tfstate --env staging=stg.tfstate --env prod=prod.tfstate --root platform --hcl . "
        "--repo-url https://github.com/acme/infra.git --out plan/",
        f"tf2kro plan {ST} --out plan/ --status --kubectl-json objects.json",
    ],
    "fleet": [
        "tf2kro fleet init --state terraform.tfstate --hcl . --out fleet.yaml",
        "tf2kro fleet --config fleet.yaml --out fleet/",
        "tf2kro fleet upgrade --config fleet.yaml --cluster prod-eu --to 1.31 --out upgrade/",
        "tf2kro fleet addons --config fleet.yaml --addon-versions addon-versions.json --out addon-bumps/",
    ],
    "fleet init": [
        f"tf2kro fleet init {ST} --hcl . --signing-key release-bot.asc --out fleet.yaml",
        f"tf2kro fleet init {ST} --progressive ingress-nginx=canary --out fleet.yaml --force",
    ],
    "fleet upgrade": [
        "tf2kro fleet upgrade --config fleet.yaml --cluster prod-eu --to 1.31 --out upgrade/",
        "tf2kro fleet upgrade --config fleet.yaml --cluster prod-eu --to 1.31 --addon-versions addons.json --out upgrade/",
        "tf2kro fleet upgrade --config fleet.yaml --cluster prod-eu --to 1.31 --env prod --namespace infrastructure --out upgrade/",
    ],
    "fleet addons": [
        "tf2kro fleet addons --config fleet.yaml --addon-versions versions.json --addon-config schemas/ --out bumps/",
        "tf2kro fleet addons --config fleet.yaml --installed aws --helm-index aws-load-balancer-controller=index.yaml --out bumps/",
    ],
    "fleet addon-gate": [
        "tf2kro fleet addon-gate bumps/05-staging-eks-vpc-cni/gate.json --config fleet.yaml --installed aws",
        "tf2kro fleet addon-gate bumps/08-staging-helm-app/gate.json --config fleet.yaml --argocd-apps apps.json",
    ],
    "validate": [
        "tf2kro validate gitops/ --crds crds/",
        "tf2kro validate fleet/ --crds crds/ --policies bundled --format json",
    ],
}

_ANNOTATION_REGION = ("Region written in the services.k8s.aws/region annotation of every ACK object "
                      "(default: from the ARNs in the state).")
_API_REGION = ("AWS region the read-only API calls go to; also the annotation region for resources without a "
               "regional ARN (default: from the ARNs in the state).")

OPTION_HELP: dict[tuple[str, str], str] = {
    ("convert", "region"): _ANNOTATION_REGION,
    ("inspect", "region"): "Region assumed for resources without a regional ARN (default: from the ARNs in the state).",
    ("graph", "region"): "Region assumed for resources without a regional ARN (default: from the ARNs in the state).",
    ("plan", "region"): _ANNOTATION_REGION[:-1] + "; also the ClusterSecretStore region.",
    ("diff", "region"): _API_REGION,
    ("inventory capture", "region"): _API_REGION,
    ("diff", "profile"): "AWS profile (~/.aws/config) for the read-only API calls.",
    ("inventory capture", "profile"): "AWS profile (~/.aws/config) for the read-only API calls.",
    ("diff", "phase"): "Only diff this phase's resources.",
    ("inventory capture", "phase"): "Only capture this phase's resources.",
    ("convert", "phase"): "Only write this phase (network, identity, cluster, addons, other).",
    ("diff", "hcl_dir"): "Terraform configuration directory: also report pending-terraform-change (HCL vs state).",
    ("convert", "hcl_dir"): "Terraform configuration directory (optional): ignore_changes, variables, references.",
    ("graph", "fmt"): "mermaid (paste into Markdown), dot (Graphviz) or json (nodes with phase/wave, edges).",
    ("graph", "phase"): "Only this phase's resources (mermaid only; dot and json show the whole graph).",
    ("diff", "fmt"): "table (terminal), json (machine-readable), md (PR comment, chunked) or junit (CI test report).",
    ("validate", "fmt"): "text (one line per violation) or json.",
    ("fleet upgrade", "config_path"): "Fleet file (fleet.yaml) holding the cluster to upgrade.",
    ("fleet upgrade", "out_dir"): "Directory for the ordered step directories (one PR each).",
    ("fleet addons", "config_path"): "Fleet file (fleet.yaml): environments (promotion order), clusters, applications.",
    ("fleet addons", "hcl_dir"): "Terraform configuration directory of the estate (default: spec.source.hcl).",
    ("fleet upgrade", "hcl_dir"): "Terraform configuration directory of the cluster's estate "
                                  "(default: spec.source.hcl of the fleet file).",
}


def _epilog(lines: list[str]) -> str:
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _walk(cmd: click.Command, path: str):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _walk(sub, f"{path} {name}".strip())


def apply(group: click.Group) -> None:
    """Attach summaries, examples and per-command option help to every command under `group`."""
    for name, cmd in group.commands.items():
        apply_to(cmd, name)


def apply_to(command: click.Command, name: str) -> None:
    """The same for one top-level command named `name` and its subcommands (the CLI loads commands lazily)."""
    for path, cmd in _walk(command, name):
        if path in SHORT_HELP and not cmd.short_help:
            cmd.short_help = SHORT_HELP[path]
        if path in EXAMPLES and not cmd.epilog:
            cmd.epilog = _epilog(EXAMPLES[path])
        for p in cmd.params:
            text = OPTION_HELP.get((path, p.name or ""))
            if text and isinstance(p, click.Option):
                p.help = text
