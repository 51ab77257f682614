"""Change tickets: where they are found, what is not a ticket, exemptions that need a reason."""
import re

import pytest

from analyzers.changerecord import change_records
from analyzers.changes import change_base, collect
from analyzers.gitio import Git
from analyzers.policy import Policy, load_policy
from analyzers.tickets import DEFAULT_PATTERNS, JIRA_PATTERN, find_ticket, match_ticket


def ticket(**kwargs):
    kwargs.setdefault("branch", None)
    return find_ticket(**kwargs)


# ------------------------------------------------------------------ where
def test_jira_key_in_the_branch_name():
    r = ticket(branch="feature/ABC-123-fix-replicas")
    assert (r.present, r.ticket, r.found_in, r.where) == (True, "ABC-123", "branch", "feature/ABC-123-fix-replicas")
    assert r.notes == []


@pytest.mark.parametrize("branch", ["abc-123-fix", "feature/abc-123-fix", "jdoe/abc-123", "Abc-123_scale"])
def test_lower_case_key_in_a_branch_name_is_reported_upper_case(branch):
    r = ticket(branch=branch)
    assert (r.ticket, r.found_in) == ("ABC-123", "branch")
    assert any("lower-case branch name" in n for n in r.notes)


@pytest.mark.parametrize("branch", ["hotfix-2", "release-2024-01", "fix/scale-to-3", "feature/add-2-replicas",
                                    "v1-2", "dependabot/pip/pyyaml-6", "main", "renovate/tree-sitter-0.x"])
def test_ordinary_lower_case_branch_words_are_not_tickets(branch):
    assert not ticket(branch=branch).present


def test_lower_case_is_folded_only_in_branch_names():
    assert not ticket(commit_messages=["scale down for abc-123"]).present
    assert not ticket(records=[(".changes/x.md", "## Summary\nfor abc-123\n")]).present


def test_key_in_the_commit_message_text():
    r = ticket(branch="main", commit_messages=["Scale the canary down\n\nAs agreed in OPS-42."])
    assert (r.ticket, r.found_in, r.where) == ("OPS-42", "commits", 'commit "Scale the canary down"')


def test_commit_id_names_the_commit_when_given():
    r = ticket(commit_messages=[("0123456789abcdef0123", "Scale down OPS-42")])
    assert r.where == "commit 0123456789ab"


@pytest.mark.parametrize("key", ["Ticket", "Change", "Refs", "Jira", "Fixes", "change-request"])
def test_trailer_beats_the_branch_and_the_message_text(key):
    message = f"Mention OLD-1 in passing\n\nSigned-off-by: A <a@example.com>\n{key}: NEW-7"
    r = ticket(branch="feature/BR-5-x", commit_messages=[message])
    assert (r.ticket, r.found_in) == ("NEW-7", "trailer")
    assert r.where.endswith(f"trailer {key}")
    assert r.others == ["BR-5", "OLD-1"]


def test_servicenow_change_number_in_a_trailer():
    r = ticket(commit_messages=["Raise the HPA ceiling\n\nChange: CHG0012345"])
    assert (r.ticket, r.found_in) == ("CHG0012345", "trailer")


def test_servicenow_numbers_need_seven_digits():
    assert match_ticket("CHG0012345") == "CHG0012345"
    assert match_ticket("CHG12345678") == "CHG12345678"
    assert match_ticket("CHG123456") is None
    assert match_ticket("see CHG0012345 and ABC-1") == "CHG0012345"  # the earliest in the text wins


def test_change_record_front_matter_beats_branch_and_body():
    record = "---\nticket: REC-9\nrisk: high\n---\n## Summary\nFollows BODY-3.\n"
    r = ticket(branch="feature/BR-1", records=[(".changes/rec.md", record)])
    assert (r.ticket, r.found_in, r.where) == ("REC-9", "change_records", ".changes/rec.md front matter")
    assert r.others == ["BODY-3", "BR-1"]


