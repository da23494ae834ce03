"""Signed commits end to end: GPG public keys from the fleet file (parsed, fingerprint-checked, private keys
refused) reach every AppProject — the bootstrap `platform` project included — and argocd-gpg-keys-cm; CODEOWNERS and
the branch-protection ruleset come from spec.approval and the fleet workflow's job names."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.ci import approval, gpg, workflows
from converter.ci.fleet import CODEOWNERS, GPG_FILE, PLATFORM_FILE, PR_WORKFLOW
from converter.cli import main
from converter.fleet.config import from_dict, load_fleet
from converter.fleet.render import render_fleet
from converter.model import ToolError
from converter.pipeline import REPO_ROOT

SAMPLES = REPO_ROOT / "samples"
KEY_FILE = SAMPLES / "fleet-signing-key.asc"
GPG = shutil.which("gpg")
needs_gpg = pytest.mark.skipif(GPG is None, reason="gpg is not installed")


def _gpg_home(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    return {**os.environ, "GNUPGHOME": str(home)}


def _gpg(env: dict[str, str], *args: str) -> str:
    return subprocess.run([GPG, "--batch", "--quiet", *args], env=env, check=True, capture_output=True,
                          text=True).stdout


def _new_key(tmp_path: Path, algo: str) -> tuple[str, str, dict[str, str]]:
    """(fingerprint by gpg, armored public key, env) of a fresh key without passphrase."""
    env = _gpg_home(tmp_path)
    _gpg(env, "--passphrase", "", "--quick-generate-key", f"test {algo} <t@example.com>", algo, "sign", "0")
    fpr = next(ln.split(":")[9] for ln in _gpg(env, "--with-colons", "--fingerprint").splitlines()
               if ln.startswith("fpr:"))
    return fpr, _gpg(env, "--armor", "--export"), env


def _fleet_doc() -> dict:
    return yaml.safe_load((SAMPLES / "fleet.yaml").read_text())


def _rearmor(data: bytes) -> str:
    crc = base64.b64encode(gpg._crc24(data).to_bytes(3, "big")).decode()
    body = base64.b64encode(data).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\n".join([gpg.PUBLIC_BEGIN, "", *lines, f"={crc}", gpg.PUBLIC_END]) + "\n"


# ------------------------------------------------------------------------------------------------ the key parser

@needs_gpg
@pytest.mark.parametrize("algo", ["ed25519", "rsa2048"])
def test_fingerprint_and_id_match_gpg(tmp_path, algo):
    fpr, armored, _env = _new_key(tmp_path, algo)
    key = gpg.parse_public_key(None, armored, "k")
    assert key.fingerprint == fpr and key.key_id == fpr[-16:]
    # the id may be given as the long id, the fingerprint, lower case or with 0x
    for given_id in (fpr[-16:], fpr, fpr.lower(), "0x" + fpr[-16:]):
        assert gpg.parse_public_key(given_id, armored, "k").key_id == fpr[-16:]


@needs_gpg
def test_private_key_export_is_refused(tmp_path):
    _fpr, _pub, env = _new_key(tmp_path, "ed25519")
    secret = _gpg(env, "--armor", "--pinentry-mode", "loopback", "--passphrase", "", "--export-secret-keys")
    with pytest.raises(ToolError, match="PRIVATE key block"):
        gpg.parse_public_key(None, secret, "fleet file: gitSigning.keys[0]")


def test_sample_key_is_the_one_in_the_sample_fleet():
    key = gpg.read_public_key_file(str(KEY_FILE))
    [entry] = _fleet_doc()["spec"]["gitSigning"]["keys"]
    assert entry["id"] == key.key_id and gpg.parse_public_key(entry["id"], entry["publicKey"], "x") == key


def test_secret_key_packet_inside_a_public_armor_is_refused():
    data = gpg._dearmor(KEY_FILE.read_text(), "k")
    tag, _body = gpg._first_packet(data, "k")
    assert tag == 6
    # same packet, header rewritten to tag 5 (secret key), valid armor checksum: still refused
    head = data[0]
    forged = bytes([(head & ~(0x0F << 2)) | (5 << 2) if not head & 0x40 else 0xC0 | 5]) + data[1:]
    with pytest.raises(ToolError, match="secret-key packet"):
        gpg.parse_public_key(None, _rearmor(forged), "k")


def test_wrong_id_damaged_armor_and_bad_ids_are_one_line_errors():
    armored = KEY_FILE.read_text()
    key = gpg.parse_public_key(None, armored, "k")
    with pytest.raises(ToolError, match=f"not the id of this key .*{key.fingerprint}"):
        gpg.parse_public_key("0123456789ABCDEF", armored, "fleet file: gitSigning.keys[0]")
    lines = armored.splitlines()
    i = next(n for n, ln in enumerate(lines) if ln and not ln.startswith("-") and len(ln) > 40)
    lines[i] = ("B" if lines[i][0] != "B" else "C") + lines[i][1:]
    with pytest.raises(ToolError, match="checksum does not match"):
        gpg.parse_public_key(None, "\n".join(lines), "k")
    for bad in ("4AEE18F8", "XYZ", "4AEE18F83AFDEB23\n- evil", ""):
        with pytest.raises(ToolError):
            gpg.normalise_key_id(bad, "id")
    with pytest.raises(ToolError, match="ASCII-armored public key"):
        gpg.parse_public_key(None, "ssh-ed25519 AAAA", "k")


# ------------------------------------------------------------------------------------------------ the fleet output

@pytest.fixture(scope="module")
def signed_files():
    return render_fleet(load_fleet(SAMPLES / "fleet.yaml"))


def _objects(files):
    for rel, text in sorted(files.items()):
        if rel.endswith(".yaml") and not rel.startswith("policies/gator/cases/"):
            for d in yaml.safe_load_all(text):
                if isinstance(d, dict) and d.get("kind"):
                    yield rel, d


def test_every_application_runs_in_a_project_that_requires_signatures(signed_files):
    key = gpg.read_public_key_file(str(KEY_FILE))
    projects = {d["metadata"]["name"]: d for _r, d in _objects(signed_files) if d["kind"] == "AppProject"}
    for p in projects.values():
        assert p["spec"]["signatureKeys"] == [{"keyID": key.key_id}], p["metadata"]["name"]
    [root] = yaml.safe_load_all(signed_files["bootstrap/root-app.yaml"])
    assert root["spec"]["project"] == "platform" and "platform" in projects
    # every Application an ApplicationSet renders, and every preview, names one of those projects
    for _rel, d in _objects(signed_files):
        if d["kind"] == "ApplicationSet":
            project = d["spec"]["template"]["spec"]["project"]
            assert project in projects or "{{" in project
            if "{{" in project:  # templated from the env: every env has a project
                assert {e for e in projects if e != "platform"} >= {"dev", "staging", "prod"}
        if d["kind"] == "Application":
            assert d["spec"]["project"] in projects and d["spec"]["project"] != "default"


def test_gpg_keys_configmap_holds_the_public_keys(signed_files):
    [cm] = yaml.safe_load_all(signed_files[GPG_FILE])
    key = gpg.read_public_key_file(str(KEY_FILE))
    assert cm["metadata"]["name"] == "argocd-gpg-keys-cm" and cm["metadata"]["namespace"] == "argocd"
    assert list(cm["data"]) == [key.key_id]
    assert gpg.parse_public_key(key.key_id, cm["data"][key.key_id], "cm") == key


def test_platform_project_allows_exactly_what_the_hub_tree_holds(signed_files):
    [proj] = yaml.safe_load_all(signed_files[PLATFORM_FILE])
    dests = {(d["server"], d["namespace"]) for d in proj["spec"]["destinations"]}
    whitelist = {(w["group"], w["kind"]) for w in proj["spec"]["clusterResourceWhitelist"]}
    assert all(server == "https://kubernetes.default.svc" for server, _ns in dests)
    for rel, d in _objects(signed_files):
        if not rel.startswith("hub/"):
            continue
        ns = d["metadata"].get("namespace")
        group = d["apiVersion"].rpartition("/")[0]
        if ns:
            assert ("https://kubernetes.default.svc", ns) in dests, rel
        else:
            assert (group, d["kind"]) in whitelist, rel
    assert ("*", "*") not in whitelist and all(ns != "*" for _s, ns in dests)


def test_readme_gives_the_bootstrap_order(signed_files):
    readme = signed_files["README.md"]
    assert f"-f {GPG_FILE} -f {PLATFORM_FILE} -f bootstrap/root-app.yaml" in readme
    assert "NOT verified" not in readme and "gh api --method POST" in readme


def test_without_keys_nothing_claims_verification():
    doc = _fleet_doc()
    del doc["spec"]["gitSigning"]
    files = render_fleet(from_dict(doc))
    assert GPG_FILE not in files
    assert all("signatureKeys" not in d["spec"] for _r, d in _objects(files) if d["kind"] == "AppProject")
    assert "Commits are NOT verified" in files["README.md"]


def test_legacy_signature_key_ids_are_normalised_and_checked():
    doc = _fleet_doc()
    doc["spec"]["gitops"]["signatureKeys"] = ["0x" + "3FDC70EDB03CB2F618B35E15470D4DCDFF9796CC".lower()]
    fl = from_dict(doc)
    assert fl.signature_keys == ["470D4DCDFF9796CC"]  # same key as gitSigning: listed once
    doc["spec"]["gitops"]["signatureKeys"] = ["4AEE18F8 is my key"]
    with pytest.raises(ToolError, match=r"gitops.signatureKeys\[0\]"):
        from_dict(doc)


def test_private_key_in_fleet_file_is_refused_with_one_line(tmp_path):
    doc = _fleet_doc()
    doc["spec"]["gitSigning"]["keys"][0]["publicKey"] = (
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBGSJ\n-----END PGP PRIVATE KEY BLOCK-----\n")
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc))
    res = CliRunner().invoke(main, ["fleet", "--config", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "PRIVATE key block" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------------ fleet init

def test_fleet_init_has_no_key_in_code(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    out = tmp_path / "fleet.yaml"
    args = ["fleet", "init", "--state", "samples/estate/terraform.tfstate", "--out", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    spec = yaml.safe_load(out.read_text())["spec"]
    assert "gitSigning" not in spec and "signatureKeys" not in spec["gitops"]
    assert "no --signing-key" in res.output
    res = CliRunner().invoke(main, args[:-2] + ["--signing-key", str(KEY_FILE), "--out", str(out), "--force"])
    assert res.exit_code == 0, res.output
    [entry] = yaml.safe_load(out.read_text())["spec"]["gitSigning"]["keys"]
    assert entry["id"] == gpg.read_public_key_file(str(KEY_FILE)).key_id


def test_fleet_init_refuses_a_private_key_file(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    priv = tmp_path / "key.asc"
    priv.write_text("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBGSJ\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n")
    out = tmp_path / "fleet.yaml"
    res = CliRunner().invoke(main, ["fleet", "init", "--state", "samples/estate/terraform.tfstate",
                                    "--signing-key", str(priv), "--out", str(out)])
    assert res.exit_code == 2 and str(priv) in res.output and "PRIVATE" in res.output and not out.exists()


# ------------------------------------------------------------------------------------------------ approval

def test_codeowners_and_ruleset(signed_files):
    lines = [ln for ln in signed_files[CODEOWNERS].splitlines() if ln and not ln.startswith("#")]
    rules = [(ln.split()[0], ln.split()[1:]) for ln in lines]
    assert rules[0] == ("*", ["@example-org/platform-admins"])
    assert ("/fleet/apps/*/envs/prod/", ["@example-org/release-managers"]) in rules
    # trust itself (bootstrap, keyring, platform project, CI) is owned by the default owners and comes last
    last = dict(rules[-5:])
    assert set(last) == {"/fleet/bootstrap/", "/fleet/ci/", f"/fleet/{GPG_FILE}", f"/fleet/{PLATFORM_FILE}", "/.github/"}
    ruleset = json.loads(signed_files[approval.RULESET_FILE])
    by_type = {r["type"]: r.get("parameters") for r in ruleset["rules"]}
    assert "required_signatures" in by_type and by_type["pull_request"]["require_code_owner_review"] is True
    checks = [c["context"] for c in by_type["required_status_checks"]["required_status_checks"]]
    wf = yaml.safe_load(signed_files[PR_WORKFLOW])
    assert checks == [j["name"] for j in wf["jobs"].values()] == workflows.job_names(signed_files[PR_WORKFLOW])
    assert ruleset["conditions"]["ref_name"]["include"] == ["refs/heads/main"]


def test_unknown_environment_owner_is_refused():
    doc = _fleet_doc()
    doc["spec"]["approval"]["environmentOwners"] = {"qa": ["@example-org/qa"]}
    with pytest.raises(ToolError, match="environmentOwners.qa"):
        render_fleet(from_dict(doc))


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_owner_values_cannot_add_codeowners_rules(owner):
    """Property: whatever string is given as an owner, CODEOWNERS either refuses it or holds exactly one rule line
    with that owner as one word (no newline, space or comment smuggled in)."""
    try:
        text = approval.codeowners([("*", [owner])], "h")
    except ToolError:
        return
    body = [ln for ln in text.splitlines() if not ln.startswith("#")]
    assert body == [f"* {owner}"] and len(owner.split()) == 1 and "#" not in owner


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_fleet_path_cannot_break_out_of_the_workflow(path):
    """Property: the fleet tree path lands in the workflow as one YAML scalar, or is refused."""
    try:
        text = workflows.template("fleet-pr.yml", path or ".")
    except ToolError:
        return
    doc = yaml.safe_load(text)
    for job in doc["jobs"].values():
        assert job["defaults"]["run"]["working-directory"] == (path or ".")
    assert doc.get(True) or doc.get("on")  # still a workflow with its trigger (PyYAML reads `on` as True)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_key_ids_are_hex_or_refused(value):
    """Property: whatever is written as a key id, what reaches signatureKeys and the ConfigMap keys is 16/40/64
    upper-case hex digits (the long id after long_id), or the fleet file is refused."""
    try:
        kid = gpg.long_id(gpg.normalise_key_id(value, "id"))
    except ToolError:
        return
    assert len(kid) == 16 and all(c in "0123456789ABCDEF" for c in kid)


@pytest.mark.parametrize("revision,include", [("main", "refs/heads/main"), ("release/2025", "refs/heads/release/2025"),
                                              ("HEAD", "~DEFAULT_BRANCH"), ("v1.4.0", "~DEFAULT_BRANCH"),
                                              ("3f9c2e1", "~DEFAULT_BRANCH")])
def test_ruleset_protects_the_branch_argocd_follows(revision, include):
    doc = _fleet_doc()
    doc["spec"]["gitops"]["revision"] = revision
    files = render_fleet(from_dict(doc))
    assert json.loads(files[approval.RULESET_FILE])["conditions"]["ref_name"]["include"] == [include]
