"""Feature-flag rules on real flag files: FLG-001 (rollout jumps, flips to everyone), FLG-002 (a kept
key whose meaning changes), FLG-003 (kill switches and globally propagated config)."""
import json

from conftest import rules_of, warnings_after


def launchdarkly(on=True, weights=(10000, 90000), pricing=("legacy", "v2"), description="New checkout flow",
                 kind="multivariate"):
    """A LaunchDarkly flag export (rollout weights are in thousandths of a percent)."""
    return json.dumps({"flags": {
        "new-checkout": {
            "key": "new-checkout", "description": description, "kind": "boolean", "on": on,
            "variations": [{"value": True}, {"value": False}], "offVariation": 1,
            "fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": weights[0]},
                                                       {"variation": 1, "weight": weights[1]}]}},
            "rules": [], "targets": []},
        "pricing-engine": {
            "key": "pricing-engine", "kind": kind, "on": True, "offVariation": 0,
            "variations": [{"value": pricing[0], "name": "current"}, {"value": pricing[1], "name": "next"}],
            "fallthrough": {"variation": 0}}}}, indent=2) + "\n"


def flagd(state="ENABLED", weights=(10, 90), default="off", targeting=True):
    flag = {"state": state, "variants": {"on": True, "off": False}, "defaultVariant": default}
    if targeting:
        flag["targeting"] = {"fractional": [["on", weights[0]], ["off", weights[1]]]}
    return json.dumps({"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": {"new-ui": flag}}, indent=2)


UNLEASH = """\
version: 1
features:
  - name: new-checkout
    description: New checkout flow
    type: release
    enabled: true
    strategies:
      - name: flexibleRollout
        parameters: {rollout: "%s", stickiness: default, groupId: new-checkout}
"""

EDGE_FLAGS = """\
flags:
  waf_managed_rules_killswitch:
    description: Turn off the managed WAF rule set in an emergency
    enabled: %s
  search_v2:
    description: New search backend
    enabled: true
"""

GLOBAL_CONFIG = """\
# pushed by the edge config service to every PoP within seconds
propagation: global
rules:
  - id: waf-test-rule
    action: %s
    expression: http.request.uri.path contains "/admin"
"""


# -- FLG-001 ------------------------------------------------------------------------------------
def test_launchdarkly_rollout_jump_is_flagged_once_per_flag(repo):
    found = warnings_after(repo, "flags/launchdarkly-prod.json", launchdarkly(on=False),
                           launchdarkly(on=True, weights=(60000, 40000)))
    assert rules_of(found) == [("FLG-001", "flags.new-checkout.fallthrough.rollout.variations[0].weight")]
    assert "10% → 60%" in found[0]["message"] and found[0]["name"] == "flag-rollout-jump"


def test_flag_variant_weights_are_reported_by_the_flag_rule_only(repo):
    unleash = UNLEASH.replace("parameters:", "variants: [{name: blue, weight: %s}, {name: green, weight: %s}]\n"
                                              "        parameters:")
    found = warnings_after(repo, "flags/prod.yaml", unleash % (900, 100, 10), unleash % (100, 900, 100))
    assert {f["rule"] for f in found} == {"FLG-001"}


def test_launchdarkly_doubling_and_description_edit_are_routine(repo):
    # 10% -> 20% is the ×2 step a rollout plan uses; a description edit changes nothing served
    assert warnings_after(repo, "flags/launchdarkly-prod.json", launchdarkly(),
                          launchdarkly(weights=(20000, 80000), description="New checkout flow (EU first)")) == []


def test_flag_turned_on_with_full_fallthrough_is_flagged(repo):
    found = warnings_after(repo, "flags/launchdarkly-prod.json", launchdarkly(on=False, weights=(100000, 0)),
                           launchdarkly(on=True, weights=(100000, 0)))
    assert rules_of(found) == [("FLG-001", "flags.new-checkout.on")]
    assert "all traffic in prod" in found[0]["message"]


def test_flagd_fractional_jump_and_state_flip(repo):
    found = warnings_after(repo, "flags/flagd.json", flagd(weights=(10, 90)), flagd(weights=(50, 50)))
    assert rules_of(found) == [("FLG-001", "flags.new-ui.targeting.fractional[0][1]")]
    repo.write("flags/flagd.json", flagd(state="DISABLED", default="on", targeting=False))
    repo.commit("base 2")
    repo.write("flags/flagd.json", flagd(state="ENABLED", default="on", targeting=False))
    assert rules_of([f for f in repo.check_json()["findings"]]) == [("FLG-001", "flags.new-ui.state")]


def test_flagd_enabled_behind_targeting_is_not_a_flip_to_everyone(repo):
    assert warnings_after(repo, "flags/flagd.json", flagd(state="DISABLED"), flagd(state="ENABLED")) == []


def test_flagd_default_variant_moved_to_true(repo):
    found = warnings_after(repo, "flags/flagd.json", flagd(targeting=False), flagd(default="on", targeting=False))
    assert rules_of(found) == [("FLG-001", "flags.new-ui.defaultVariant")]


