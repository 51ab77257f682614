"""Review requirements end to end in real repositories: policy rules (policy-bot semantics),
defaults without a policy, gate changes, distinct teams, and the suggested reviewer set."""
from analyzers.model import Requirement
from analyzers.requirements import suggest

from conftest import deployment

POLICY = """\
version: 1
services:
  - {name: checkout, paths: ["deploy/*/checkout*.yaml"], tier: 1, owners: ["@shop/checkout"]}
review:
  - name: tier-1 two teams
    if: {tier: [1], environment: [prod]}
    require: {approvals: 2, from: ["@shop/sre", "@shop/checkout", "@shop/payments"], distinct_teams: true}
  - name: sre for prod control plane
    if: {kind: [control-plane], environment: [prod]}
    require: {approvals: 1, from: ["@shop/sre"]}
  - name: docs only
    if: {paths: ["docs/**"]}
    require: {approvals: 1}
"""


def reviews(report):
    return {r["rule"]: r for r in report["requirements"] if r["kind"] == "review"}


def test_policy_rules_apply_only_where_their_if_holds(repo):
    repo.write(".changegate.yaml", POLICY)
    repo.write("deploy/prod/checkout.yaml", deployment(6))
    repo.write("deploy/staging/checkout.yaml", deployment(2))
    repo.commit("base")
    repo.write("deploy/prod/checkout.yaml", deployment(2))
    repo.write("deploy/staging/checkout.yaml", deployment(1))
    report = repo.check_json()
    got = reviews(report)
    assert set(got) == {"code owners", "tier-1 two teams", "sre for prod control plane"}  # `docs only` skipped
    two = got["tier-1 two teams"]
    assert (two["approvals"], two["distinct_teams"], two["files"]) == (2, True, ["deploy/prod/checkout.yaml"])
    # traced: the policy line of the rule, then the file and the finding that made its `if` hold
    assert two["sources"][0] == {"path": ".changegate.yaml", "line": 5, "rule": "tier-1 two teams"}
    assert two["sources"][1]["path"] == "deploy/prod/checkout.yaml"
    assert two["sources"][1]["finding"] == "CAP-001" and two["sources"][1]["line"] > 1
    owners = got["code owners"]
    assert owners["from"] == ["@shop/checkout"]
    assert owners["files"] == ["deploy/prod/checkout.yaml", "deploy/staging/checkout.yaml"]
    # fewest reviewers: @shop/sre and @shop/checkout cover all three rules (two distinct teams)
    assert report["reviewers"]["suggested"] == ["@shop/checkout", "@shop/sre"]
    assert report["reviewers"]["any_more"] == 0


def test_defaults_without_a_policy_ask_two_people_at_high_blast_radius(repo):
    repo.write("deploy/prod/api.yaml", deployment(6))
    repo.commit("base")
    repo.write("deploy/prod/api.yaml", deployment(0))  # scale to zero in prod
    report = repo.check_json()
    got = reviews(report)
    assert set(got) == {"two-person review at high blast radius"}
    assert got["two-person review at high blast radius"]["approvals"] == 2
    assert got["two-person review at high blast radius"]["sources"][0]["path"] == "(built-in default)"
    assert report["reviewers"] == {"suggested": [], "any_more": 2, "covers": {}}
    text = repo.cli("check").stdout
    assert "→ ask" in text and "2 reviewers of your choice" in text


def test_policy_edit_that_deletes_its_own_rules_is_judged_by_the_base_and_needs_review(repo):
    repo.write(".changegate.yaml", POLICY)
    repo.write("CODEOWNERS", "/.changegate.yaml @shop/platform-leads\n")
    repo.write("deploy/prod/checkout.yaml", deployment(6))
    repo.commit("base")
    repo.write(".changegate.yaml", "version: 1\n")  # the change tries to remove every rule
    repo.write("deploy/prod/checkout.yaml", deployment(2))
    report = repo.check_json()
    got = reviews(report)
    assert "tier-1 two teams" in got  # still enforced: the base revision's policy decides
    gate = got["gate change: .changegate.yaml"]
    assert gate["from"] == ["@shop/platform-leads"] and gate["approvals"] == 1
    assert gate["sources"][0]["finding"] == "POL-001"
    assert "@shop/platform-leads" in report["reviewers"]["suggested"]


def test_unowned_gate_file_still_needs_a_second_person(repo):
    repo.write(".changegate.yaml", "version: 1\n")
    repo.commit("base")
    repo.write(".changegate.yaml", "version: 1\nreview: []\n")
    got = reviews(repo.check_json())
    gate = got["gate change: .changegate.yaml"]
    assert gate["from"] == [] and "no owner" in gate["reasons"][0]


def test_policy_rejects_distinct_teams_it_cannot_satisfy(repo):
    repo.write(".changegate.yaml", "version: 1\nreview:\n  - name: x\n    require: {approvals: 2, from: ['@a/b'],"
                                   " distinct_teams: true}\n")
    repo.commit("base")
    repo.write("x.yaml", "a: 1\n")
    result = repo.cli("check")
    assert result.code == 2
    assert ".changegate.yaml:4" in result.stderr and "review[0].require.distinct_teams" in result.stderr


