"""`tf2kro validate DIR`: offline validation of emitted manifests (CRD schemas, kro RGD build checks).

Exit codes: 0 clean (warnings allowed), 1 violations, 2 bad input (ToolError, mapped by the CLI group).
"""

from __future__ import annotations

from pathlib import Path

import click

from converter.model import ToolError


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--crds",
    "crd_dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="CRD file or directory, or `kubectl get crd -o yaml` output (repeatable): adds kinds to, or overrides, the "
    "schemas bundled with tf2kro (ACK, kro, ArgoCD, Flagger, Gatekeeper, External Secrets, Argo Workflows, "
    "Prometheus Operator; pinned releases in converter/validate/schemas/upstream.yaml).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--policies",
    "policy_dirs",
    multiple=True,
    help="Gatekeeper ConstraintTemplates + Constraints (file or directory, repeatable) evaluated offline with "
    "regorus; `bundled` = the policies shipped with tf2kro (converter/fleet/policies).",
)
def validate(directory: Path, crd_dirs: tuple[Path, ...], fmt: str, policy_dirs: tuple[str, ...] = ()) -> None:
    """Validate every YAML object under DIRECTORY against its CRD, and every kro RGD like kro's graph builder."""
    # jsonschema + the CRD schemas: imported to run, not for `--help`
    from converter.validate.runner import validate_tree

    if not directory.exists():
        raise ToolError("no such file or directory", str(directory))
    crds = list(crd_dirs)
    for c in crds:
        if not c.exists():
            raise ToolError("CRD path does not exist", str(c))
    extra = []
    if policy_dirs:
        from converter.validate.policy import PolicyCheck

        paths = None if list(policy_dirs) == ["bundled"] else [p for p in policy_dirs if p != "bundled"]
        extra.append(PolicyCheck(directory, paths))
    report = validate_tree(directory, crds, extra_checks=extra)
    if report.objects == 0:
        # an empty or wrong directory must not pass a CI gate as "0 errors"
        raise ToolError("nothing to validate: no Kubernetes objects (YAML documents with apiVersion and kind) found",
                        str(directory))
    if fmt == "json":
        click.echo(report.to_json())
    else:
        click.echo(report.to_text(), nl=False)
    raise SystemExit(0 if report.ok else 1)
