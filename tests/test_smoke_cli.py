"""The CLI end to end on a real repository: a scale-to-zero in prod is an error and exits 1."""
from conftest import deployment


def test_scale_to_zero_in_prod_blocks(repo):
    repo.write("deploy/prod/checkout.yaml", deployment(replicas=6))
    repo.commit("base")
    repo.write("deploy/prod/checkout.yaml", deployment(replicas=0))

    result = repo.cli("check")

    assert result.code == 1, result.stderr
    assert "deploy/prod/checkout.yaml" in result.stdout
    assert "CAP-002" in result.stdout and "6 → 0" in result.stdout
    assert "Verdict: blocked" in result.stdout
    assert "\x1b[" not in result.stdout  # piped: no colour


def test_clean_tree_is_clear(repo):
    repo.write("deploy/prod/checkout.yaml", deployment())
    repo.commit("base")

    report = repo.check_json()

    assert report["verdict"] == "clear"
    assert report["files"] == [] and report["findings"] == []
