"""CODE-001 / CODE-002 on real changes: control-plane calls and fragile config reads in changed hunks."""
OPS_SCRIPT = '''\
"""Drain an Auto Scaling group before maintenance."""
import logging

import boto3

log = logging.getLogger("ops.asg")
asg = boto3.client("autoscaling")
ec2 = boto3.client("ec2")


def main(group: str) -> None:
    log.info("draining %s", group)
    ec2.describe_instances(Filters=[{"Name": "tag:group", "Values": [group]}])
'''

SCALE_TO_ZERO = '''\
    asg.update_auto_scaling_group(
        AutoScalingGroupName=group,
        DesiredCapacity=0,
    )
'''


def findings_after(repo, path, before, after, policy=None):
    if policy:
        repo.write(".changegate.yaml", policy)
    repo.write(path, before)
    repo.commit("base")
    repo.write(path, after)
    return [f for f in repo.check_json()["findings"] if f["rule"].startswith("CODE-")]


def summary(found):
    return [(f["rule"], f["severity"], f["line"]) for f in found]


def test_boto3_autoscaling_without_dry_run_or_floor_is_flagged(repo):
    found = findings_after(repo, "ops/drain.py", OPS_SCRIPT, OPS_SCRIPT + SCALE_TO_ZERO)
    assert summary(found) == [("CODE-001", "error", 14)]
    f = found[0]
    assert f["name"] == "control-plane-op" and f["end_line"] == 17 and f["key"] == "asg.update_auto_scaling_group"
    assert "`asg.update_auto_scaling_group` (AWS Auto Scaling)" in f["message"]
    assert "without a dry-run, a limit or a floor (e.g. MinSize" in f["message"]
    assert "capacity to 0" in f["message"]


def test_a_nonzero_capacity_change_is_a_warning_and_a_floor_makes_it_info(repo):
    call = "    asg.set_desired_capacity(AutoScalingGroupName=group, DesiredCapacity=4{extra})\n"
    found = findings_after(repo, "ops/drain.py", OPS_SCRIPT, OPS_SCRIPT + call.format(extra=""))
    assert summary(found) == [("CODE-001", "warning", 14)]
    repo.write("ops/drain.py", OPS_SCRIPT + call.format(extra=", HonorCooldown=True"))
    found = [f for f in repo.check_json()["findings"] if f["rule"] == "CODE-001"]
    assert summary(found) == [("CODE-001", "info", 14)] and "guarded by HonorCooldown" in found[0]["message"]


def test_the_same_call_in_an_unchanged_part_of_the_file_does_not_fire(repo):
    before = OPS_SCRIPT + SCALE_TO_ZERO
    after = before.replace('    log.info("draining %s", group)\n',
                           '    log.info("draining %s", group)\n    log.info("caller: %s", getpass.getuser())\n')
    assert findings_after(repo, "ops/drain.py", before, after) == []


def test_dry_run_makes_a_terminate_call_info(repo):
    call = "    ec2.terminate_instances(InstanceIds=ids, DryRun=True)\n"
    found = findings_after(repo, "ops/drain.py", OPS_SCRIPT, OPS_SCRIPT + call)
    assert summary(found) == [("CODE-001", "info", 14)] and "guarded by dry-run" in found[0]["message"]


def test_read_only_calls_do_not_fire(repo):
    after = OPS_SCRIPT + ('    asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])\n'
                          '    subprocess.run(["kubectl", "get", "pods", "-n", "shop"], check=True)\n'
                          '    s3.delete_object(Bucket="reports", Key=f"{group}.csv")\n')
    assert findings_after(repo, "ops/drain.py", OPS_SCRIPT, after) == []


def test_go_client_go_scale(repo):
    before = '''package main

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func scaleDown(ctx context.Context, cs kubernetes.Interface, ns, name string) error {
	s, err := cs.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	return nil
}
'''
    after = before.replace("\treturn nil\n}", "\ts.Spec.Replicas = 1\n"
                           "\t_, err = cs.AppsV1().Deployments(ns).UpdateScale(ctx, name, s, metav1.UpdateOptions{})\n"
                           "\treturn err\n}")
    found = findings_after(repo, "cmd/scaler/main.go", before, after)
    assert summary(found) == [("CODE-001", "warning", 16)]
    assert "`cs.AppsV1().Deployments(ns).UpdateScale` (Kubernetes Deployments)" in found[0]["message"]


def test_typescript_launchdarkly_flag_patch(repo):
    before = '''import { FeatureFlagsApi, Configuration } from "launchdarkly-api-typescript";

const api = new FeatureFlagsApi(new Configuration({ apiKey: process.env.LD_API_KEY }));

export async function status(flag: string) {
  return api.getFeatureFlag("default", flag);
}
'''
    after = before + '''
export async function enableEverywhere(flag: string) {
  await api.patchFeatureFlag("default", flag, {
    patch: [{ op: "replace", path: "/environments/production/on", value: true }],
  });
}
'''
    found = findings_after(repo, "tools/flags.ts", before, after)
    assert summary(found) == [("CODE-001", "warning", 10)]
    assert "`api.patchFeatureFlag` (feature flags (LaunchDarkly API))" in found[0]["message"]


DEPLOY_SH = '''\
#!/usr/bin/env bash
set -euo pipefail
NS=shop
echo "deploying to $NS"
kubectl -n "$NS" get deploy checkout
terraform -chdir=infra plan -out=tfplan
'''


