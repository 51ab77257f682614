"""OWN-001: an edited CODEOWNERS/OWNERS line the forge would skip is reported on that line."""


def findings(repo, rule="OWN-001"):
    return [(f["path"], f["line"], f["severity"]) for f in repo.check_json()["findings"] if f["rule"] == rule]


def test_new_unsupported_and_invalid_codeowners_lines_are_reported(repo):
    repo.write(".github/CODEOWNERS", "*.md @docs\n!old.md @docs\n")  # a pre-existing problem
    repo.commit("base")
    repo.write(".github/CODEOWNERS", "*.md @docs\n!old.md @docs\n/deploy/ sre-team\n/infra/[ab]/ @org/infra\n")
    got = findings(repo)
    # line 2 was already there: not this change's doing; 3 skips the whole rule, 4 matches literally
    assert got == [(".github/CODEOWNERS", 3, "error"), (".github/CODEOWNERS", 4, "warning")]


def test_gitlab_dialect_from_the_policy_accepts_sections(repo):
    repo.write(".changegate.yaml", "version: 1\nownership: {codeowners: gitlab}\n")
    repo.write("CODEOWNERS", "/a/ @x\n")
    repo.commit("base")
    repo.write("CODEOWNERS", "/a/ @x\n[Database][2] @dba\n/db/\n!/db/docs/\n")
    assert findings(repo) == []
    repo.write("CODEOWNERS", "/a/ @x\n[Database\n")
    assert findings(repo) == [("CODEOWNERS", 2, "error")]


def test_broken_owners_yaml_is_reported(repo):
    repo.write("deploy/OWNERS", "approvers: [alice]\n")
    repo.commit("base")
    repo.write("deploy/OWNERS", "approvers: [alice\n")
    got = findings(repo)
    assert len(got) == 1 and got[0][0] == "deploy/OWNERS" and got[0][2] == "error"
