"""Change records: rendered from a real check, checked for the policy's fields, written by
`changegate change-record` without ever overwriting a record by accident."""
import argparse
import datetime
import os
import time

import pytest

from analyzers.changerecord import (DEFAULT_FIELDS, best_record, check_change_record, record_name,
                                    render_change_record, split_front_matter)
from analyzers.check import run_check
from analyzers.errors import ChangeGateError
from analyzers.tickets import find_ticket
from conftest import deployment
from server import cli
from server.cmd_change_record import add_parser, run

DAY = datetime.date(2026, 1, 2)


@pytest.fixture
def risky(repo):
    """deploy/prod/api.yaml: replicas 3 -> 0 on a branch named after a ticket."""
    repo.write("deploy/prod/api.yaml", deployment(replicas=3))
    repo.write("deploy/prod/cart.yaml", "spec:\n  replicas: 2\n  paused: false\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature/ABC-123-scale-down")
    repo.write("deploy/prod/api.yaml", deployment(replicas=0))
    repo.write("deploy/prod/cart.yaml", "spec:\n  replicas: 2\n  minReadySeconds: 30\n")
    return repo


def _record(repo, **kwargs):
    report = run_check(str(repo.root))
    kwargs.setdefault("ticket", "ABC-123")
    kwargs.setdefault("branch", "feature/ABC-123-scale-down")
    return report, render_change_record(report, created=DAY, **kwargs)


# ------------------------------------------------------------------ rendering
def test_record_from_a_real_check_passes_its_own_check(risky):
    report, text = _record(risky, author="Test User <user@example.com>")
    front, missing, errors = check_change_record(text, DEFAULT_FIELDS)
    assert (missing, errors) == ([], [])
    assert front["ticket"] == "ABC-123" and front["risk"] == "critical"
    assert front["environments"] == ["prod"] and front["created"] == "2026-01-02"
    assert front["files"] == ["deploy/prod/api.yaml", "deploy/prod/cart.yaml"]
    assert front["base"] == report.base.commit[:12] and front["author"] == "Test User <user@example.com>"


def test_summary_says_what_changes_and_why_it_is_risky(risky):
    _, text = _record(risky)
    summary = text.split("## Summary", 1)[1].split("## ", 1)[0]
    assert ("- `deploy/prod/api.yaml`: `spec.replicas` `3` → `0` (CAP-002 scale-to-zero, blast radius critical)"
            in summary)
    assert "`spec.minReadySeconds` added: `30`" in summary and "`spec.paused` removed (was `false`)" in summary


def test_rollback_lists_the_inverse_of_every_change(risky):
    report, text = _record(risky)
    rollback = text.split("## Rollback", 1)[1].split("## ", 1)[0]
    assert "- `deploy/prod/api.yaml`: set `spec.replicas` back to `3` (now `0`)" in rollback
    assert "- `deploy/prod/cart.yaml`: remove `spec.minReadySeconds` (added as `30`)" in rollback
    assert "- `deploy/prod/cart.yaml`: restore `spec.paused`: `false`" in rollback
    assert "git revert" in rollback
    assert f"git checkout {report.base.commit[:12]} -- deploy/prod/api.yaml deploy/prod/cart.yaml" in rollback


def test_blast_radius_validation_and_approvals_come_from_the_report(risky):
    _, text = _record(risky)
    blast = text.split("## Blast radius", 1)[1].split("## ", 1)[0]
    assert blast.startswith("\n\n**critical**") and "`prod environment` +25" in blast
    validation = text.split("## Validation", 1)[1].split("## ", 1)[0]
    assert "kubectl rollout status" in validation and "non-production environment first" in validation
    assert "## Approvals" in text and "2 approvals" in text


