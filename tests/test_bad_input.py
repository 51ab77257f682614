"""Bad input through the real CLI: reported plainly, never a crash or a hang, nothing lost."""
import pytest

from conftest import deployment
from test_configdiff import BOMB


@pytest.mark.parametrize("path,broken", [
    ("deploy/prod/checkout.yaml", "apiVersion: apps/v1\nspec:\n  replicas: [0\n  other: }\n"),
    ("config/flags.json", '{"rollout": 100,,}'),
])
def test_malformed_config_is_a_parse_finding_with_its_line(repo, path, broken):
    repo.write(path, deployment() if path.endswith(".yaml") else '{"rollout": 5}')
    repo.commit("base")
    repo.write(path, broken)

    result = repo.cli("check", "--format", "json")

    assert result.code == 0, result.stderr  # a warning: the default gate is errors
    findings = result.json()["findings"]
    assert [(f["rule"], f["path"]) for f in findings] == [("CFG-001", path)]
    assert findings[0]["line"] >= 1 and "syntax error" in findings[0]["message"]


def test_alias_bomb_is_analysed_without_expansion(repo):
    repo.write("config/app.yaml", "a: 1\n")
    repo.commit("base")
    repo.write("config/app.yaml", BOMB)

    report = repo.check_json()

    changed = {c["key"]: c["new"] for c in report["files"][0]["changes"]}
    assert changed["i"] == ["*h"] * 9


def test_hostile_nesting_does_not_crash_the_process(repo):
    repo.write("deploy/prod/deep.yaml", "a: 1\n")
    repo.commit("base")
    repo.write("deploy/prod/deep.yaml", "".join("  " * i + "- k:\n" for i in range(500)))

    result = repo.cli("check", "--format", "json")

    assert result.code == 0, result.stderr
    finding = result.json()["findings"][0]
    assert finding["rule"] == "CFG-001" and "nested deeper than" in finding["message"]


def test_unwritable_output_is_a_one_line_error(repo):
    repo.write("a.yaml", "a: 1\n")
    repo.commit("base")
    # An --output path inside a missing directory is an OS error the user can act on: one line.
    result = repo.cli("check", "--output", str(repo.root / "missing" / "dir" / "out.txt"))
    assert result.code == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