def test_shell_deploy_script_scale_to_zero_and_auto_approve(repo):
    after = DEPLOY_SH + ('kubectl -n "$NS" scale deploy/checkout --replicas=0\n'
                         'terraform -chdir=infra apply -auto-approve\n'
                         'terraform -chdir=infra apply tfplan\n'
                         'kubectl -n "$NS" rollout status deploy/checkout --timeout=5m\n')
    found = findings_after(repo, "scripts/deploy.sh", DEPLOY_SH, after)
    assert summary(found) == [("CODE-001", "error", 7), ("CODE-001", "warning", 8), ("CODE-001", "info", 9)]
    assert "`kubectl scale` (Kubernetes)" in found[0]["message"] and "capacity to 0" in found[0]["message"]
    assert "`terraform apply -auto-approve`" in found[1]["message"]
    assert "saved plan" in found[2]["message"]


def test_renaming_a_variable_in_a_script_is_not_a_new_operation(repo):
    before = DEPLOY_SH + 'kubectl -n "$NS" rollout restart deploy/checkout\n'
    assert findings_after(repo, "scripts/deploy.sh", before, before.replace("NS", "NAMESPACE")) == []


def test_dev_scoped_script_is_info_and_tests_are_ignored(repo):
    repo.write("README.md", "x\n")
    repo.commit("base")
    repo.write("scripts/dev/reset.sh", "#!/bin/sh\nkubectl delete namespace sandbox\n")
    repo.write("tests/test_drain.py", "def test_drain(ec2):\n    ec2.terminate_instances(InstanceIds=['i-1'])\n")
    found = [f for f in repo.check_json()["findings"] if f["rule"].startswith("CODE-")]
    assert [(f["path"], f["severity"]) for f in found] == [("scripts/dev/reset.sh", "info")]


POLICY = '''\
version: 1
control_plane:
  code:
    - language: {language}
      calls: ["*.drain_region", "fleetctl destroy*"]
'''


def test_policy_control_plane_code_calls_extend_the_catalogue(repo):
    after = OPS_SCRIPT + '    fleet.drain_region("eu-west-1")\n'
    found = findings_after(repo, "ops/drain.py", OPS_SCRIPT, after, POLICY.format(language="python"))
    assert summary(found) == [("CODE-001", "warning", 14)]
    assert "policy control_plane.code `*.drain_region`" in found[0]["message"]


def test_policy_calls_apply_only_to_their_language(repo):
    after = OPS_SCRIPT + '    fleet.drain_region("eu-west-1")\n'
    assert findings_after(repo, "ops/drain.py", OPS_SCRIPT, after, POLICY.format(language="go")) == []


def test_policy_shell_pattern_and_severity_override(repo):
    policy = POLICY.format(language="shell") + "rules: {CODE-001: {severity: error}}\n"
    found = findings_after(repo, "scripts/deploy.sh", DEPLOY_SH, DEPLOY_SH + "fleetctl destroy web-eu\n", policy)
    assert summary(found) == [("CODE-001", "error", 7)]


def test_a_reasoned_suppression_waives_it(repo):
    after = OPS_SCRIPT + ("    # changegate: allow CODE-001 -- maintenance window drain, CHG0012345\n" + SCALE_TO_ZERO)
    found = findings_after(repo, "ops/drain.py", OPS_SCRIPT, after)
    assert [(f["rule"], f.get("suppressed")) for f in found] == \
        [("CODE-001", "maintenance window drain, CHG0012345")]


# ---------------------------------------------------------------- CODE-002
def test_python_config_subscript_without_default_is_info(repo):
    before = ('import yaml\n\n\ndef load(path):\n    with open(path) as f:\n        cfg = yaml.safe_load(f)\n'
              '    return cfg\n')
    after = before.replace("    return cfg\n", '    limit = cfg["bot"]["max_features"]\n'
                                                '    timeout = cfg.get("timeout", 30)\n    return cfg, limit, timeout\n')
    found = findings_after(repo, "app/settings.py", before, after)
    assert summary(found) == [("CODE-002", "info", 7)]
    assert found[0]["name"] == "fragile-config-consumer" and "KeyError" in found[0]["message"]


GO_LOADER = '''package config

import (
	"encoding/json"
	"os"
)

func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg Config
{decode}
	return &cfg, nil
}
'''


def test_go_ignored_unmarshal_error_is_a_warning(repo):
    checked = "\tif err := json.Unmarshal(b, &cfg); err != nil {\n\t\treturn nil, err\n\t}"
    found = findings_after(repo, "internal/config/load.go", GO_LOADER.replace("{decode}", "\t// TODO"),
                           GO_LOADER.replace("{decode}", "\t_ = json.Unmarshal(b, &cfg)"))
    assert summary(found) == [("CODE-002", "warning", 14)]
    assert "ignores the error of json.Unmarshal" in found[0]["message"]
    repo.write("internal/config/load.go", GO_LOADER.replace("{decode}", checked))
    assert [f for f in repo.check_json()["findings"] if f["rule"] == "CODE-002"] == []


def test_typescript_parsed_config_chain_and_optional_chaining(repo):
    before = 'import fs from "node:fs";\n\nconst cfg = JSON.parse(fs.readFileSync("config.json", "utf8"));\n'
    after = before + "export const max = cfg.limits.maxFeatures;\nexport const safe = cfg?.limits?.other ?? 10;\n"
    found = findings_after(repo, "src/config.ts", before, after)
    assert summary(found) == [("CODE-002", "info", 4)]
    assert "optional chaining" in found[0]["message"]
