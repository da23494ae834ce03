"""--out is the user's directory: tf2kro only ever replaces or removes files it wrote (.tf2kro/manifest.json), refuses
a foreign non-empty directory, never writes outside --out, merges runs per phase / environment, locks the directory
against concurrent runs and writes with the user's umask."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from converter.cli import main
from converter.emit.writer import MANIFEST, OutputRun, write_tree
from converter.model import ToolError

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / "samples" / "estate" / "terraform.tfstate"


def _run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def _tree(out: Path, *, manifest: bool = True) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and (manifest or p.relative_to(out).parts[0] != ".tf2kro")}


def _manifest(out: Path) -> dict:
    return json.loads((out / MANIFEST).read_text())["files"]


# ---------------------------------------------------------------------------------------------- refusal
def test_git_repo_with_user_files_survives_out_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    repo = tmp_path / "g"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "README.md").write_text("mine\n")
    before = _tree(repo)
    monkeypatch.chdir(repo)
    res = _run("convert", "--state", STATE, "--out", ".")
    assert res.exit_code == 2, res.output
    assert "not empty" in res.stderr and "--force" in res.stderr and "Traceback" not in res.output
    assert _tree(repo) == before and (repo / ".git").is_dir()
    assert sorted(p.name for p in repo.iterdir()) == [".git", "README.md"]  # nothing written, no .tf2kro/

    # an empty subdirectory of the working tree is fine, and then it is tf2kro's own: re-runs work
    (repo / "clusters" / "prod").mkdir(parents=True)
    assert _run("convert", "--state", STATE, "--out", "clusters/prod").exit_code == 0
    assert _run("convert", "--state", STATE, "--out", "clusters/prod").exit_code == 0
    assert (repo / "clusters/prod/network/rgd.yaml").is_file() and (repo / "README.md").read_text() == "mine\n"


def test_foreign_directory_with_force_keeps_unrelated_files(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "values.yaml").write_text("user: 1\n")
    assert _run("convert", "--state", STATE, "--out", out).exit_code == 2
    assert sorted(p.name for p in out.iterdir()) == ["values.yaml"]
    res = _run("convert", "--state", STATE, "--out", out, "--force")
    assert res.exit_code == 0, res.output
    assert (out / "values.yaml").read_text() == "user: 1\n" and "values.yaml" not in _manifest(out)


# ---------------------------------------------------------------------------------------------- ownership
def test_user_file_in_tf2kro_tree_survives_reruns(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert _run("convert", "--state", STATE, "--out", out).exit_code == 0
    (out / "values.yaml").write_text("user: 1\n")
    (out / "network" / "NOTES.md").write_text("notes\n")
    for args in ([], ["--phase", "network"], ["--read-only"], []):
        res = _run("convert", "--state", STATE, "--out", out, *args)
        assert res.exit_code == 0, res.output
        assert (out / "values.yaml").read_text() == "user: 1\n"
        assert (out / "network" / "NOTES.md").read_text() == "notes\n"
    assert not {"values.yaml", "network/NOTES.md"} & set(_manifest(out))


def test_rerun_is_byte_identical_including_manifest(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert _run("convert", "--state", STATE, "--out", out).exit_code == 0
    first = _tree(out)
    man = _manifest(out)
    assert set(man) == set(_tree(out, manifest=False))
    for rel, entry in man.items():
        assert entry["sha256"] == hashlib.sha256(first[rel]).hexdigest() and entry["command"] == "convert --env main"
    assert _run("convert", "--state", STATE, "--out", out).exit_code == 0
    assert _tree(out) == first


def test_edited_generated_file_is_kept_and_reported_then_forced(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert _run("convert", "--state", STATE, "--out", out).exit_code == 0
    fresh = (out / "network" / "rgd.yaml").read_bytes()
    (out / "network" / "rgd.yaml").write_text("# my edit\n")
    res = _run("convert", "--state", STATE, "--out", out, "--read-only")  # a different rendering of the same env
    assert res.exit_code == 0, res.output
    assert "kept network/rgd.yaml" in res.stderr and "--force" in res.stderr
    assert (out / "network" / "rgd.yaml").read_text() == "# my edit\n"
    assert "kind: ResourceGraphDefinition" in (out / "identity" / "rgd.yaml").read_text()  # the rest was written
    res = _run("convert", "--state", STATE, "--out", out, "--force")
    assert res.exit_code == 0 and "kept" not in res.stderr
    assert (out / "network" / "rgd.yaml").read_bytes() == fresh


def test_stale_generated_files_removed_user_files_kept(tmp_path: Path) -> None:
    out = tmp_path / "o"
    write_tree(out, {"a.yaml": "a\n", "b/c.yaml": "c\n", "d/e.yaml": "e\n", "f/g.yaml": "g\n"})
    (out / "d" / "mine.txt").write_text("mine\n")
    (out / "f" / "g.yaml").write_text("edited\n")
    res = write_tree(out, {"a.yaml": "a2\n"})
    assert res.removed == ["b/c.yaml", "d/e.yaml"] and res.kept_edited == ["f/g.yaml"]
    assert not (out / "b").exists()  # emptied generated directory pruned
    assert (out / "d" / "mine.txt").read_text() == "mine\n" and (out / "f" / "g.yaml").read_text() == "edited\n"
    assert set(_manifest(out)) == {"a.yaml"}  # the edited, no longer generated file is the user's now


# ---------------------------------------------------------------------------------------------- merging
def test_phase_runs_merge(tmp_path: Path) -> None:
    out = tmp_path / "c"
    assert _run("convert", "--state", STATE, "--out", out, "--phase", "network").exit_code == 0
    assert _run("convert", "--state", STATE, "--out", out, "--phase", "identity").exit_code == 0
    assert (out / "network" / "rgd.yaml").is_file() and (out / "identity" / "rgd.yaml").is_file()
    assert not (out / "cluster").exists()
    import yaml

    assert yaml.safe_load((out / "kustomization.yaml").read_text())["resources"] == ["network", "identity"]
    assert json.loads((out / "report.json").read_text())["counts"]["mapped"] > 0
    man = _manifest(out)
    assert man["network/rgd.yaml"]["command"] == "convert --env main --phase network"
    assert man["identity/rgd.yaml"]["command"] == "convert --env main --phase identity"
    # re-running one phase changes nothing; an `all` run gives exactly the tree a fresh `all` run gives
    before = _tree(out, manifest=False)
    assert _run("convert", "--state", STATE, "--out", out, "--phase", "network").exit_code == 0
    assert _tree(out, manifest=False) == before  # (the manifest names the latest command of the index files)
    assert _run("convert", "--state", STATE, "--out", out).exit_code == 0
    fresh = tmp_path / "fresh"
    assert _run("convert", "--state", STATE, "--out", fresh).exit_code == 0
    assert _tree(out) == _tree(fresh)


def test_convert_of_another_env_does_not_take_over_an_envs_output(tmp_path: Path) -> None:
    """convert writes `<phase>/…` without an environment level: a second environment into the same --out would
    replace the first one's output. It is refused (exit 2, nothing written) unless --force."""
    out = tmp_path / "c"
    assert _run("convert", "--state", STATE, "--out", out, "--env", "staging").exit_code == 0
    staging = _tree(out)
    res = _run("convert", "--state", STATE, "--out", out, "--env", "prod")
    assert res.exit_code == 2 and "belongs to another run's output (`convert --env staging`" in res.output
    assert _tree(out) == staging
    res = _run("convert", "--state", STATE, "--out", out, "--env", "prod", "--force")
    assert res.exit_code == 0, res.output
    assert "prod-" in (out / "network" / "instance.yaml").read_text()
    assert {e["scope"] for e in _manifest(out).values()} <= {"convert:index"} | {f"convert:prod:{p}@estate" for p in
                                                                                ("network", "identity", "cluster", "addons", "other")}