def test_added_deleted_and_renamed_files_roll_back_as_files(repo):
    repo.write("deploy/prod/old.yaml", "a: 1\n")
    repo.write("deploy/prod/gone.yaml", "b: 1\n")
    repo.commit("base")
    repo.git("mv", "deploy/prod/old.yaml", "deploy/prod/new.yaml")
    repo.delete("deploy/prod/gone.yaml")
    repo.write("deploy/prod/added.yaml", "c: 1\n")
    repo.commit("shuffle")
    report = run_check(str(repo.root), base="HEAD~1")
    text = render_change_record(report, ticket=None, branch="main", created=DAY)
    rollback = text.split("## Rollback", 1)[1].split("## ", 1)[0]
    assert "- delete `deploy/prod/added.yaml`" in rollback
    assert "- restore `deploy/prod/gone.yaml` from the base revision" in rollback
    assert "- rename `deploy/prod/new.yaml` back to `deploy/prod/old.yaml`" in rollback
    assert "git rm -- deploy/prod/added.yaml deploy/prod/new.yaml" in rollback
    assert check_change_record(text)[1] == []


def test_policy_field_names_become_the_headings(risky):
    fields = ("summary", "rollback_plan", "test_plan", "owner_signoff")
    _, text = _record(risky, fields=fields)
    assert "## Rollback plan" in text and "## Test plan" in text and "## Owner signoff" in text
    # a field the record cannot fill stays a TODO, so the check keeps asking for it
    assert check_change_record(text, fields)[1] == ["owner_signoff"]


def test_unknown_ticket_is_missing_when_the_policy_requires_it(risky):
    _, text = _record(risky, ticket=None)
    assert split_front_matter(text)[0]["ticket"] is None
    assert check_change_record(text, ("summary", "ticket"))[1] == ["ticket"]


def test_values_that_would_break_markdown_are_quoted(repo):
    repo.write("deploy/prod/x.yaml", "cmd: a\n")
    repo.commit("base")
    repo.write("deploy/prod/x.yaml", "cmd: 'echo `id` ## TODO <b>'\n")
    text = render_change_record(run_check(str(repo.root)), ticket=None, branch=None, created=DAY)
    assert "``echo `id` ## TODO <b>``" in text
    assert check_change_record(text)[1] == []  # a TODO inside a quoted value is no placeholder


def test_config_values_in_a_generated_record_are_not_taken_for_its_ticket(repo):
    repo.write("deploy/prod/x.yaml", "spec:\n  replicas: 4\n  release: ACME-11\n")
    repo.commit("base")
    repo.write("deploy/prod/x.yaml", "spec:\n  replicas: 0\n  release: ACME-12\n")
    text = render_change_record(run_check(str(repo.root)), ticket=None, branch="main", created=DAY)
    assert "ACME-12" in text
    assert not find_ticket(branch=None, records=[(".changes/main.md", text)]).present


# ------------------------------------------------------------------ checking
FILLED = """---
ticket: OPS-1
---
# Change record

## Summary
Raise the pool.

## Rollback
- set `spec.replicas` back to `3`

## Validation
- [ ] pods ready
"""


def test_filled_record_has_nothing_missing():
    assert check_change_record(FILLED) == ({"ticket": "OPS-1"}, [], [])


@pytest.mark.parametrize("section,content", [
    ("Rollback", "TODO"), ("Rollback", "TODO: describe how to undo it"), ("Rollback", ""),
    ("Rollback", "<!-- how to undo it -->"), ("Validation", "- [ ] TBD"), ("Summary", "   \n\n"),
])
def test_placeholders_and_empty_sections_are_missing(section, content):
    text = FILLED.replace(FILLED.split(f"## {section}\n", 1)[1].split("\n\n", 1)[0], content, 1)
    assert check_change_record(text)[1] == [section.lower()]


def test_a_template_full_of_todos_is_missing_every_field():
    template = "---\nticket: TODO\n---\n## Summary\nTODO\n## Rollback\nTODO\n## Validation\nTODO\n"
    assert check_change_record(template, ("ticket",) + DEFAULT_FIELDS)[1] == ["ticket", *DEFAULT_FIELDS]


def test_front_matter_keys_and_heading_variants_count():
    text = "---\nrollback: git revert the merge\n---\n# Summary:\nwhy\n### Validation plan\ncheck pods\n"
    assert check_change_record(text)[1] == []


