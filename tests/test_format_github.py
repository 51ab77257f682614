"""`check --format github`: workflow commands for GitHub Actions annotations, on real repositories.

Escaping is checked against the rules of @actions/core (command.ts) and decoded the way the
runner decodes it (ActionCommand.cs: %0D, %0A, %3A, %2C, then %25), so a round trip must give
back the exact path and message."""
import re
import sys

import pytest

from conftest import deployment, mixed_change

COMMAND = re.compile(r"^::(?P<name>[a-z]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def unescape_data(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(s: str) -> str:
    return (s.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
            .replace("%2C", ",").replace("%25", "%"))


def parse(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND.match(line)
    assert m, f"not a workflow command: {line!r}"
    props = dict(p.split("=", 1) for p in m.group("props").split(",")) if m.group("props") else {}
    return m.group("name"), props, m.group("data")


def github(repo) -> list[str]:
    result = repo.cli("check", "--format", "github", "--fail-on", "never")
    assert result.code == 0, result.stderr
    assert result.stdout.endswith("\n")
    return result.stdout[:-1].split("\n")


def test_comma_in_path_is_escaped_in_the_file_property(repo):
    repo.write("deploy/prod/a,b.yaml", "spec:\n  replicas: 4\n")
    repo.commit("base")
    repo.write("deploy/prod/a,b.yaml", "spec:\n  replicas: 1\n")

    lines = github(repo)
    report = repo.check_json()

    [finding] = report["findings"]
    assert "%" in finding["message"]  # "removes 75% of the capacity"
    name, props, data = parse(lines[0])
    assert name == "warning"
    assert lines[0].startswith("::warning file=deploy/prod/a%2Cb.yaml,line=2,endLine=2,"
                               "title=CAP-001 capacity-drop::")
    assert "%25" in data and "%2C" not in data  # data escapes % but keeps commas
    assert unescape_data(data) == finding["message"]
    assert unescape_property(props["file"]) == "deploy/prod/a,b.yaml"


@pytest.mark.skipif(sys.platform == "win32", reason="file names with newlines")
def test_percent_newline_comma_and_colon_survive_a_round_trip(repo):
    repo.write("README.md", "base\n")
    repo.commit("base")
    path = "deploy/prod/a,b:\n50%.yaml"  # the rule quotes the path, so the message has % and \n
    repo.write(path, "spec:\n  replicas: 0\n")

    lines = github(repo)
    report = repo.check_json()

    [finding] = [f for f in report["findings"] if f["rule"] == "CAP-002"]
    assert "\n" in finding["message"] and "%" in finding["message"]
    [line] = [ln for ln in lines if "CAP-002" in ln]
    name, props, data = parse(line)
    assert name == "error"
    assert props["file"] == "deploy/prod/a%2Cb%3A%0A50%25.yaml"
    assert props["line"] == "2" and props["endLine"] == "2"
    assert props["title"] == "CAP-002 scale-to-zero"
    expected = finding["message"].replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    assert data == expected
    assert unescape_property(props["file"]) == path
    assert unescape_data(data) == finding["message"]
    assert all(ln.startswith("::") for ln in lines)  # no raw newline split a command


def test_levels_map_and_suppressed_findings_are_left_out(repo):
    mixed_change(repo)

    lines = github(repo)
    report = repo.check_json()

    annotations = [parse(ln) for ln in lines[:-1]]
    by_rule = {props["title"].split()[0]: name for name, props, _ in annotations}
    assert by_rule == {"CAP-002": "error", "CFG-001": "warning", "SUP-001": "notice"}
    assert "title=CAP-001" not in "".join(lines)  # suppressed: its waiver shows as SUP-001
    active = [f for f in report["findings"] if "suppressed" not in f]
    assert [props["title"].split()[0] for _, props, _ in annotations] == [f["rule"] for f in active]

    name, props, data = parse(lines[-1])
    summary = unescape_data(data)
    assert name == "notice" and unescape_property(props["title"]) == "ChangeGate: blocked"
    assert summary.startswith("Verdict: blocked — 1 error, 1 warning, 1 info in 3 changed files")
    assert report["base"]["commit"][:12] in summary
    assert "- ticket: required, none found in" in summary  # an unmet requirement is listed
    assert "- change record: not required" not in summary  # a met one is not


def test_annotations_past_githubs_per_kind_limit_go_to_the_log(repo):
    repo.write("config/app.yaml", "".join(f"k{i}: {i}\n" for i in range(12)))
    repo.commit("base")
    repo.write("config/app.yaml", "".join(f"k{i}: {i}  # changegate: allow CAP-001 -- reason {i}\n"
                                          for i in range(12)))

    lines = github(repo)

    notices = [ln for ln in lines if ln.startswith("::notice ")]
    plain = [ln for ln in lines if not ln.startswith("::")]
    assert len(notices) == 10  # nine findings and the summary: GitHub shows ten per kind
    assert len(plain) == 3 and all(ln.startswith("changegate: info config/app.yaml:") for ln in plain)
    assert lines[-1].startswith("::notice title=ChangeGate")
    assert "3 more findings are in the log only" in unescape_data(parse(lines[-1])[2])


def test_clean_tree_prints_only_the_summary(repo):
    repo.write("deploy/prod/checkout.yaml", deployment())
    repo.commit("base")

    lines = github(repo)

    assert len(lines) == 1
    name, props, data = parse(lines[0])
    assert name == "notice" and props == {"title": "ChangeGate%3A clear"}
    assert unescape_data(data).startswith("Verdict: clear — 0 errors, 0 warnings, 0 info in 0 changed files")