def test_change_record_body_when_the_front_matter_has_no_ticket():
    record = "---\nticket: see the channel\n---\n## Summary\nCovered by `CFG-77` value, for BODY-3.\n"
    r = ticket(records=[(".changes/rec.md", record)])
    assert (r.ticket, r.found_in, r.where) == ("BODY-3", "change_records", ".changes/rec.md")
    assert any("matches no ticket pattern" in n for n in r.notes)


def test_front_matter_ticket_may_be_a_list():
    r = ticket(records=[(".changes/r.md", "---\nticket: [CHG0000001, OPS-2]\n---\n")])
    assert (r.ticket, r.others) == ("CHG0000001", ["OPS-2"])


def test_broken_front_matter_is_a_note_not_an_exception():
    r = ticket(records=[(".changes/r.md", "---\nticket: [unclosed\n---\n## Summary\nOPS-5\n")])
    assert r.ticket == "OPS-5" and any("invalid YAML" in n for n in r.notes)


def test_look_in_limits_the_sources():
    messages = ["Fixes OPS-1"]
    assert ticket(branch="feature/BR-2", commit_messages=messages, look_in=["commits"]).ticket == "OPS-1"
    r = ticket(branch="main", commit_messages=messages, look_in=["branch"])
    assert not r.present and r.searched == ("branch",)


# ------------------------------------------------------------------ what is not a ticket
@pytest.mark.parametrize("text", [
    "Patch CVE-2024-1234 in the base image", "Encode as UTF-8", "Pin the digest (SHA-256)", "Dates in ISO-8601",
    "Per RFC-1234", "Advisory GHSA-2234-abcd-efgh", "CWE-79", "PEP-8 style", "TLS-13 only", "HTTP-2 upstreams",
    "x86 build: X86-64", "UTC-5 window", "bump to v2-3",
])
def test_well_known_non_ticket_ids_are_not_tickets(text):
    r = ticket(commit_messages=[text])
    assert not r.present, r.ticket


def test_a_real_key_next_to_a_cve_is_found():
    assert ticket(commit_messages=["Patch CVE-2024-1234 (UTF-8 names), tracked in SEC-88"]).ticket == "SEC-88"


def test_our_own_rule_ids_are_not_tickets():
    r = ticket(commit_messages=["Waive CAP-002 and K8S-001 for the canary"])
    assert not r.present


def test_ignore_replaces_the_rule_ids():
    assert ticket(commit_messages=["CAP-002"], ignore=["ABC-1"]).ticket == "CAP-002"
    assert not ticket(commit_messages=["ABC-1"], ignore=["abc-1"]).present


# ------------------------------------------------------------------ custom patterns
def test_custom_patterns_replace_the_defaults():
    r = ticket(branch="feature/ABC-1", commit_messages=["Refs: OPS-12"], patterns=[r"OPS-[0-9]+"])
    assert r.ticket == "OPS-12" and r.others == []


def test_deny_list_applies_to_the_default_pattern_only():
    broad = [r"[A-Z]+-[0-9]+"]
    assert ticket(commit_messages=["CVE-2024-1234"], patterns=broad).ticket == "CVE-2024"
    # the default Jira pattern keeps its deny-list wherever it is listed, compiled or not
    both = [re.compile(JIRA_PATTERN), r"CHG[0-9]{7,}"]
    assert not ticket(commit_messages=["CVE-2024-1234"], patterns=both).present


def test_named_group_ticket_picks_part_of_the_match():
    r = ticket(commit_messages=["Change request #4711 approved"], patterns=[r"request #(?P<ticket>[0-9]+)"])
    assert r.ticket == "4711"


def test_lower_case_branch_with_a_custom_pattern():
    assert ticket(branch="ops-12-raise-limits", patterns=[r"OPS-[0-9]+"]).ticket == "OPS-12"


