"""Base resolution (DESIGN §1) on real repositories through the real CLI:
--base / policy `base:` -> merge-base with upstream -> with origin/HEAD -> with local main/master
-> HEAD; a repository with no commits has an empty base."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import GitRepo, deployment, init_repo

CONFIG = "deploy/prod/checkout.yaml"


def _branch_off(repo: GitRepo, name: str) -> str:
    """Create and switch to `name` at HEAD; return the fork point."""
    repo.git("checkout", "-q", "-b", name)
    return repo.git("rev-parse", "HEAD")


def _diverge(repo: GitRepo, branch: str, path: str = "other.txt") -> str:
    """Advance `branch` by one commit without leaving the current branch's state behind."""
    current = repo.git("symbolic-ref", "--short", "HEAD")
    repo.git("checkout", "-q", branch)
    repo.write(path, f"on {branch}\n")
    sha = repo.commit(f"advance {branch}")
    repo.git("checkout", "-q", current)
    return sha


def _remote(repo: GitRepo, tmp_path: Path) -> Path:
    """A bare "remote" that `repo` pushes main to, with origin/HEAD pointing at main."""
    bare = tmp_path / "remote.git"
    repo.git("init", "-q", "--bare", "-b", "main", str(bare))
    repo.git("remote", "add", "origin", str(bare))
    repo.git("push", "-q", "origin", "main")
    repo.git("remote", "set-head", "origin", "main")
    return bare


@pytest.fixture
def feature(repo: GitRepo) -> tuple[GitRepo, str]:
    """main with one commit, a feature branch with one more, main advanced past the fork."""
    repo.write(CONFIG, deployment(replicas=6))
    fork = repo.commit("base")
    _branch_off(repo, "feature")
    repo.write(CONFIG, deployment(replicas=4))
    repo.commit("feature work")
    _diverge(repo, "main")
    return repo, fork


def test_explicit_base_is_the_merge_base_not_the_tip(feature):
    repo, fork = feature
    report = repo.check_json("--base", "main")
    assert report["base"] == {"ref": "main", "commit": fork, "how": "merge-base with main"}
    # the feature commit is part of the change: 6 -> 4 is seen against the fork point
    (file,) = report["files"]
    assert file["path"] == CONFIG
    assert [(c["key"], c["old"], c["new"]) for c in file["changes"]] == [("spec.replicas", 6, 4)]


def test_explicit_base_accepts_any_revision_syntax(feature):
    repo, fork = feature
    report = repo.check_json("--base", "HEAD~1")
    assert report["base"]["commit"] == fork


@pytest.mark.parametrize("ref", ["no-such-branch", "-oops", "main..HEAD"])
def test_unknown_base_is_a_usage_error_naming_the_ref(repo, ref):
    repo.write("a.txt", "a\n")
    repo.commit("base")
    result = repo.cli("check", "--format", "json", f"--base={ref}")
    assert result.code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and ref in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_base_in_a_repository_without_commits(repo):
    repo.write("a.txt", "a\n")
    result = repo.cli("check", "--base", "main")
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1 and "main" in result.stderr


def test_policy_base_key_at_the_base_decides(repo):
    repo.write(".changegate.yaml", "version: 1\nbase: develop\n")
    repo.write(CONFIG, deployment(replicas=6))
    repo.commit("policy")
    _branch_off(repo, "develop")
    repo.write(CONFIG, deployment(replicas=5))
    develop_fork = repo.commit("develop work")
    _branch_off(repo, "feature")
    repo.write(CONFIG, deployment(replicas=4))
    repo.commit("feature work")
    _diverge(repo, "develop", "develop-only.txt")

    report = repo.check_json()

    assert report["base"]["ref"] == "develop"
    assert report["base"]["commit"] == develop_fork
    assert report["base"]["how"] == "merge-base with develop"
    (file,) = report["files"]
    assert [(c["old"], c["new"]) for c in file["changes"]] == [(5, 4)]


def test_policy_base_naming_a_missing_ref_is_a_config_error(repo):
    repo.write(".changegate.yaml", "version: 1\nbase: develop\n")
    repo.commit("policy")
    repo.write("a.txt", "a\n")
    result = repo.cli("check")
    assert result.code == 2
    (line,) = result.stderr.splitlines()
    assert "develop" in line and "Traceback" not in line