def test_convert_of_another_root_does_not_take_over_a_roots_output(tmp_path: Path) -> None:
    """Two states (two roots) of one environment into one --out: the second root would replace the first one's
    phase directories. Refused (exit 2, one line, nothing written) like another --env, also for a phase run whose
    paths do not overlap; --force replaces. The same root again is accepted."""
    out = tmp_path / "rr"
    assert _run("convert", "--state", STATE, "--out", out, "--root", "dev", "--phase", "network").exit_code == 0
    dev = _tree(out)
    assert {e["scope"] for e in _manifest(out).values()} == {"convert:index", "convert:main:network@dev"}
    for args in ((), ("--phase", "network"), ("--phase", "identity")):
        res = _run("convert", "--state", STATE, "--out", out, "--root", "prod", *args)
        assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, (args, res.output)
        assert "another run's output" in res.output and "@dev" in res.output and str(out) in res.output
        assert _tree(out) == dev
    assert _run("convert", "--state", STATE, "--out", out, "--root", "dev").exit_code == 0
    res = _run("convert", "--state", STATE, "--out", out, "--root", "prod", "--force")
    assert res.exit_code == 0, res.output
    assert "prod" in (out / "network" / "rgd.yaml").read_text()


def test_convert_output_without_recorded_roots_still_merges(tmp_path: Path) -> None:
    """A manifest written before scopes named the root (`convert:E:P`) counts as this root's output: the next run
    replaces it instead of refusing, and records its root."""
    out = tmp_path / "old"
    assert _run("convert", "--state", STATE, "--out", out, "--root", "dev").exit_code == 0
    doc = json.loads((out / MANIFEST).read_text())
    for e in doc["files"].values():
        e["scope"] = e["scope"].split("@", 1)[0]
    (out / MANIFEST).write_text(json.dumps(doc))
    res = _run("convert", "--state", STATE, "--out", out, "--root", "prod")
    assert res.exit_code == 0, res.output
    assert {e["scope"].split(":")[-1] for e in _manifest(out).values() if e["scope"] != "convert:index"} == {
        f"{p}@prod" for p in ("network", "identity", "cluster", "addons", "other") if (out / p).is_dir()}


