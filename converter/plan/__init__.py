"""plan stage: per-phase migration plan (steps, exit checks, Terraform handoff, rollback, PR bodies, status)."""

from converter.plan.model import PhasePlan, Plan, PlanItem, build_plan
from converter.plan.render import emit_both, render_plan_tree

__all__ = ["Plan", "PhasePlan", "PlanItem", "build_plan", "emit_both", "render_plan_tree", "make_plan"]


def make_plan(estate, *, env="main", namespace=None, owners=None, live_path=None, hcl_dir=None,
              sa=("external-secrets", "external-secrets"), rollout=None, predecessor=None):
    """Estate → (Plan, {relpath: text}); the caller writes the files with `write_tree`. `namespace` None = the
    per-environment default (converter.emit.naming.default_namespace). `rollout` (converter.plan.environments):
    the environments' order, prod settings and ArgoCD options; `predecessor`: the Plan of the environment before."""
    from converter.plan.environments import Rollout, apply_rollout

    ro, rw = emit_both(estate, env, namespace)
    literal = {p: [r for po in parts for r in po.literal_refs] for p, parts in rw.items()}
    instances = {p: [(po.instance["kind"], po.instance["metadata"]["name"]) for po in parts] for p, parts in rw.items()}
    plan = build_plan(estate, env=env, namespace=namespace, owners=owners, live_path=live_path, hcl_dir=hcl_dir,
                      literal_refs=literal, instances=instances)
    rollout = rollout or Rollout([env])
    apply_rollout(plan, rollout, predecessor)
    return plan, render_plan_tree(estate, plan, ro, rw, sa, rollout)
