"""AI authorship in the Report and on every surface, from the per-line provenance a ChangeSet
carries (the collector that finds it is tested in test_provenance_*)."""
import json

from analyzers.engine import analyze
from analyzers.linediff import hunks
from analyzers.model import BaseRef, ChangeSet, FileChange, LineProvenance
from analyzers.policy import Policy
from server.formats import FORMATS
from server.formats.text import render

OLD = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 6\n" \
      "  template:\n    spec:\n      containers:\n        - {name: api, image: 'api:1'}\n"
NEW = OLD.replace("replicas: 6", "replicas: 2") + "# tuned\n# by hand\n"
CLAUDE = LineProvenance("ai", "trailer", "commit", "claude-code", "anthropic/claude-sonnet-4-5", "1a2b3c4",
                        "Co-Authored-By: Claude <noreply@anthropic.com> on 1a2b3c4")


def report_for(provenance):
    change = FileChange("deploy/prod/api.yaml", "modified", old_text=OLD, new_text=NEW, hunks=hunks(OLD, NEW),
                        provenance=provenance)
    return analyze(ChangeSet("/r", BaseRef("main", "0" * 40, "test"), "worktree", [change]), Policy())


def test_ai_lines_mark_their_hunk_and_the_finding_on_them():
    report = report_for({5: CLAUDE})
    data = report.to_dict()
    file = data["files"][0]
    ai_hunks = [h for h in file["hunks"] if h["ai"]]
    assert len(ai_hunks) == 1 and ai_hunks[0]["start"] == 5
    assert ai_hunks[0]["ai"]["agent"] == "claude-code" and ai_hunks[0]["ai"]["evidence"] == "commit"
    assert ai_hunks[0]["ai"]["lines"] == [5]
    assert [h["ai"] for h in file["hunks"] if h["start"] != 5] == [None]  # the human comment lines
    assert file["ai_share"] == round(1 / 3, 3) and data["ai_share"] == round(1 / 3, 3)
    cap = next(f for f in data["findings"] if f["rule"] == "CAP-001")
    assert cap["ai"]["agent"] == "claude-code"
    # the default policy asks one more human for AI-authored config
    assert "human check of AI-authored config" in [r.get("rule") for r in report.requirements]


def test_no_evidence_means_unknown_not_human():
    data = report_for({}).to_dict()
    assert all(h["ai"] is None for h in data["files"][0]["hunks"])
    assert data["files"][0]["ai_share"] == 0.0 and "ai" not in data["findings"][0]
    assert "human check of AI-authored config" not in json.dumps(data["requirements"])


def test_an_ai_line_a_person_rewrote_is_listed_as_mixed():
    edited = LineProvenance("mixed", "agent-trace", "line", "cursor", None)
    ai = report_for({5: edited}).to_dict()["files"][0]["hunks"][0]["ai"]
    assert ai["lines"] == [] and ai["mixed"] == [5] and ai["evidence"] == "line"


def test_surfaces_say_which_lines_an_assistant_wrote():
    report = report_for({5: CLAUDE})
    text = render(report)
    assert "[AI-written: claude-code]" in text
    assert "AI       claude-code · anthropic/claude-sonnet-4-5 (AI-assisted commit, trailer)" in text
    assert "33% AI-written" in text
    md = FORMATS["markdown"](report)
    assert "### AI-authored hunks (33% AI-written of the added lines)" in md and "🤖 AI-written" in md
    sarif = json.loads(FORMATS["sarif"](report))
    run = sarif["runs"][0]
    assert run["properties"]["ai_hunks"][0]["path"] == "deploy/prod/api.yaml"
    assert next(r for r in run["results"] if r["ruleId"] == "CAP-001")["properties"]["ai"]["agent"] == "claude-code"