def test_plan_env_runs_merge(tmp_path: Path) -> None:
    out = tmp_path / "p"
    assert _run("plan", "--state", STATE, "--out", out, "--env", "dev").exit_code == 0
    dev = _tree(out)
    assert _run("plan", "--state", STATE, "--out", out, "--env", "prod").exit_code == 0
    for env in ("dev", "prod"):
        assert (out / "terraform" / env / "01-network" / "removed.tf").is_file()
        assert (out / "environments" / env / "01-network" / "read-only" / "rgd.yaml").is_file()
        assert (out / "prs" / env / "01-network.md").is_file()
        plan = json.loads((out / "environments" / env / "plan.json").read_text())
        assert plan["env"] == env
        assert f"terraform/{env}/01-network/removed.tf" in json.dumps(plan["phases"][0]["steps"])
        assert f"/terraform/{env}/01-network/ " in (out / "CODEOWNERS").read_text()
        assert f"environments/{env}/README.md" in (out / "README.md").read_text()
    assert not (out / "terraform" / "01-network").exists()
    # dev's own files were not touched by the prod run
    assert {k: v for k, v in _tree(out).items() if "/dev/" in k} == {k: v for k, v in dev.items() if "/dev/" in k}
    both = _tree(out)
    assert _run("plan", "--state", STATE, "--out", out, "--env", "dev").exit_code == 0
    after = _tree(out)
    assert {k: v for k, v in after.items() if k != MANIFEST} == {k: v for k, v in both.items() if k != MANIFEST}


