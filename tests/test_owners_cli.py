"""`changegate owners`: real git repositories, ownership read at the base revision."""
import argparse
import json
import os

import pytest

import server.cli
from analyzers.errors import ChangeGateError
from analyzers.owners import load_ownership
from analyzers.owners.gitsource import worktree_source
from server import cmd_owners

WIRED = "owners" in server.cli.build_parser()._subparsers._group_actions[0].choices
needs_wiring = pytest.mark.skipif(not WIRED, reason="`owners` is not wired into server/cli.py yet")


def owners(capsysbinary, *argv):
    """Run the subcommand through its own parser (as server/cli.py will)."""
    parser = argparse.ArgumentParser()
    cmd_owners.add_parser(parser.add_subparsers(dest="command"))
    code = cmd_owners.run(parser.parse_args(["owners", *argv]))
    out = capsysbinary.readouterr().out.decode("utf-8")
    return code, out


@pytest.fixture
def shop(repo):
    repo.write(".github/CODEOWNERS", "* @shop/all\n/deploy/ @shop/sre\n!tmp/ @nobody\n")
    repo.write("deploy/prod/app.yaml", "replicas: 3\n")
    repo.write("services/checkout/catalog-info.yaml",
               "kind: Component\nmetadata:\n  name: checkout\n  labels: {changegate.dev/tier: tier-1}\n"
               "spec:\n  owner: group:checkout\n")
    repo.write("infra/OWNERS", "approvers: [erin]\n")
    repo.commit("base")
    return repo


def test_owners_are_read_at_the_base_not_from_the_change(shop, capsysbinary):
    shop.git("checkout", "-q", "-b", "feature")
    shop.write(".github/CODEOWNERS", "* @me\n")  # committed on the branch ...
    shop.write("infra/OWNERS", "approvers: [me]\n")
    shop.commit("take over")
    shop.write("CODEOWNERS", "* @me-too\n")  # ... and uncommitted
    code, out = owners(capsysbinary, "-C", str(shop.root), "--format", "json", "deploy/prod/app.yaml",
                       "infra/main.tf")
    data = json.loads(out)
    assert code == 0
    assert data["paths"]["deploy/prod/app.yaml"]["owners"] == ["@shop/sre"]
    assert data["paths"]["deploy/prod/app.yaml"]["line"] == 2
    assert data["paths"]["infra/main.tf"]["owners"] == ["@shop/all", "@erin"]
    assert data["base"] == {"ref": "main", "commit": shop.git("rev-parse", "main")}
    assert (data["version"], data["dialect"], data["codeowners"]) == (1, "github", ".github/CODEOWNERS")
    assert [(d["line"], d["code"]) for d in data["diagnostics"]] == [(3, "unsupported-syntax")]


def test_text_output_names_owners_and_the_deciding_line(shop, capsysbinary):
    code, out = owners(capsysbinary, "-C", str(shop.root), "deploy/prod/app.yaml", "services/checkout/api.py")
    assert code == 0
    assert "deploy/prod/app.yaml" in out and "@shop/sre  (.github/CODEOWNERS:2 /deploy/)" in out
    assert "tier 1, catalog owner group:checkout  (services/checkout/catalog-info.yaml)" in out
    assert ".github/CODEOWNERS:3: warning: `!` negation" in out


def test_paths_are_relative_to_where_you_stand(shop, capsysbinary):
    _, out = owners(capsysbinary, "-C", str(shop.root / "deploy"), "--format", "json", "prod/app.yaml")
    assert list(json.loads(out)["paths"]) == ["deploy/prod/app.yaml"]
    with pytest.raises(ChangeGateError, match="not a file in the repository"):
        owners(capsysbinary, "-C", str(shop.root), "../elsewhere.txt")


def test_codeowners_file_from_disk(shop, capsysbinary, tmp_path):
    mine = tmp_path / "MY_CODEOWNERS"
    mine.write_text("/deploy/prod/ @prod-team\n")
    _, out = owners(capsysbinary, "-C", str(shop.root), "--codeowners", str(mine), "--format", "json",
                    "deploy/prod/app.yaml")
    data = json.loads(out)
    assert data["codeowners"] == str(mine)
    assert data["paths"]["deploy/prod/app.yaml"]["owners"] == ["@prod-team"]
    with pytest.raises(ChangeGateError, match="cannot read CODEOWNERS"):
        owners(capsysbinary, "-C", str(shop.root), "--codeowners", str(tmp_path / "missing"), "x")