def test_policy_base_key_added_by_the_change_is_not_trusted(repo):
    repo.write(".changegate.yaml", "version: 1\n")
    main_commit = repo.commit("policy")
    repo.git("branch", "develop")
    _branch_off(repo, "feature")
    repo.write(".changegate.yaml", "version: 1\nbase: develop\n")  # the change tries to move its own base

    report = repo.check_json()

    assert report["base"] == {"ref": "main", "commit": main_commit, "how": "merge-base with main"}
    assert [f["path"] for f in report["files"]] == [".changegate.yaml"]


def test_explicit_base_beats_policy_base(repo):
    repo.write(".changegate.yaml", "version: 1\nbase: develop\n")
    first = repo.commit("policy")
    repo.git("branch", "develop")
    repo.write("a.txt", "a\n")
    repo.commit("second")
    report = repo.check_json("--base", "HEAD")
    assert report["base"]["how"] == "merge-base with HEAD"
    assert report["base"]["commit"] != first


def test_merge_base_with_upstream(repo, tmp_path):
    repo.write(CONFIG, deployment(replicas=6))
    repo.commit("base")
    _remote(repo, tmp_path)
    _branch_off(repo, "feature")
    repo.write(CONFIG, deployment(replicas=5))
    pushed = repo.commit("pushed feature work")
    repo.git("push", "-q", "origin", "feature")
    repo.git("branch", "--set-upstream-to=origin/feature")
    repo.write(CONFIG, deployment(replicas=4))
    repo.commit("local feature work")

    report = repo.check_json()

    assert report["base"] == {"ref": "origin/feature", "commit": pushed, "how": "merge-base with upstream"}


def test_upstream_whose_remote_branch_is_gone_falls_through(repo, tmp_path):
    repo.write("a.txt", "a\n")
    fork = repo.commit("base")
    _remote(repo, tmp_path)
    _branch_off(repo, "feature")
    repo.write("a.txt", "b\n")
    repo.commit("feature work")
    repo.git("push", "-q", "-u", "origin", "feature")
    repo.git("push", "-q", "origin", "--delete", "feature")  # merged and deleted on the forge

    report = repo.check_json()

    assert report["base"] == {"ref": "origin/HEAD", "commit": fork, "how": "merge-base with origin/HEAD"}


def test_a_tag_named_like_the_trunk_does_not_shadow_it(repo):
    repo.write("a.txt", "a\n")
    old = repo.commit("old")
    repo.git("tag", "main", old)  # ambiguous short name: refs/tags/main wins in git's DWIM
    repo.write("a.txt", "b\n")
    fork = repo.commit("fork")
    _branch_off(repo, "feature")
    repo.write("a.txt", "c\n")
    repo.commit("feature work")

    report = repo.check_json()

    assert report["base"] == {"ref": "main", "commit": fork, "how": "merge-base with main"}


def test_merge_base_with_origin_head_without_upstream(repo, tmp_path):
    repo.write("a.txt", "a\n")
    fork = repo.commit("base")
    _remote(repo, tmp_path)
    _branch_off(repo, "feature")  # no upstream
    repo.write("a.txt", "b\n")
    repo.commit("feature work")

    report = repo.check_json()

    assert report["base"] == {"ref": "origin/HEAD", "commit": fork, "how": "merge-base with origin/HEAD"}


@pytest.mark.parametrize("trunk", ["main", "master"])
def test_merge_base_with_local_trunk(tmp_path, trunk):
    repo = init_repo(tmp_path / "r", branch=trunk)
    repo.write("a.txt", "a\n")
    fork = repo.commit("base")
    _branch_off(repo, "feature")
    repo.write("a.txt", "b\n")
    repo.commit("feature work")
    _diverge(repo, trunk)

    report = repo.check_json()

    assert report["base"] == {"ref": trunk, "commit": fork, "how": f"merge-base with {trunk}"}


def test_falls_back_to_head_without_trunk_or_remote(tmp_path):
    repo = init_repo(tmp_path / "r", branch="trunk")
    repo.write("a.txt", "a\n")
    head = repo.commit("base")
    repo.write("a.txt", "b\n")

    report = repo.check_json()

    assert report["base"] == {"ref": "HEAD", "commit": head, "how": "HEAD"}
    assert [f["path"] for f in report["files"]] == ["a.txt"]


def test_detached_head_uses_the_chain(feature):
    repo, fork = feature
    repo.git("checkout", "-q", "--detach", "feature")
    report = repo.check_json()
    assert report["base"] == {"ref": "main", "commit": fork, "how": "merge-base with main"}


def test_repository_without_commits_has_an_empty_base(repo):
    repo.write("a.txt", "a\n")
    report = repo.check_json()
    assert report["base"] == {"ref": None, "commit": None, "how": "no commits yet"}


