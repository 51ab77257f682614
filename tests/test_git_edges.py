"""What `changegate check` collects from git, on real repositories through the real CLI:
change selection (worktree, --staged, --commit, PATHs), git edge cases, file content edge cases,
and determinism."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conftest import GitRepo, deployment, init_repo

CONFIG = "deploy/prod/checkout.yaml"


def _files(report: dict) -> dict[str, dict]:
    return {f["path"]: f for f in report["files"]}


def _values(file: dict) -> list[tuple]:
    return [(c["key"], c["op"], c["old"], c["new"]) for c in file["changes"]]


def _one_line_error(result, *needles: str) -> None:
    assert result.code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def based(repo: GitRepo) -> GitRepo:
    """A repo with a committed prod deployment and a .gitignore."""
    repo.write(CONFIG, deployment(replicas=6))
    repo.write(".gitignore", "*.log\nbuild/\n")
    repo.commit("base")
    return repo


# --- change selection -------------------------------------------------------------------------

def test_worktree_includes_untracked_but_not_ignored_files(based):
    based.write(CONFIG, deployment(replicas=3))
    based.write("deploy/prod/new.yaml", "replicas: 2\n")
    based.write("debug.log", "noise\n")
    based.write("build/out.yaml", "a: 1\n")

    files = _files(based.check_json())

    assert sorted(files) == [CONFIG, "deploy/prod/new.yaml"]
    assert files["deploy/prod/new.yaml"]["status"] == "added"
    assert files[CONFIG]["status"] == "modified"
    assert _values(files[CONFIG]) == [("spec.replicas", "replace", 6, 3)]


def test_staged_sees_only_the_index(based):
    based.write("deploy/prod/other.yaml", "a: 1\n")
    based.commit("other")
    based.write(CONFIG, deployment(replicas=3))
    based.git("add", CONFIG)
    based.write(CONFIG, deployment(replicas=0))  # unstaged on top of the staged edit
    based.write("deploy/prod/other.yaml", "a: 2\n")  # unstaged only
    based.write("untracked.yaml", "b: 1\n")

    files = _files(based.check_json("--staged"))

    assert sorted(files) == [CONFIG]
    assert _values(files[CONFIG]) == [("spec.replicas", "replace", 6, 3)]


def test_staged_and_commit_are_exclusive(based):
    _one_line_error(based.cli("check", "--staged", "--commit", "HEAD"), "--commit")


def test_commit_mode_sees_that_commit_only(based):
    based.write(CONFIG, deployment(replicas=2))
    based.write("added.yaml", "a: 1\n")
    target = based.commit("change")
    based.write(CONFIG, deployment(replicas=0))  # worktree noise that --commit must ignore
    based.write("untracked.yaml", "x: 1\n")

    files = _files(based.check_json("--commit", target))

    assert sorted(files) == ["added.yaml", CONFIG]
    assert files["added.yaml"]["status"] == "added"
    assert _values(files[CONFIG]) == [("spec.replicas", "replace", 6, 2)]


def test_root_commit_has_everything_added(repo):
    repo.write(CONFIG, deployment(replicas=6))
    repo.write("README.md", "hi\n")
    root = repo.commit("root")

    report = repo.check_json("--commit", root)

    assert report["base"]["commit"] is None
    assert [(f["path"], f["status"]) for f in report["files"]] == [("README.md", "added"), (CONFIG, "added")]


@pytest.fixture
def spread(based: GitRepo) -> GitRepo:
    """Changes in three directories, one of them untracked."""
    based.write("deploy/staging/api.yaml", "a: 1\n")
    based.write("ops/x.yaml", "a: 1\n")
    based.commit("more")
    based.write(CONFIG, deployment(replicas=3))
    based.write("deploy/staging/api.yaml", "a: 2\n")
    based.write("ops/x.yaml", "a: 2\n")
    based.write("deploy/prod/new.yaml", "n: 1\n")
    return based


def test_paths_narrow_the_check(spread):
    files = _files(spread.check_json("deploy/prod", "ops/x.yaml"))
    assert sorted(files) == [CONFIG, "deploy/prod/new.yaml", "ops/x.yaml"]


def test_paths_are_relative_to_the_working_directory(spread):
    result = spread.cli("check", "--format", "json", "--fail-on", "never", "prod", "../ops",
                        cwd=spread.root / "deploy")
    assert result.code == 0, result.stderr
    assert sorted(_files(result.json())) == [CONFIG, "deploy/prod/new.yaml", "ops/x.yaml"]


def test_paths_are_relative_to_dash_c(spread, tmp_path):
    result = spread.cli("check", "--format", "json", "--fail-on", "never", "-C", str(spread.root / "deploy"),
                        "staging", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert sorted(_files(result.json())) == ["deploy/staging/api.yaml"]


def test_dash_c_through_a_symlinked_directory(spread, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(spread.root, target_is_directory=True)
    result = spread.cli("check", "--format", "json", "--fail-on", "never", "-C", str(link), "ops", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert sorted(_files(result.json())) == ["ops/x.yaml"]


def test_a_path_outside_the_repository_is_a_usage_error(spread, tmp_path):
    _one_line_error(spread.cli("check", str(tmp_path)), "outside the repository")


def test_a_path_whose_name_starts_with_two_dots_is_inside(based):
    based.write("..hidden.yaml", "a: 1\n")
    assert sorted(_files(based.check_json("..hidden.yaml"))) == ["..hidden.yaml"]


@pytest.mark.parametrize("staged", [False, True])
def test_a_path_that_looks_like_an_option(based, staged):
    based.write("-weird.yaml", "a: 1\n")
    based.commit("weird")
    based.write("-weird.yaml", "a: 2\n")
    based.write(CONFIG, deployment(replicas=1))
    if staged:
        based.git("add", "-A")

    report = based.check_json(*(["--staged"] if staged else []), "--", "-weird.yaml")

    (file,) = report["files"]
    assert file["path"] == "-weird.yaml"
    assert _values(file) == [("a", "replace", 1, 2)]


@pytest.mark.parametrize("name", ["1:stage.yaml", ":colon.yaml", "x:y.yaml"])
def test_staged_paths_with_colons_are_read_from_the_index(based, name):
    based.write(name, "a: 1\n")
    based.commit("colon")
    based.write(name, "a: 2\n")
    based.git("add", "-A")

    (file,) = based.check_json("--staged")["files"]

    assert file["path"] == name
    assert _values(file) == [("a", "replace", 1, 2)]
    assert "skipped" not in file


# --- git edge cases -----------------------------------------------------------------------------

def test_repository_without_commits(repo):
    repo.write("staged.yaml", "a: 1\n")
    repo.git("add", "staged.yaml")
    repo.write("untracked.yaml", "b: 1\n")
    repo.write(".gitignore", "*.log\n")
    repo.write("x.log", "ignored\n")

    report = repo.check_json()

    assert report["base"]["commit"] is None
    assert [(f["path"], f["status"]) for f in report["files"]] == [
        (".gitignore", "added"), ("staged.yaml", "added"), ("untracked.yaml", "added")]
    staged = _files(repo.check_json("--staged"))
    assert sorted(staged) == ["staged.yaml"]


def test_sha256_repository_without_commits(tmp_path):
    repo = GitRepo(tmp_path / "r")
    repo.root.mkdir()
    repo.git("init", "-q", "--object-format=sha256", "-b", "main")
    repo.write("a.yaml", "a: 1\n")
    repo.git("add", "a.yaml")

    assert [(f["path"], f["status"]) for f in repo.check_json()["files"]] == [("a.yaml", "added")]
    assert [f["path"] for f in repo.check_json("--staged")["files"]] == ["a.yaml"]


def test_detached_head_worktree_change(based):
    based.write("a.txt", "a\n")
    based.commit("second")
    based.git("checkout", "-q", "--detach", "HEAD~1")
    based.write(CONFIG, deployment(replicas=5))

    report = based.check_json()

    assert _values(_files(report)[CONFIG]) == [("spec.replicas", "replace", 6, 5)]


def test_renamed_file_is_diffed_against_its_old_content(based):
    based.git("mv", CONFIG, "deploy/prod/checkout-api.yaml")
    based.write("deploy/prod/checkout-api.yaml", deployment(replicas=4))

    (file,) = based.check_json()["files"]

    assert file["path"] == "deploy/prod/checkout-api.yaml"
    assert file["status"] == "renamed"
    assert file["old_path"] == CONFIG
    assert _values(file) == [("spec.replicas", "replace", 6, 4)]


def test_renamed_file_in_a_commit(based):
    based.git("mv", CONFIG, "deploy/prod/moved.yaml")
    target = based.commit("move")
    (file,) = based.check_json("--commit", target)["files"]
    assert (file["status"], file["old_path"], file["changes"]) == ("renamed", CONFIG, [])


def test_deleted_file(based):
    based.delete(CONFIG)
    (file,) = based.check_json()["files"]
    assert (file["path"], file["status"]) == (CONFIG, "deleted")
    assert "skipped" not in file


def test_file_removed_from_the_index_but_kept_is_listed_once(based):
    based.git("rm", "-q", "--cached", CONFIG)
    based.write(CONFIG, deployment(replicas=2))

    report = based.check_json()

    assert [f["path"] for f in report["files"]] == [CONFIG]
    assert _values(report["files"][0]) == [("spec.replicas", "replace", 6, 2)]


@pytest.mark.parametrize("path", ["deploy/prod/über config.yaml", "deploy/prod/ spaced .yaml",
                                  "deploy/prod/日本.yaml", 'deploy/prod/q"uote\\.yaml', "deploy/prod/tab\t.yaml"])
@pytest.mark.parametrize("mode", ["worktree", "staged", "commit"])
def test_unusual_path_names_survive_exactly(based, path, mode):
    based.write(path, "replicas: 3\n")
    based.commit("add")
    based.write(path, "replicas: 1\n")
    args = []
    if mode != "worktree":
        based.git("add", "-A")
    if mode == "commit":
        args = ["--commit", based.commit("change")]

    report = based.check_json(*args, path)

    (file,) = report["files"]
    assert file["path"] == path
    assert _values(file) == [("replicas", "replace", 3, 1)]


def test_newline_in_a_path(based):
    path = "deploy/prod/two\nlines.yaml"
    based.write(path, "a: 1\n")
    based.commit("add")
    based.write(path, "a: 2\n")
    worktree = based.check_json()["files"]
    based.git("add", "-A")
    staged = based.check_json("--staged")["files"]
    committed = based.check_json("--commit", based.commit("change"))["files"]
    for files in (worktree, staged, committed):
        (file,) = files
        assert file["path"] == path
        assert _values(file) == [("a", "replace", 1, 2)]


@pytest.fixture
def with_submodule(based: GitRepo, tmp_path: Path) -> tuple[GitRepo, GitRepo]:
    sub = init_repo(tmp_path / "sub-origin")
    sub.write("inner.yaml", "a: 1\n")
    sub.commit("sub base")
    based.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.root), "libs/sub")
    return based, GitRepo(based.root / "libs/sub")


def test_added_submodule_is_listed_not_descended(with_submodule):
    repo, _ = with_submodule
    files = _files(repo.check_json())
    assert sorted(files) == [".gitmodules", "libs/sub"]
    assert files["libs/sub"]["status"] == "added"
    assert "submodule" in files["libs/sub"]["skipped"]


def test_moved_submodule_is_listed_not_descended(with_submodule):
    repo, sub = with_submodule
    repo.commit("add submodule")
    sub.write("inner.yaml", "a: 2\n")
    sub.write("untracked-inside.yaml", "x: 1\n")
    sub.commit("sub change")
    sub.write("inner.yaml", "a: 3\n")  # dirty inside the submodule: not our business

    report = repo.check_json()

    (file,) = report["files"]
    assert (file["path"], file["status"]) == ("libs/sub", "modified")
    assert "submodule" in file["skipped"]
    assert any(f["rule"] == "CFG-002" and f["path"] == "libs/sub" for f in report["findings"])
    staged = repo.check_json("--staged")
    assert staged["files"] == []


def test_untracked_nested_repository_is_not_descended(based, tmp_path):
    nested = init_repo(based.root / "vendor/nested")
    nested.write("x.yaml", "a: 1\n")
    nested.commit("nested")

    report = based.check_json()

    (file,) = report["files"]
    assert file["path"] == "vendor/nested"
    assert "repository" in file["skipped"]


def test_outside_a_git_repository(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    repo = GitRepo(plain)
    result = repo.cli("check", env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    _one_line_error(result, "not a git repository: ")


def test_dash_c_to_a_missing_directory(repo, tmp_path):
    _one_line_error(repo.cli("check", "-C", str(tmp_path / "nope")), str(tmp_path / "nope"))


# --- file content edge cases --------------------------------------------------------------------

def test_binary_file_is_skipped_with_an_info_finding(based):
    based.write("deploy/prod/blob.yaml", b"a: 1\n\0\x01\x02")

    report = based.check_json()

    (file,) = report["files"]
    assert file["skipped"] == "binary file"
    assert file["changes"] == [] and file["hunks"] == []
    (finding,) = [f for f in report["findings"] if f["path"] == "deploy/prod/blob.yaml"]
    assert (finding["rule"], finding["severity"]) == ("CFG-002", "info")
    assert "binary file" in finding["message"]


@pytest.mark.parametrize("mode", ["worktree", "commit"])
def test_invalid_utf8_names_the_byte_offset(based, mode):
    based.write(CONFIG, deployment(replicas=6).encode() + b"# caf\xe9\n")
    args = ["--commit", based.commit("latin-1")] if mode == "commit" else []

    (file,) = based.check_json(*args)["files"]

    offset = len(deployment(replicas=6).encode()) + len(b"# caf")
    assert file["skipped"] == f"not valid UTF-8 (byte {offset})"


def test_invalid_utf8_on_the_old_side_only(based):
    based.write("old.yaml", b"a: \xff\n")
    based.commit("bad")
    based.write("old.yaml", "a: 1\n")
    (file,) = based.check_json()["files"]
    assert file["skipped"] == "not valid UTF-8 (byte 3)"


CAPPED = "version: 1\nlimits: {max_file_bytes: 1000}\n"
BIG = "items:\n" + "".join(f"  - name: item{i}\n" for i in range(200))


@pytest.mark.parametrize("mode", ["worktree", "staged", "commit"])
def test_file_over_the_size_cap_is_skipped(repo, mode):
    repo.write(".changegate.yaml", CAPPED)
    repo.write("small.yaml", "a: 1\n")
    repo.commit("policy")
    repo.write("big.yaml", BIG)
    repo.write("small.yaml", "a: 2\n")
    args = []
    if mode != "worktree":
        repo.git("add", "-A")
        args = ["--staged"]
    if mode == "commit":
        args = ["--commit", repo.commit("big")]

    files = _files(repo.check_json(*args))

    size = len(BIG.encode())
    assert files["big.yaml"]["skipped"] == f"{size:,} bytes is over the 1,000-byte size cap"
    assert "skipped" not in files["small.yaml"]


def test_size_cap_from_the_change_itself_is_not_trusted(repo):
    repo.write(".changegate.yaml", "version: 1\n")
    repo.commit("policy")
    repo.write(".changegate.yaml", CAPPED)
    repo.write("big.yaml", BIG)
    assert "skipped" not in _files(repo.check_json())["big.yaml"]


def test_blob_over_the_cap_is_never_read(repo, monkeypatch):
    """In process: the big blob's content never leaves git, on either side."""
    from analyzers import changes
    from analyzers.gitio import Git

    repo.write("big.yaml", BIG)
    repo.commit("big")
    repo.write("big.yaml", BIG + "  - name: more\n")
    repo.git("add", "-A")

    read, decoded = [], []
    real_read, real_decode = Git.read_blobs, changes.decode
    monkeypatch.setattr(Git, "read_blobs", lambda self, specs: read.extend(specs) or real_read(self, specs))
    monkeypatch.setattr(changes, "decode", lambda data: decoded.append(data) or real_decode(data))

    git = Git.discover(str(repo.root))
    changeset = changes.collect(git, changes.change_base(git), staged=True, max_file_bytes=1000)

    (change,) = changeset.files
    assert "size cap" in change.skipped
    assert not [s for s in read if s.endswith("big.yaml")]
    assert decoded == []