def test_a_heading_inside_a_code_block_is_not_a_section():
    text = "## Summary\nwhy\n```\n## Rollback\ngit revert\n```\n## Validation\nok\n"
    assert check_change_record(text)[1] == ["rollback"]


def test_code_only_content_counts():
    text = "## Summary\nwhy\n## Rollback\n```\ngit revert abc\n```\n## Validation\nok\n"
    assert check_change_record(text)[1] == []


def test_alias_bomb_in_front_matter_is_an_error_not_an_expansion():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\n"
    front, missing, errors = check_change_record(bomb + FILLED.split("---\n", 2)[2])
    assert front == {} and missing == []
    assert errors == ["front matter line 3: anchors and aliases are not allowed"]


@pytest.mark.parametrize("front,error", [
    ("ticket: [unclosed\n", "front matter line 2: invalid YAML"),
    ("- just\n- a list\n", "front matter: expected a mapping, got list"),
    ("created: 2026-13-45\n", "front matter: unreadable value"),
    ("a: " + "[" * 5000 + "\n", "front matter"),
    ("ticket: !!python/object:os.system x\n", "front matter line 2: invalid YAML"),
])
def test_malformed_front_matter_is_an_error_not_an_exception(front, error):
    _, missing, errors = check_change_record(f"---\n{front}---\n## Summary\nwhy\n")
    assert missing == ["rollback", "validation"]
    assert len(errors) == 1 and errors[0].startswith(error)


def test_unclosed_front_matter_is_reported():
    front, missing, errors = check_change_record("---\nticket: OPS-1\n## Summary\nwhy\n")
    assert front == {}
    assert errors == ["front matter: no closing '---' line"] and "summary" not in missing


def test_closing_hashes_and_nested_sections():
    text = "# Record\n## Rollback ##\nundo it\n### Details\nmore\n## Validation\nok\n## Summary #\nwhy\n"
    assert check_change_record(text)[1] == []


def test_hostile_record_text_is_read_in_linear_time():
    # unmatched backtick runs of every length: a backtracking code-span regex takes minutes here
    ticks = " ".join("`" * k + "a" for k in range(1, 700))
    long_lines = "## a" + " " * 200_000 + "x\n" + "Ticket: b" + " " * 200_000 + "x\n" + "[no-ticket:" * 50_000
    started = time.monotonic()
    for text in (ticks, long_lines, "## Summary\n" * 100_000):
        check_change_record(text)
        find_ticket(branch=None, commit_messages=[text], records=[(".changes/r.md", text)])
    assert time.monotonic() - started < 20


def test_best_record_prefers_the_most_complete():
    rec = best_record([(".changes/a.md", "## Summary\nTODO\n"), (".changes/b.md", FILLED)])
    assert rec.path == ".changes/b.md" and rec.missing == []
    assert best_record([]) is None


@pytest.mark.parametrize("ticket,branch,name", [
    ("ABC-123", "feature/x", "ABC-123.md"),
    (None, "feature/abc-123 fix", "feature-abc-123-fix.md"),
    ("../../etc/passwd", None, "etc-passwd.md"),
    (None, "..", "change.md"),
    (None, None, "change.md"),
    (None, "a/../../b", "a-.-.-b.md"),
    ("", "-x-", "x.md"),
])
def test_record_names_are_safe_file_names(ticket, branch, name):
    out = record_name(ticket, branch)
    assert out == name
    assert "/" not in out and ".." not in out and not out.startswith(".")


# ------------------------------------------------------------------ the command
def _parser():
    parser = argparse.ArgumentParser(prog="changegate")
    add_parser(parser.add_subparsers(dest="command"))
    return parser


def _run(repo, *args):
    return run(_parser().parse_args(["change-record", "-C", str(repo.root), *args]))