def test_unleash_rollout_to_100_in_one_step(repo):
    found = warnings_after(repo, "feature-flags/unleash-export.yaml", UNLEASH % "10", UNLEASH % "100")
    assert rules_of(found) == [
        ("FLG-001", "features[name=new-checkout].strategies[name=flexibleRollout].parameters.rollout")]
    assert found[0]["line"] == 9


def test_staging_rollout_steps_are_not_flagged(repo):
    assert warnings_after(repo, "deploy/staging/feature-flags.yaml", UNLEASH % "10", UNLEASH % "20") == []
    repo.write("deploy/staging/feature-flags.yaml", UNLEASH % "100")
    assert [f for f in repo.check_json()["findings"] if f["severity"] != "info"] == []


def test_plain_boolean_feature_map(repo):
    before = "features:\n  new_checkout: false\n  dark_mode: true\n"
    found = warnings_after(repo, "config/features.yaml", before, before.replace("new_checkout: false",
                                                                                 "new_checkout: true"))
    assert rules_of(found) == [("FLG-001", "features.new_checkout")]


def test_step_parameter_from_policy(repo):
    repo.write(".changegate.yaml", "version: 1\nrules:\n  FLG-001: {params: {step: 1.5, min_step_points: 5}}\n")
    found = warnings_after(repo, "flags/launchdarkly-prod.json", launchdarkly(),
                           launchdarkly(weights=(20000, 80000)))
    assert rules_of(found) == [("FLG-001", "flags.new-checkout.fallthrough.rollout.variations[0].weight")]


# -- FLG-002 ------------------------------------------------------------------------------------
def test_repurposed_variation_value_is_flagged(repo):
    found = warnings_after(repo, "flags/launchdarkly-prod.json", launchdarkly(),
                           launchdarkly(pricing=("power-peg", "v2")))
    assert rules_of(found) == [("FLG-002", "flags.pricing-engine.variations[name=current].value")]
    assert "power-peg" in found[0]["message"] and "new flag key" in found[0]["message"]


def test_flag_kind_change_is_flagged_and_adding_a_variation_is_not(repo):
    found = warnings_after(repo, "flags/launchdarkly-prod.json", launchdarkly(), launchdarkly(kind="boolean"))
    assert rules_of(found) == [("FLG-002", "flags.pricing-engine.kind")]
    data = json.loads(launchdarkly())
    data["flags"]["pricing-engine"]["variations"].append({"value": "v3", "name": "experiment"})
    repo.write("flags/launchdarkly-prod.json", launchdarkly())
    repo.commit("base 2")
    repo.write("flags/launchdarkly-prod.json", json.dumps(data, indent=2))
    assert [f for f in repo.check_json()["findings"] if f["severity"] != "info"] == []


def test_variation_type_change(repo):
    found = warnings_after(repo, "flags/launchdarkly-prod.json", launchdarkly(), launchdarkly(pricing=("legacy", 2)))
    assert rules_of(found) == [("FLG-002", "flags.pricing-engine.variations[name=next].value")]
    assert "changes type" in found[0]["message"]


# -- FLG-003 ------------------------------------------------------------------------------------
def test_killswitch_flip(repo):
    found = warnings_after(repo, "flags/edge.yaml", EDGE_FLAGS % "false", EDGE_FLAGS % "true")
    assert rules_of(found) == [("FLG-003", "flags.waf_managed_rules_killswitch.enabled")]
    assert found[0]["name"] == "killswitch-global" and found[0]["line"] == 4


def test_new_killswitch_added_disengaged_is_routine(repo):
    before = "flags:\n  search_v2:\n    description: New search backend\n    enabled: true\n"
    assert warnings_after(repo, "flags/edge.yaml", before, EDGE_FLAGS % "false") == []


def test_change_in_globally_propagated_file(repo):
    found = warnings_after(repo, "ops/edge-config/waf.yaml", GLOBAL_CONFIG % "log", GLOBAL_CONFIG % "block")
    assert rules_of(found) == [("FLG-003", "rules[id=waf-test-rule].action")]
    assert "propagation: global" in found[0]["message"]


def test_same_change_without_global_marker_is_not_flg003(repo):
    before = (GLOBAL_CONFIG % "log").replace("propagation: global", "propagation: staged")
    after = (GLOBAL_CONFIG % "block").replace("propagation: global", "propagation: staged")
    assert warnings_after(repo, "ops/edge-config/waf.yaml", before, after) == []


def test_disable_word_counts_only_in_flag_files(repo):
    values = "metrics:\n  disabled: %s\n  port: 9090\n"
    assert warnings_after(repo, "charts/api/values.yaml", values % "true", values % "false") == []


def test_kill_timeout_is_not_a_kill_switch(repo):
    job = "job:\n  api:\n    kill_timeout: %s\n    kill_signal: SIGTERM\n"
    assert warnings_after(repo, "deploy/prod/api-job.yaml", job % "5s", job % "30s") == []