def test_symlink_changes_do_not_crash(based):
    based.write("target-a.yaml", "a: 1\n")
    based.write("target-b.yaml", "b: 1\n")
    os.symlink("target-a.yaml", based.root / "link.yaml")
    os.symlink("target-a.yaml", based.root / "becomes-file.yaml")
    based.write("becomes-link.yaml", "c: 1\n")
    based.commit("links")
    (based.root / "link.yaml").unlink()
    os.symlink("target-b.yaml", based.root / "link.yaml")  # retarget
    (based.root / "becomes-file.yaml").unlink()
    based.write("becomes-file.yaml", "d: 1\n")  # symlink -> file
    (based.root / "becomes-link.yaml").unlink()
    os.symlink("/etc/passwd", based.root / "becomes-link.yaml")  # file -> symlink out of the repo
    os.symlink("missing.yaml", based.root / "dangling.yaml")  # new dangling link

    for args in ((), ("--staged",)):
        if args:
            based.git("add", "-A")
        result = based.cli("check", "--format", "json", "--fail-on", "never", *args)
        assert result.code == 0, result.stderr
        files = _files(result.json())
        # where a link points is reported; the target is never read in its place
        assert {p: f.get("skipped") for p, f in files.items()} == {
            "becomes-file.yaml": "was a symbolic link to target-a.yaml",
            "becomes-link.yaml": "symbolic link to /etc/passwd",
            "dangling.yaml": "symbolic link to missing.yaml",
            "link.yaml": "symbolic link to target-b.yaml"}
        assert "root:" not in result.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_file_in_the_worktree_does_not_hang(based):
    os.unlink(based.root / CONFIG)
    os.mkfifo(based.root / CONFIG)
    result = based.cli("check", "--format", "json", "--fail-on", "never")
    assert result.code == 0, result.stderr
    (file,) = result.json()["files"]
    assert file["skipped"] == "not a regular file"


