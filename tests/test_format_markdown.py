"""`check --format markdown`: the pull-request comment, on real repositories. Tables are checked
the way GFM reads them: a row splits on every `|` not escaped with a backslash, so an unescaped
pipe (or a raw newline) in a path, message or reason would show up as a broken row here."""
import re
import sys

import pytest

from conftest import deployment, mixed_change

ROW_SPLIT = re.compile(r"(?<!\\)\|")


def markdown(repo, *args: str) -> str:
    result = repo.cli("check", "--format", "markdown", "--fail-on", "never", *args)
    assert result.code == 0, result.stderr
    return result.stdout


def tables(text: str) -> dict[str, list[list[str]]]:
    """Each table keyed by its header row's first cell; rows as lists of cells."""
    found: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for line in text.split("\n") + [""]:
        if line.startswith("|"):
            assert line.endswith(" |"), line
            current.append([c.strip() for c in ROW_SPLIT.split(line)[1:-1]])
        elif current:
            header, rule, *rows = current
            assert rule == ["---"] * len(header)
            for row in rows:
                assert len(row) == len(header), (header, row)
            found[header[0]] = [header, *rows]
            current = []
    return found


def test_blocked_comment_has_verdict_summary_and_tables(repo):
    base = mixed_change(repo, reason="canary | CHG0012345")

    text = markdown(repo)
    report = repo.check_json()

    lines = text.split("\n")
    assert lines[0] == "<!-- changegate:report -->"
    assert lines[1] == "## 🛑 ChangeGate: blocked"
    assert f"**1 error, 1 warning, 1 info in 3 changed files**, against `main` (`{base[:12]}`)" in text
    assert "1 allowed by suppression" in text

    t = tables(text)
    assert t["Kind"][0] == ["Kind", "Requirement", "Status"]
    statuses = {row[0]: row[2] for row in t["Kind"][1:]}
    assert statuses["ticket"] == "❌ missing"
    assert statuses["review"] == "⏳ pending"

    assert t["Severity"][0] == ["Severity", "Rule", "Location", "Message"]
    active = [f for f in report["findings"] if "suppressed" not in f]
    assert len(t["Severity"]) - 1 == len(active)
    rows = {row[1].split()[0]: row for row in t["Severity"][1:]}
    [cap2] = [f for f in active if f["rule"] == "CAP-002"]
    assert rows["`CAP-002`"] == ["🔴 error", "`CAP-002` scale-to-zero",
                                 f"`deploy/prod/checkout.yaml:{cap2['line']}`", cap2["message"]]
    assert rows["`CFG-001`"][0] == "🟠 warning" and rows["`SUP-001`"][0] == "🔵 info"
    assert rows["`SUP-001`"][3].endswith("canary \\| CHG0012345")  # pipe escaped in the message

    [waived] = t["Rule"][1:]
    assert waived[0] == "`CAP-001` capacity-drop"
    assert waived[3] == "canary \\| CHG0012345"

    assert t["File"][0] == ["File", "Kinds", "Env", "Blast radius"]
    files = {row[0]: row for row in t["File"][1:]}
    assert files["`deploy/prod/checkout.yaml`"][2] == "prod"
    level = {f["path"]: f["blast_radius"] for f in report["files"]}["deploy/prod/checkout.yaml"]
    assert files["`deploy/prod/checkout.yaml`"][3] == f"{level['level']} ({level['score']})"


def test_pipes_and_backticks_in_paths_keep_the_table_intact(repo):
    repo.write("README.md", "base\n")
    repo.commit("base")
    repo.write("deploy/prod/a|b`c*d.yaml", "spec:\n  replicas: 0\n")

    text = markdown(repo)

    [row] = tables(text)["Severity"][1:]
    # Double-backtick fence around a single backtick; the pipe escaped even inside the span.
    assert row[2] == "``deploy/prod/a\\|b`c*d.yaml:2``"
    assert "deploy/prod/a\\|b\\`c\\*d.yaml" in row[3]  # plain text: |, ` and * escaped
    [file_row] = tables(text)["File"][1:]
    assert file_row[0] == "``deploy/prod/a\\|b`c*d.yaml``"


@pytest.mark.skipif(sys.platform == "win32", reason="file names with newlines")
def test_newlines_never_break_a_row(repo):
    repo.write("README.md", "base\n")
    repo.commit("base")
    repo.write("deploy/prod/x\ny.yaml", "spec:\n  replicas: 0\n")

    text = markdown(repo)

    [row] = tables(text)["Severity"][1:]
    assert row[2] == "`deploy/prod/x\\ny.yaml:2`"
    assert "deploy/prod/x<br>y.yaml" in row[3]


def test_review_required_shows_owners_without_mentioning_them(repo):
    repo.write(".changegate.yaml", "version: 1\nservices:\n"
               '  - {name: web, paths: ["app/**"], tier: 3, owners: ["@shop/platform"]}\n')
    repo.write("app/values.yaml", "spec:\n  replicas: 4\n")
    repo.commit("base")
    repo.write("app/values.yaml", "spec:\n  replicas: 1\n")

    text = markdown(repo)

    assert text.split("\n")[1] == "## ⚠️ ChangeGate: review required"
    rows = tables(text)["Kind"][1:]
    [owners] = [row for row in rows if "@shop/platform" in row[1]]
    assert owners[0] == "review" and owners[2] == "⏳ pending"
    assert "`@shop/platform`" in owners[1]  # a code span: the comment does not ping the team
    assert re.search(r"(?<!`)@shop/platform", text) is None


def test_clear_says_so_and_output_file_is_written(repo, tmp_path):
    repo.write("deploy/prod/checkout.yaml", deployment())
    repo.commit("base")

    text = markdown(repo)
    target = tmp_path / "comment.md"
    result = repo.cli("check", "--format", "markdown", "--output", str(target))

    assert text.split("\n")[1] == "## ✅ ChangeGate: clear"
    assert "**0 errors, 0 warnings, 0 info in 0 changed files**" in text
    assert "No findings." in text and "Severity" not in text
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == text