def review(rule, approvals, who=(), distinct=False):
    return Requirement.of("review", rule=rule, approvals=approvals, **{"from": list(who)}, distinct_teams=distinct)


def test_suggest_prefers_one_reviewer_who_covers_several_requirements():
    reqs = [review("a", 1, ["@alice", "@org/sre"]), review("b", 1, ["@org/sre", "@bob"]), review("c", 1, ["@carol"])]
    assert suggest(reqs)["suggested"] == ["@carol", "@org/sre"]


def test_suggest_counts_users_once_and_teams_by_distinct_team():
    reqs = [review("two people", 2, ["@alice", "@bob", "@carol"]),
            review("two teams", 2, ["@org/a", "@org/b", "@org/c"], distinct=True)]
    got = suggest(reqs)
    assert len([p for p in got["suggested"] if not p.startswith("@org/")]) == 2
    assert len([p for p in got["suggested"] if p.startswith("@org/")]) == 2


def test_suggest_never_names_the_author_and_reports_what_only_the_author_could_meet():
    got = suggest([review("mine", 1, ["@alice"]), review("any", 2)], author="@alice")
    assert got["suggested"] == [] and got["unmet"] == ["mine"] and got["any_more"] == 2


def test_suggest_scales_past_the_exact_search():
    reqs = [review(f"r{i}", 1, [f"@u{i}", "@org/big"]) for i in range(30)]
    assert suggest(reqs)["suggested"] == ["@org/big"]


def ticket(report):
    return next(r for r in report["requirements"] if r["kind"] == "ticket")


def risky_change(repo, branch="main"):
    repo.write("deploy/prod/api.yaml", deployment(6))
    repo.commit("base")
    if branch != "main":
        repo.git("checkout", "-q", "-b", branch)
    repo.write("deploy/prod/api.yaml", deployment(0))


def test_ticket_in_the_branch_name_meets_the_requirement(repo):
    risky_change(repo, "feature/ops-1234-drain-api")
    got = ticket(repo.check_json())
    assert (got["required"], got["present"], got["ticket"], got["found_in"]) == (True, True, "OPS-1234", "branch")
    assert "ticket        required, found OPS-1234 in branch" in repo.cli("check").stdout


def test_missing_ticket_blocks_and_says_where_it_looked(repo):
    risky_change(repo, "drain-api")
    report = repo.check_json()
    got = ticket(report)
    assert (got["required"], got["present"]) == (True, False) and report["verdict"] == "blocked"
    assert "deploy/prod/api.yaml" in got["reasons"][0]


def test_exemption_needs_a_reason(repo):
    risky_change(repo, "drain-api")
    repo.commit("drain api\n\nChange-Ticket-Exempt: TODO")
    assert ticket(repo.check_json("--base", "main"))["present"] is False
    assert "exemption without a reason" in " ".join(ticket(repo.check_json("--base", "main"))["notes"])
    repo.git("commit", "-q", "--amend", "-m", "drain api\n\nChange-Ticket-Exempt: region evacuation during SEV-1")
    got = ticket(repo.check_json("--base", "main"))
    assert got["exempt_reason"] == "region evacuation during SEV-1"
    assert "required, exempt: region evacuation during SEV-1" in repo.cli("check", "--base", "main").stdout


def test_gitlab_sections_keep_their_approval_counts_and_optional_sections_ask_nothing(repo):
    repo.write(".changegate.yaml", "version: 1\nownership: {codeowners: gitlab}\n")
    repo.write(".gitlab/CODEOWNERS", "* @shop/devs\n\n[Database][2] @shop/dba\n/db/\n\n^[Docs] @shop/writers\n*.md\n")
    repo.write("db/schema.yaml", "tables: 3\n")
    repo.write("db/README.md", "# db\n")
    repo.commit("base")
    repo.write("db/schema.yaml", "tables: 4\n")
    repo.write("db/README.md", "# the db\n")
    got = reviews(repo.check_json())
    assert got["code owners [Database]"]["approvals"] == 2
    assert got["code owners [Database]"]["from"] == ["@shop/dba"]
    assert got["code owners [Database]"]["files"] == ["db/README.md", "db/schema.yaml"]
    assert got["code owners"]["from"] == ["@shop/devs"]  # rules before the first section
    assert not any("Docs" in name for name in got)  # ^[Docs] is optional


def test_codeowners_over_three_mib_gives_no_owners_rather_than_failing(repo):
    big = "".join(f"/generated/dir{i}/ @shop/team{i % 7}\n" for i in range(120_000))
    assert len(big) > 3 * 1024 * 1024
    repo.write(".github/CODEOWNERS", big + "/deploy/ @shop/sre\n")
    repo.write("deploy/app.yaml", "a: 1\n")
    repo.commit("base")
    repo.write("deploy/app.yaml", "a: 2\n")
    result = repo.cli("check", "--format", "json")
    assert result.code == 0
    assert not [r for r in result.json()["requirements"] if r["kind"] == "review" and r["rule"] == "code owners"]
    owners = repo.cli("owners", "deploy/app.yaml")
    assert "does not load a CODEOWNERS file over 3 MB" in owners.stdout and "no owners" in owners.stdout
