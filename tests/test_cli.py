"""The CLI's contract: exit codes, --fail-on, --output, colour rules, one-line errors."""
import os
import pty
import subprocess
import sys

import pytest

from conftest import deployment


@pytest.fixture
def risky(repo):
    """prod scale to zero (error) + prod capacity drop (warning)."""
    repo.write("deploy/prod/checkout.yaml", deployment(6))
    repo.write("deploy/prod/cart.yaml", deployment(6).replace("checkout", "cart"))
    repo.commit("base")
    repo.write("deploy/prod/checkout.yaml", deployment(0))
    repo.write("deploy/prod/cart.yaml", deployment(2).replace("checkout", "cart"))
    return repo


@pytest.mark.parametrize("fail_on,code", [("error", 1), ("warning", 1), ("info", 1), ("never", 0)])
def test_fail_on_with_an_error(risky, fail_on, code):
    assert risky.cli("check", "--fail-on", fail_on).code == code


def test_fail_on_threshold_with_only_a_warning(repo):
    repo.write("deploy/prod/cart.yaml", deployment(6))
    repo.commit("base")
    repo.write("deploy/prod/cart.yaml", deployment(2))
    assert repo.cli("check").code == 0
    assert repo.cli("check", "--fail-on", "warning").code == 1


def test_output_file_gets_the_report_and_stdout_stays_empty(risky, tmp_path):
    out = tmp_path / "report.json"
    result = risky.cli("check", "--format", "json", "--output", str(out))
    assert result.code == 1 and result.stdout == ""
    assert '"verdict": "blocked"' in out.read_text()


def test_text_groups_findings_by_file_with_requirements_and_verdict(risky):
    out = risky.cli("check").stdout
    cart, checkout = out.index("deploy/prod/cart.yaml"), out.index("deploy/prod/checkout.yaml")
    assert cart < out.index("CAP-001") < checkout < out.index("CAP-002") < out.index("Requirements")
    assert "ticket" in out and "Verdict: blocked" in out


def _run_on_tty(repo, env):
    leader, follower = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "server", "check"], cwd=repo.root, stdout=follower,
                          stderr=subprocess.PIPE, env={**repo.env, **env}, timeout=60)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.returncode, b"".join(chunks).decode()


def test_colour_on_a_tty_and_never_with_no_color(risky):
    code, out = _run_on_tty(risky, {})
    assert code == 1 and "\x1b[" in out
    code, out = _run_on_tty(risky, {"NO_COLOR": "1"})
    assert code == 1 and "\x1b[" not in out and "CAP-002" in out


@pytest.mark.parametrize("args,words", [
    (["check", "--format", "xml"], "invalid choice"),
    (["check", "--staged", "--commit", "HEAD"], "not allowed with"),
    (["check", "--commit", "no-such-rev"], "unknown revision for --commit: no-such-rev"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_exit_2_with_one_line(risky, args, words):
    result = risky.cli(*args)
    assert result.code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr


def test_outside_a_repository(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "server", "check", "-C", str(tmp_path)],
                          capture_output=True, text=True, env={**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"changegate: error: not a git repository: {tmp_path}"


def test_rules_lists_the_catalogue():
    proc = subprocess.run([sys.executable, "-m", "server", "rules"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "CAP-001  capacity-drop" in proc.stdout and "CAP-002  scale-to-zero" in proc.stdout


def test_json_is_byte_identical_for_the_same_state(risky):
    first = risky.cli("check", "--format", "json").stdout
    second = risky.cli("check", "--format", "json").stdout
    assert first == second and first.startswith("{")


def test_rules_explains_one_rule_with_rationale_incident_and_params():
    proc = subprocess.run([sys.executable, "-m", "server", "rules", "cap-001"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.startswith("CAP-001 capacity-drop (default severity: warning)")
    assert "Incident: AWS S3 2017-02-28" in proc.stdout and "drop_ratio: 0.5" in proc.stdout
    unknown = subprocess.run([sys.executable, "-m", "server", "rules", "NOPE-001"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "unknown rule id: NOPE-001" in unknown.stderr