def test_commit_mode_compares_with_the_parent(repo):
    repo.write(CONFIG, deployment(replicas=6))
    parent = repo.commit("base")
    repo.write(CONFIG, deployment(replicas=0))
    target = repo.commit("scale down")
    repo.write(CONFIG, deployment(replicas=9))
    repo.commit("later")

    report = repo.check_json("--commit", target)

    assert report["base"]["commit"] == parent
    assert report["base"]["how"] == "parent of --commit"
    (file,) = report["files"]
    assert [(c["old"], c["new"]) for c in file["changes"]] == [(6, 0)]


def test_commit_mode_root_commit_has_an_empty_base(repo):
    repo.write(CONFIG, deployment(replicas=6))
    root = repo.commit("root")
    repo.write(CONFIG, deployment(replicas=3))
    repo.commit("second")

    report = repo.check_json("--commit", root)

    assert report["base"] == {"ref": None, "commit": None, "how": "root commit"}
    assert [(f["path"], f["status"]) for f in report["files"]] == [(CONFIG, "added")]


def test_unknown_commit_is_a_usage_error(repo):
    repo.write("a.txt", "a\n")
    repo.commit("base")
    result = repo.cli("check", "--commit", "deadbeef")
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1 and "deadbeef" in result.stderr


def _shallow_clone(origin: GitRepo, dest: Path, *extra: str) -> GitRepo:
    origin.git("clone", "-q", "--depth", "1", *extra, f"file://{origin.root}", str(dest))
    clone = GitRepo(dest)
    assert clone.git("rev-parse", "--is-shallow-repository") == "true"
    return clone


@pytest.fixture
def origin(tmp_path) -> GitRepo:
    origin = init_repo(tmp_path / "origin")
    for replicas in (6, 5, 4):
        origin.write(CONFIG, deployment(replicas=replicas))
        origin.commit(f"replicas {replicas}")
    return origin


def test_shallow_clone_worktree_change(origin, tmp_path):
    clone = _shallow_clone(origin, tmp_path / "clone")
    tip = clone.git("rev-parse", "HEAD")
    clone.write(CONFIG, deployment(replicas=0))

    report = clone.check_json()

    assert report["base"] == {"ref": "origin/main", "commit": tip, "how": "merge-base with upstream"}
    (file,) = report["files"]
    assert [(c["old"], c["new"]) for c in file["changes"]] == [(4, 0)]


def test_shallow_clone_commit_mode_without_the_parent(origin, tmp_path):
    """The parent of a depth-1 clone's commit is not there: rather than call the whole tree
    "added", say what to fetch."""
    clone = _shallow_clone(origin, tmp_path / "clone")
    result = clone.cli("check", "--commit", "HEAD")
    assert result.code == 2
    (line,) = result.stderr.splitlines()
    assert "shallow clone" in line and "--deepen" in line and "Traceback" not in line


def test_shallow_clone_commit_mode_with_enough_history(origin, tmp_path):
    clone = _shallow_clone(origin, tmp_path / "clone")
    clone.git("fetch", "-q", "--deepen=1")
    report = clone.check_json("--commit", "HEAD")
    assert report["base"]["how"] == "parent of --commit"
    (file,) = report["files"]
    assert [(c["old"], c["new"]) for c in file["changes"]] == [(5, 4)]


def test_shallow_clone_without_a_merge_base_falls_back_to_the_ref(origin, tmp_path):
    origin.git("checkout", "-q", "-b", "other", "HEAD~1")
    origin.write("other.txt", "x\n")
    other = origin.commit("other work")
    origin.git("checkout", "-q", "main")
    clone = _shallow_clone(origin, tmp_path / "clone", "--no-single-branch")
    clone.write(CONFIG, deployment(replicas=0))

    result = clone.cli("check", "--format", "json", "--fail-on", "never", "--base", "origin/other")

    assert result.code == 0, result.stderr
    base = result.json()["base"]
    assert base["commit"] == other  # histories are cut: no merge base, so the ref itself
    assert "no merge base" in base["how"]


def test_shallow_clone_with_local_commits_on_a_branch(origin, tmp_path):
    clone = _shallow_clone(origin, tmp_path / "clone")
    tip = clone.git("rev-parse", "HEAD")
    clone.git("checkout", "-q", "-b", "feature")
    clone.write(CONFIG, deployment(replicas=2))
    clone.commit("feature")

    report = clone.check_json()

    assert report["base"]["commit"] == tip
    assert report["base"]["how"] in ("merge-base with origin/HEAD", "merge-base with main")