# ---------------------------------------------------------------------------------------------- confinement
@pytest.mark.parametrize("rel", ["../x", "/abs/x", "a/../../x", "a//b", "./a", "", ".tf2kro/manifest.json", "a\\..\\x"])
def test_write_tree_refuses_escaping_paths(tmp_path: Path, rel: str) -> None:
    out = tmp_path / "out"
    with pytest.raises(ToolError):
        write_tree(out, {"ok.yaml": "a\n", rel: "x\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written, not even --out


def test_write_tree_never_follows_a_symlink_inside_out(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_tree(out, {"a.yaml": "a\n", "f.yaml": "f\n"})
    (out / "network").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ToolError, match="symlink"):
        write_tree(out, {"a.yaml": "changed\n", "network/rgd.yaml": "x\n"})
    assert list(elsewhere.iterdir()) == [] and (out / "a.yaml").read_text() == "a\n"
    (out / "network").unlink()
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (out / "f.yaml").unlink()
    (out / "f.yaml").symlink_to(victim)
    with pytest.raises(ToolError, match="symlink"):
        write_tree(out, {"a.yaml": "a\n", "f.yaml": "pwned\n"})
    assert victim.read_text() == "keep\n"


def test_plan_env_escaping_out_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "p"
    res = _run("plan", "--state", STATE, "--out", out, "--env", "../../../ESCAPED")
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert not list(tmp_path.rglob("*ESCAPED*"))


@pytest.mark.parametrize("where", ["same", "parent"])
def test_out_containing_an_input_is_refused(tmp_path: Path, where: str) -> None:
    d = tmp_path / "in" / "sub"
    d.mkdir(parents=True)
    st = d / "terraform.tfstate"
    shutil.copy(STATE, st)
    out = d if where == "same" else tmp_path / "in"
    res = _run("convert", "--state", st, "--out", out, "--force")
    assert res.exit_code == 2 and "input" in res.stderr, res.output
    assert sorted(p.name for p in d.iterdir()) == ["terraform.tfstate"]
    hcl = tmp_path / "hcl"
    hcl.mkdir()
    (hcl / "main.tf").write_text("")
    res = _run("convert", "--state", STATE, "--hcl", hcl, "--out", hcl, "--force")
    assert res.exit_code == 2 and "input" in res.stderr, res.output
    assert sorted(p.name for p in hcl.iterdir()) == ["main.tf"]


def test_corrupt_manifest_listing_outside_path_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(out, {"a.yaml": "a\n"})
    doc = json.loads((out / MANIFEST).read_text())
    doc["files"]["../victim"] = {"sha256": hashlib.sha256(b"keep\n").hexdigest(), "scope": "all"}
    (out / MANIFEST).write_text(json.dumps(doc))
    (tmp_path / "victim").write_text("keep\n")
    with pytest.raises(ToolError, match="manifest"):
        write_tree(out, {"a.yaml": "b\n"})
    assert (tmp_path / "victim").read_text() == "keep\n"


# ---------------------------------------------------------------------------------------------- concurrency
def _worker(out: str, rounds: int, wid: int, q) -> None:  # runs in a forked process
    os.environ["TF2KRO_LOCK_TIMEOUT"] = "0.3" if wid % 2 else "20"
    outcomes = []
    expected: set[str] | None = None
    for i in range(rounds):
        # two different renderings of one environment, alternating (another env into one --out is refused)
        res = CliRunner().invoke(main, ["convert", "--state", str(STATE), "--out", out,
                                        *(["--read-only"] if (i + wid) % 2 else [])])
        text = res.output + (repr(res.exception) if res.exception and not isinstance(res.exception, SystemExit) else "")
        outcomes.append((res.exit_code, "in use" in text, "Traceback" in text or res.exit_code not in (0, 2), text[-300:]))
        if res.exit_code == 0:
            now = {p.relative_to(out).as_posix() for p in Path(out).rglob("*.yaml")}
            expected = expected or now
            outcomes.append((0, False, not expected <= now, "incomplete output"))  # never a half tree
    q.put(outcomes)


def test_concurrent_writers_lock_and_leave_no_debris(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(out), 20, w, q)) for w in range(4)]
    for p in procs:
        p.start()
    results = [x for _ in procs for x in q.get(timeout=600)]
    for p in procs:
        p.join(timeout=60)
    bad = [r for r in results if r[2] or (r[0] == 2 and not r[1])]
    assert not bad, bad[:3]
    assert sum(1 for r in results if r[0] == 0) >= 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no .out.old-*/.out.tmp-* siblings
    assert not [p for p in out.rglob("*") if p.name.endswith(".tf2kro-tmp")]
    man = _manifest(out)
    tree = _tree(out, manifest=False)
    assert set(man) == set(tree)
    assert all(man[rel]["sha256"] == hashlib.sha256(data).hexdigest() for rel, data in tree.items())


# ---------------------------------------------------------------------------------------------- modes
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_modes_follow_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        out = tmp_path / "new" / "out"
        assert _run("convert", "--state", STATE, "--out", out).exit_code == 0
    finally:
        os.umask(old)
    for p in [tmp_path / "new", out, *out.rglob("*")]:
        want = (0o777 if p.is_dir() else 0o666) & ~umask
        assert p.stat().st_mode & 0o777 == want, (p, oct(p.stat().st_mode))


