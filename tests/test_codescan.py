"""codescan: which calls and config reads touch the changed lines of a code file."""
from pathlib import Path

from analyzers.codescan import (TREES, changed_calls, changed_lines, config_reads, file_calls, language_for,
                                shell_words)
from analyzers.linediff import hunks
from analyzers.model import FileChange

OPS_SCRIPT = '''\
import logging

import boto3

log = logging.getLogger("asg")
asg = boto3.client("autoscaling")


def drain(group: str) -> None:
    asg.update_auto_scaling_group(
        AutoScalingGroupName=group,
        MinSize=0,
        DesiredCapacity=0,
    )
'''


def change(path: str, old: str, new: str) -> FileChange:
    return FileChange(path=path, status="modified", old_text=old, new_text=new, hunks=hunks(old, new))


def calls_of(path, old, new):
    return [(c.line, c.callee) for c in file_calls(change(path, old, new))]


def test_languages_by_extension():
    assert [language_for(p) for p in ("ops/a.py", "cmd/main.go", "src/x.ts", "ui/App.tsx", "bin/x.mjs",
                                      "deploy.sh", "README.md", "Makefile")] == \
        ["python", "go", "typescript", "tsx", "javascript", "bash", None, None]


def test_changed_lines_are_new_side_and_pure_deletions_add_none():
    old = "a\nb\nc\nd\n"
    assert changed_lines(hunks(old, "a\nB\nc\nd\ne\n")) == {2, 5}
    assert changed_lines(hunks(old, "a\nc\nd\n")) == set()
    assert changed_lines(hunks(old, "a\nc\nd\n"), side="old") == {2}


def test_an_argument_line_changed_reports_the_whole_call_at_its_first_line():
    new = OPS_SCRIPT.replace("MinSize=0,", "MinSize=1,")
    found = file_calls(change("ops/asg.py", OPS_SCRIPT, new))
    assert [(c.line, c.end_line, c.callee, c.name, c.receiver) for c in found] == \
        [(10, 14, "asg.update_auto_scaling_group", "update_auto_scaling_group", "asg")]
    assert "DesiredCapacity=0" in found[0].args


def test_calls_in_unchanged_lines_are_not_reported():
    new = OPS_SCRIPT.replace('log = logging.getLogger("asg")', 'log = logging.getLogger("asg")\nlog.setLevel("INFO")')
    assert calls_of("ops/asg.py", OPS_SCRIPT, new) == [(6, "log.setLevel")]


def test_a_change_inside_a_callback_is_not_a_change_to_the_call_around_it():
    old = ('await retry(async () => {\n  const out = await client.send(cmd);\n  return out;\n}, {retries: 3});\n')
    new = old.replace("return out;", 'log.info("sent");\n  return out;')
    assert calls_of("tools/x.ts", old, new) == [(3, "log.info")]
    assert calls_of("tools/x.ts", old, old.replace("retries: 3", "retries: 5")) == [(1, "retry")]


def test_go_method_chains_and_exec_string_literals():
    old = "package main\n\nfunc main() {\n}\n"
    new = ('package main\n\nfunc main() {\n'
           '\tcs.AppsV1().Deployments("shop").UpdateScale(ctx, "api", s, metav1.UpdateOptions{})\n'
           '\texec.Command("kubectl", "scale", "deploy/"+name, `--replicas=0`).Run()\n}\n')
    found = file_calls(change("cmd/ops/main.go", old, new))
    by_callee = {c.callee: c for c in found}
    assert by_callee['cs.AppsV1().Deployments("shop").UpdateScale'].name == "UpdateScale"
    assert by_callee["exec.Command"].strings == ("kubectl", "scale", "deploy/", "--replicas=0")


def test_typescript_new_expressions_and_tagged_templates():
    new = ('await client.send(new TerminateInstancesCommand({ InstanceIds: ids }));\n'
           'await $`kubectl scale deploy/api --replicas=${n}`;\n')
    found = changed_calls("typescript", new, frozenset({1, 2}))
    assert [(c.kind, c.callee) for c in found] == [("call", "client.send"), ("new", "TerminateInstancesCommand"),
                                                   ("call", "$")]
    assert found[2].strings == ("kubectl scale deploy/api --replicas=${n}",)