def test_policy_patterns_work_as_given():
    policy = load_policy("tickets:\n  patterns: ['INC[0-9]{6}']\n  look_in: [commits]\n")
    r = ticket(branch="feature/ABC-1", commit_messages=["Hotfix for INC000123"],
               patterns=policy.ticket_patterns, look_in=policy.ticket_look_in)
    assert (r.ticket, r.searched) == ("INC000123", ("commits",))
    assert [p.pattern for p in Policy().ticket_patterns] == list(DEFAULT_PATTERNS)


# ------------------------------------------------------------------ exemptions
@pytest.mark.parametrize("message,reason", [
    ("Fix typo in a comment\n\nChange-Ticket-Exempt: comment-only change", "comment-only change"),
    ("Fix typo [no-ticket: comment only]", "comment only"),
    ("[NO-JIRA: docs] Update the runbook link", "docs"),
])
def test_exemption_with_a_reason(message, reason):
    r = ticket(branch="main", commit_messages=[message], required=True)
    assert (r.present, r.exempt_reason, r.satisfied) == (False, reason, True)
    assert r.fields()["exempt_reason"] == reason


@pytest.mark.parametrize("message", [
    "Fix typo [no-ticket]", "Fix typo\n\nChange-Ticket-Exempt:", "Fix [no-ticket: n/a]", "Fix [no-ticket: -]",
    "Fix\n\nNo-Ticket: TODO",
])
def test_exemption_without_a_reason_is_ignored_and_said_so(message):
    r = ticket(branch="main", commit_messages=[message], required=True)
    assert r.exempt_reason is None and not r.satisfied
    assert any(n.startswith("exemption without a reason ignored") for n in r.notes)


def test_exemptions_can_be_switched_off():
    r = ticket(commit_messages=["[no-ticket: docs only]"], required=True, allow_exemptions=False)
    assert r.exempt_reason is None and any("allows none" in n for n in r.notes)


def test_a_ticket_makes_an_exemption_moot():
    r = ticket(commit_messages=["OPS-1 [no-ticket: docs only]"], required=True)
    assert r.present and r.satisfied and any("not needed" in n for n in r.notes)


def test_not_required_is_satisfied_without_a_ticket():
    r = ticket(branch="main")
    assert r.satisfied and not r.present and r.fields()["required"] is False


# ------------------------------------------------------------------ from a real repository
def _changeset(repo, base="main"):
    git = Git.discover(str(repo.root))
    return collect(git, change_base(git, base), cwd=str(repo.root))


def test_found_in_a_real_repository_change(repo):
    repo.write("deploy/prod/api.yaml", "spec:\n  replicas: 3\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "jdoe/scale-down")
    repo.write("deploy/prod/api.yaml", "spec:\n  replicas: 2\n")
    repo.commit("Scale down for the quiet season\n\nChange: CHG0012345")
    repo.write(".changes/scale.md", "---\nticket: OPS-7\n---\n## Summary\nscale down\n")
    cs = _changeset(repo)
    records = change_records(cs, ".changes")
    assert [p for p, _ in records] == [".changes/scale.md"]
    r = find_ticket(branch=cs.branch, commit_messages=cs.commit_messages, records=records,
                    patterns=Policy().ticket_patterns, look_in=Policy().ticket_look_in, required=True)
    assert (r.ticket, r.found_in, r.others) == ("CHG0012345", "trailer", ["OPS-7"])
    r = find_ticket(branch=cs.branch, commit_messages=cs.commit_messages, records=records,
                    look_in=("branch", "change_records"))
    assert (r.ticket, r.found_in) == ("OPS-7", "change_records")


def test_lower_case_branch_of_a_real_repository(repo):
    repo.write("a.yaml", "a: 1\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature/pay-881-retry-budget")
    repo.write("a.yaml", "a: 2\n")
    repo.commit("Retry budget [no-ticket]")
    cs = _changeset(repo)
    r = find_ticket(branch=cs.branch, commit_messages=cs.commit_messages, required=True)
    assert (r.ticket, r.found_in) == ("PAY-881", "branch")
    assert any("exemption without a reason ignored" in n for n in r.notes)