# --- nothing from the analysed repository is executed ---------------------------------------------

def _marker_script(repo: GitRepo, tmp_path: Path, name: str) -> tuple[Path, Path]:
    marker = tmp_path / f"{name}-ran"
    script = tmp_path / f"{name}.sh"
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\ncat\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, marker


@pytest.mark.parametrize("setting", ["filter", "fsmonitor", "textconv", "external-diff"])
def test_repository_config_never_runs_programs(based, tmp_path, setting):
    script, marker = _marker_script(based, tmp_path, setting)
    based.write(".gitattributes", "*.yaml filter=evil diff=evil\n")
    based.commit("attributes")
    config = {"filter": [("filter.evil.clean", script), ("filter.evil.required", "true")],
              "fsmonitor": [("core.fsmonitor", script)],
              "textconv": [("diff.evil.textconv", script)],
              "external-diff": [("diff.external", script), ("diff.evil.command", script)]}[setting]
    for key, value in config:
        based.git("config", key, str(value))
    based.write(CONFIG, deployment(replicas=2))
    os.utime(based.root / CONFIG, (0, 0))  # stale stat info: git must re-read the file

    report = based.check_json()

    assert not marker.exists()
    assert _values(_files(report)[CONFIG]) == [("spec.replicas", "replace", 6, 2)]