def test_existing_user_directory_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o755)
    assert _run("convert", "--state", STATE, "--out", out).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o755


def test_index_files_of_a_run_cover_every_scope(tmp_path: Path) -> None:
    """OutputRun.index sees the files of other scopes (read from disk) and of this run."""
    seen: list[list[str]] = []

    def run(scope: str) -> OutputRun:
        def index(paths, read):
            seen.append(paths)
            return {"index.txt": "".join(read(p) for p in paths)}
        return OutputRun(command=f"t {scope}", scope_of=lambda rel: rel.split("/")[0], replaces=lambda s: s == scope,
                         index=index)

    out = tmp_path / "o"
    write_tree(out, {"x/a": "1\n"}, run=run("x"))
    write_tree(out, {"y/a": "2\n"}, run=run("y"))
    assert (out / "index.txt").read_text() == "1\n2\n" and seen[-1] == ["x/a", "y/a"]
    write_tree(out, {}, run=run("x"))  # x produced nothing this time: its file goes, y's stays
    assert (out / "index.txt").read_text() == "2\n" and not (out / "x").exists()


def test_second_run_while_locked_exits_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    out = tmp_path / "out"
    assert _run("convert", "--state", STATE, "--out", out).exit_code == 0
    before = _tree(out)
    monkeypatch.setenv("TF2KRO_LOCK_TIMEOUT", "0.2")
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another run holds the directory
        res = _run("convert", "--state", STATE, "--out", out, "--read-only")
    finally:
        os.close(fd)
    assert res.exit_code == 2 and "in use" in res.stderr, res.output
    assert _tree(out) == before


@pytest.mark.parametrize("cmd", [
    ["convert", "--state", STATE],
    ["plan", "--state", STATE],
    ["fleet", "--config", ROOT / "samples" / "fleet.yaml"],
])
def test_every_writing_command_refuses_a_foreign_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           cmd: list) -> None:
    monkeypatch.chdir(ROOT)  # the fleet file names its state relative to the checkout
    out = tmp_path / "o"
    out.mkdir()
    (out / "values.yaml").write_text("user: 1\n")
    res = _run(*cmd, "--out", out)
    assert res.exit_code == 2 and "--force" in res.stderr, res.output
    assert sorted(p.name for p in out.iterdir()) == ["values.yaml"]
    res = _run(*cmd, "--out", out, "--force")
    assert res.exit_code == 0, res.output
    assert (out / "values.yaml").read_text() == "user: 1\n" and (out / MANIFEST).is_file()


def test_user_deleted_generated_file_of_another_env_does_not_break_the_index(tmp_path: Path) -> None:
    out = tmp_path / "p"
    assert _run("plan", "--state", STATE, "--out", out, "--env", "dev").exit_code == 0
    shutil.rmtree(out / "environments" / "dev")
    res = _run("plan", "--state", STATE, "--out", out, "--env", "prod")
    assert res.exit_code == 0, res.output
    assert "environments/dev/" not in (out / "README.md").read_text()
    assert "environments/dev/01-network" not in json.dumps(_manifest(out))
    assert (out / "terraform" / "dev" / "01-network" / "removed.tf").is_file()  # dev's other files stay


def test_symlink_planted_after_the_checks_is_not_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writes themselves go through O_NOFOLLOW directory descriptors: with the up-front check switched off (as
    if the symlink appeared between check and write), the run still refuses and writes nothing outside."""
    import converter.emit.writer as writer

    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_tree(out, {"a.yaml": "a\n"})
    (out / "network").symlink_to(elsewhere, target_is_directory=True)
    monkeypatch.setattr(writer, "_check_on_disk", lambda out, rel: None)
    with pytest.raises(ToolError, match="symlink"):
        write_tree(out, {"a.yaml": "changed\n", "network/rgd.yaml": "x\n"})
    assert list(elsewhere.iterdir()) == [] and (out / "a.yaml").read_text() == "a\n"
    assert not [p for p in out.rglob("*") if p.name.endswith(".tf2kro-tmp")]