def test_command_writes_the_record_and_the_next_check_finds_it(risky, capsys):
    assert _run(risky) == 0
    path = risky.root / ".changes" / "ABC-123.md"
    assert capsys.readouterr().out.strip().endswith(os.path.join(".changes", "ABC-123.md"))
    front, missing, errors = check_change_record(path.read_text(encoding="utf-8"))
    assert (front["ticket"], front["branch"], missing, errors) == ("ABC-123", "feature/ABC-123-scale-down", [], [])
    assert front["author"] == "Test User <user@example.com>"
    reqs = {r["kind"]: r for r in risky.check_json()["requirements"]}
    assert reqs["ticket"]["present"] and reqs["change-record"]["present"]
    assert reqs["change-record"]["path"] == ".changes/ABC-123.md"


def test_command_never_overwrites_without_force(risky, capsys):
    assert _run(risky) == 0
    path = risky.root / ".changes" / "ABC-123.md"
    path.write_text("my own words\n", encoding="utf-8")
    with pytest.raises(ChangeGateError, match=r"ABC-123\.md already exists \(use --force"):
        _run(risky)
    assert path.read_text(encoding="utf-8") == "my own words\n"
    assert _run(risky, "--force") == 0
    assert "## Rollback" in path.read_text(encoding="utf-8")


def test_command_output_to_stdout_and_to_a_file(risky, capsys, tmp_path):
    assert _run(risky, "--output", "-", "--ticket", "CHG0012345") == 0
    out = capsys.readouterr().out
    assert out.startswith("---\nticket: CHG0012345\n") and not (risky.root / ".changes").exists()
    target = tmp_path / "rec.md"
    assert _run(risky, "--output", str(target)) == 0
    assert split_front_matter(target.read_text(encoding="utf-8"))[0]["ticket"] == "ABC-123"


def test_command_names_the_record_after_the_branch_without_a_ticket(repo, capsys):
    repo.write("deploy/prod/api.yaml", deployment(replicas=3))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "jdoe/scale-down")
    repo.write("deploy/prod/api.yaml", deployment(replicas=0))
    assert _run(repo) == 0
    assert (repo.root / ".changes" / "jdoe-scale-down.md").is_file()


def test_command_staged_and_policy_records_dir(repo, capsys):
    repo.write(".changegate.yaml", "change_records: {dir: docs/changes, fields: [summary, rollback]}\n")
    repo.write("deploy/prod/api.yaml", deployment(replicas=3))
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature/OPS-9")
    repo.write("deploy/prod/api.yaml", deployment(replicas=0))
    repo.git("add", "-A")
    assert _run(repo, "--staged") == 0
    text = (repo.root / "docs" / "changes" / "OPS-9.md").read_text(encoding="utf-8")
    assert check_change_record(text, ("summary", "rollback"))[1] == []


def test_command_refuses_a_records_dir_outside_the_repository(repo, tmp_path):
    repo.write(".changegate.yaml", "change_records: {dir: ../outside}\n")
    repo.write("deploy/prod/api.yaml", deployment(replicas=3))
    repo.commit("base")
    repo.write("deploy/prod/api.yaml", deployment(replicas=0))
    with pytest.raises(ChangeGateError, match="outside the repository"):
        _run(repo)
    assert not (repo.root.parent / "outside").exists()


def test_command_with_nothing_to_record(repo):
    repo.write("a.yaml", "a: 1\n")
    repo.commit("base")
    with pytest.raises(ChangeGateError, match="nothing to record"):
        _run(repo)


def _wired() -> bool:
    parser = cli.build_parser()
    return any("change-record" in (a.choices or {}) for a in parser._actions
               if isinstance(a, argparse._SubParsersAction))


@pytest.mark.skipif(not _wired(), reason="change-record is not wired into server/cli.py yet")
def test_cli_main_exit_codes(risky, capsys, monkeypatch):
    monkeypatch.chdir(risky.root)
    assert cli.main(["change-record"]) == 0
    assert capsys.readouterr().out.strip() == os.path.join(".changes", "ABC-123.md")
    assert cli.main(["change-record"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists (use --force" in err
    result = risky.cli("change-record", "--force")
    assert result.code == 0 and result.stdout.strip() == os.path.join(".changes", "ABC-123.md")