def test_signed_commits_are_not_verified_with_a_repository_program(based, tmp_path):
    script, marker = _marker_script(based, tmp_path, "gpg")
    tree = based.git("rev-parse", "HEAD^{tree}")
    parent = based.git("rev-parse", "HEAD")
    body = (f"tree {tree}\nparent {parent}\nauthor a <a@b> 1 +0000\ncommitter a <a@b> 1 +0000\n"
            "gpgsig -----BEGIN PGP SIGNATURE-----\n \n xx\n -----END PGP SIGNATURE-----\n\nsigned FOO-1\n")
    path = tmp_path / "commit.txt"
    path.write_text(body)
    signed = based.git("hash-object", "-t", "commit", "-w", str(path))
    based.git("branch", "-q", "feature", signed)
    based.git("checkout", "-q", "feature")
    based.git("config", "log.showSignature", "true")
    based.git("config", "gpg.program", str(script))

    based.check_json("--base", "main")

    assert not marker.exists()


# --- determinism --------------------------------------------------------------------------------

def test_same_state_gives_byte_identical_json(based):
    based.write(CONFIG, deployment(replicas=0, tag="2.0.0"))
    based.write("deploy/prod/über new.yaml", "replicas: 1\n")
    based.write("bin.dat", b"\0\0")
    based.git("mv", ".gitignore", ".gitignore-renamed")

    first = based.cli("check", "--format", "json", "--fail-on", "never")
    second = based.cli("check", "--format", "json", "--fail-on", "never")

    assert first.code == second.code == 0, first.stderr
    assert first.stdout == second.stdout
    assert first.stdout.encode("utf-8") == second.stdout.encode("utf-8")


@pytest.mark.parametrize("args", [(), ("--staged",)])
def test_unresolved_merge_conflict_is_listed_not_parsed(based, args):
    based.git("checkout", "-q", "-b", "other")
    based.write(CONFIG, deployment(replicas=2))
    based.commit("other")
    based.git("checkout", "-q", "main")
    based.write(CONFIG, deployment(replicas=3))
    based.commit("main")
    based.git("merge", "-q", "other", check=False)  # conflicts

    report = based.check_json(*args)

    (file,) = report["files"]
    assert file["path"] == CONFIG
    assert "unmerged" in file["skipped"]