def test_shell_commands_with_continuations_and_heredocs():
    old = "#!/usr/bin/env bash\nset -euo pipefail\nkubectl apply -f - <<EOF\nreplicas: 3\nEOF\n"
    new = old.replace("replicas: 3", "replicas: 0") + 'sudo kubectl -n "$NS" scale deploy/api \\\n  --replicas=0\n'
    found = file_calls(change("deploy/run.sh", old, new))
    assert [(c.line, c.end_line, c.callee) for c in found] == [(3, 5, "kubectl"), (6, 7, "sudo")]
    assert "replicas: 0" in found[0].args  # the heredoc is part of what the command applies
    assert found[1].strings == ("sudo", "kubectl", "-n", "$NS", "scale", "deploy/api", "--replicas=0")


def test_shell_words_never_evaluate(tmp_path: Path):
    marker = tmp_path / "pwned"
    script = f'echo "$(touch {marker})" `touch {marker}`\nkubectl delete ns "$(touch {marker})"\n'
    found = changed_calls("bash", script, frozenset({1, 2}))
    assert "kubectl" in [c.callee for c in found] and not marker.exists()
    assert shell_words("helm upgrade 'my app' \"./chart dir\" --set a=b") == \
        ["helm", "upgrade", "my app", "./chart dir", "--set", "a=b"]


def test_trees_are_cached_by_content():
    text = "x = 1\nprint(x)\n"
    changed_calls("python", text, frozenset({2}))
    size = len(TREES.entries)
    changed_calls("python", text, frozenset({1, 2}))
    assert len(TREES.entries) == size


# ---------------------------------------------------------------- config reads
PY_LOADER = '''\
import json
import os

import yaml

with open("config/bot.yaml") as f:
    cfg = yaml.safe_load(f)
'''


def reads(language, text, lines):
    return [(r.line, r.how, r.text) for r in config_reads(language, text, frozenset(lines))]


def test_python_reads_of_loaded_config_without_default():
    new = PY_LOADER + ('limit = cfg["bot"]["max_features"]\n'
                       'port = json.load(open("config/server.json"))["port"]\n'
                       'token = os.environ["API_TOKEN"]\n'
                       'timeout = cfg.get("timeout", 30)\n'
                       'os.environ["MODE"] = "batch"\n'
                       'try:\n    extra = cfg["extra"]\nexcept KeyError:\n    extra = {}\n'
                       'body = json.loads(response.text)["items"]\n')
    assert reads("python", new, range(8, 20)) == [
        (8, "subscript", 'cfg["bot"]["max_features"]'),
        (9, "subscript", 'json.load(open("config/server.json"))["port"]'),
        (10, "env", 'os.environ["API_TOKEN"]')]


def test_typescript_chains_without_optional_chaining():
    new = ('const cfg = JSON.parse(fs.readFileSync(path, "utf8")) as Config;\n'
           'const max = cfg.limits.maxFeatures;\n'
           'const safe = cfg?.limits?.maxFeatures ?? 200;\n'
           'const name = cfg.name;\n'
           'const body = JSON.parse(res.body).data.items;\n')
    assert reads("typescript", new, range(1, 6)) == [(2, "chain", "cfg.limits.maxFeatures")]


def test_go_ignored_and_unchecked_errors():
    new = '''package config

func Load(b []byte) (*Config, error) {
	n, _ := strconv.Atoi(os.Getenv("MAX_FEATURES"))
	json.Unmarshal(b, &cfg)
	err := yaml.Unmarshal(b, &cfg)
	log.Printf("loaded %d", n)
	if err := json.Unmarshal(b, &other); err != nil {
		return nil, err
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return nil, err
	}
	return &cfg, nil
}
'''
    assert [(line, how) for line, how, _ in reads("go", new, range(1, 17))] == [
        (4, "ignored-error"), (5, "ignored-error"), (6, "unchecked-error")]