def test_gitlab_dialect_from_the_policy_and_sections_in_text(repo, capsysbinary):
    repo.write(".changegate.yaml", "version: 1\nownership: {codeowners: gitlab}\n")
    repo.write("CODEOWNERS", "* @admin\n\n[Database][2] @dba\nmodel/db/\n\n^[Docs]\n*.md @docs\n")
    repo.commit("base")
    _, out = owners(capsysbinary, "-C", str(repo.root), "model/db/README.md")
    assert "gitlab CODEOWNERS: CODEOWNERS" in out
    assert "model/db/README.md  @admin @dba @docs  (CODEOWNERS:1 *)" in out
    assert "    Database [2 approvals]: @dba  (CODEOWNERS:4 model/db/)" in out
    assert "    ^Docs: @docs  (CODEOWNERS:7 *.md)" in out
    _, out = owners(capsysbinary, "-C", str(repo.root), "--dialect", "github", "--format", "json", "model/db/x")
    data = json.loads(out)
    # read as GitHub: `model/db/` has no owners of its own, so it un-owns; `[...]` lines are reported
    assert data["dialect"] == "github"
    assert (data["paths"]["model/db/x"]["owners"], data["paths"]["model/db/x"]["line"]) == ([], 4)
    assert [d["line"] for d in data["diagnostics"]] == [3, 6]


def test_a_repository_without_commits_reads_the_working_tree(repo, capsysbinary):
    repo.write("CODEOWNERS", "* @early\n")
    _, out = owners(capsysbinary, "-C", str(repo.root), "a.txt")
    assert "the working tree (no commits yet)" in out and "a.txt  @early  (CODEOWNERS:1 *)" in out


def test_worktree_reads_stay_inside_the_repository(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "CODEOWNERS").write_text("* @outsider\n")
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink(outside, root / "docs")
    os.symlink(outside / "CODEOWNERS", root / "CODEOWNERS")
    read, _ = worktree_source(str(root))
    assert read("docs/CODEOWNERS") is None  # no walking through a symlinked directory
    assert read("CODEOWNERS") == str(outside / "CODEOWNERS").encode()  # a link reads as its target, as git stores it
    assert read("../outside/CODEOWNERS") is None
    assert load_ownership(read).lookup("x").owners == ()


def test_huge_codeowners_at_the_base_is_reported(repo, capsysbinary):
    repo.write(".github/CODEOWNERS", "* @all\n" + "# pad pad pad pad pad pad pad pad pad pad pad pad\n" * 65000)
    repo.commit("base")
    _, out = owners(capsysbinary, "-C", str(repo.root), "--format", "json", "x")
    data = json.loads(out)
    assert data["paths"]["x"]["owners"] == []
    assert [d["code"] for d in data["diagnostics"]] == ["too-large"]


def test_not_a_repository_is_a_usage_error(tmp_path, capsysbinary):
    with pytest.raises(ChangeGateError, match="not a git repository"):
        owners(capsysbinary, "-C", str(tmp_path), "x")


@needs_wiring
def test_cli_owners_json(shop, capfdbinary, monkeypatch):
    monkeypatch.chdir(shop.root)
    assert server.cli.main(["owners", "--format", "json", "deploy/prod/app.yaml"]) == 0
    data = json.loads(capfdbinary.readouterr().out)
    assert data["paths"]["deploy/prod/app.yaml"]["owners"] == ["@shop/sre"]


@needs_wiring
def test_cli_owners_usage_errors_exit_2(shop, capfdbinary):
    assert server.cli.main(["owners", "-C", str(shop.root), "../x"]) == 2
    assert b"not a file in the repository" in capfdbinary.readouterr().err
    with pytest.raises(SystemExit) as exc:
        server.cli.main(["owners", "--dialect", "gitea", "x"])
    assert exc.value.code == 2
