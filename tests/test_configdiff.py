"""Semantic diff: key paths, ops, old -> new values and lines, on YAML and JSON."""
import pytest

from analyzers.configdiff import MAX_BLOCK_LEVELS, diff_config


def changes(language, old, new):
    result = diff_config(language, old, new)
    assert result.error is None, result.error
    return [(c.key, c.op, c.old, c.new, c.line) for c in result.changes]


def test_replace_reports_key_path_values_and_new_line():
    old = "spec:\n  replicas: 3\n  image: a:1\n"
    new = "# moved down\nspec:\n  replicas: 0\n  image: a:1\n"
    assert changes("yaml", old, new) == [("spec.replicas", "replace", 3, 0, 3)]


def test_comment_and_quoting_changes_are_not_changes():
    old = "a: 1\nb: 'x'\nc: [1, 2]\n"
    new = "a: 1   # why\nb: \"x\"\nc: [1,2]\n"
    assert changes("yaml", old, new) == []


def test_add_and_remove_with_removal_anchored_after_surviving_sibling():
    old = "spec:\n  a: 1\n  gone: 2\n  b: 3\n"
    new = "spec:\n  a: 1\n  b: 3\n  added: {x: 1}\n"
    assert changes("yaml", old, new) == [
        ("spec.gone", "remove", 2, None, 2),
        ("spec.added", "add", None, {"x": 1}, 4),
    ]


def test_renamed_key_with_same_value_is_one_rename():
    old = "limits:\n  timeout_ms: 300\n"
    new = "limits:\n  timeoutMs: 300\n"
    assert changes("yaml", old, new) == [("limits.timeoutMs", "rename", "timeout_ms", "timeoutMs", 2)]


def test_type_change_is_distinguished_from_value_change():
    assert changes("yaml", "port: 8080\n", "port: '8080'\n") == [("port", "type_change", 8080, "8080", 1)]
    assert changes("yaml", "on: true\n", "on: false\n") == [("on", "replace", True, False, 1)]
    assert changes("yaml", "x: 1\n", "x: [1]\n") == [("x", "type_change", 1, [1], 1)]


def test_named_list_items_are_matched_by_name_not_position():
    old = "containers:\n  - name: api\n    image: a:1\n  - name: side\n    image: s:1\n"
    new = "containers:\n  - name: warm\n    image: w:1\n  - name: api\n    image: a:2\n  - name: side\n    image: s:1\n"
    assert changes("yaml", old, new) == [
        ("containers[name=warm]", "add", None, {"name": "warm", "image": "w:1"}, 2),
        ("containers[name=api].image", "replace", "a:1", "a:2", 5),
    ]


def test_reordering_named_items_is_not_a_change_but_reordering_plain_items_is():
    old = "env:\n  - {name: A, value: 1}\n  - {name: B, value: 2}\n"
    new = "env:\n  - {name: B, value: 2}\n  - {name: A, value: 1}\n"
    assert diff_config("yaml", old, new).changes == []
    args = diff_config("yaml", "args: [--a, --b]\n", "args: [--b, --a]\n").changes
    assert [(c.key, c.op) for c in args] == [("args", "reorder")]


def test_removed_named_item_is_anchored_after_the_surviving_one_before_it():
    old = "c:\n  - name: a\n    x: 1\n  - name: gone\n    x: 2\n  - name: b\n    x: 3\n"
    new = "c:\n  - name: a\n    x: 1\n  - name: b\n    x: 3\n"
    result = diff_config("yaml", old, new).changes
    assert [(c.key, c.op, c.line, c.old_line) for c in result] == [("c[name=gone]", "remove", 2, 4)]


def test_container_ports_are_matched_by_port():
    old = "ports:\n  - {containerPort: 80, protocol: TCP}\n  - {containerPort: 9090, protocol: TCP}\n"
    new = "ports:\n  - {containerPort: 9090, protocol: UDP}\n  - {containerPort: 80, protocol: TCP}\n"
    assert changes("yaml", old, new) == [("ports[containerPort=9090].protocol", "replace", "TCP", "UDP", 2)]


def test_inserting_into_a_plain_list_is_one_add_not_a_cascade():
    assert changes("yaml", "ports: [80, 443, 8080]\n", "ports: [80, 8443, 443, 8080]\n") == [
        ("ports[1]", "add", None, 8443, 1)]


def test_kubernetes_documents_are_matched_by_identity():
    old = "kind: Service\nmetadata: {name: api}\nport: 80\n---\nkind: Deployment\nmetadata: {name: api}\nspec: {replicas: 3}\n"
    new = "kind: Deployment\nmetadata: {name: api}\nspec: {replicas: 2}\n---\nkind: Service\nmetadata: {name: api}\nport: 80\n"
    result = diff_config("yaml", old, new).changes
    assert [(c.document, c.key, c.old, c.new, c.line) for c in result] == [
        ("Deployment/api", "spec.replicas", 3, 2, 3)]


def test_new_file_lists_each_top_level_key():
    assert changes("yaml", None, "a: 1\nb:\n  c: 2\n") == [("a", "add", None, 1, 1), ("b", "add", None, {"c": 2}, 2)]


def test_json_objects_and_arrays():
    old = '{"flags": {"checkout_v2": {"rollout": 5}}, "regions": ["eu"]}'
    new = '{"flags": {"checkout_v2": {"rollout": 100}}, "regions": ["eu", "us"]}'
    assert changes("json", old, new) == [
        ("flags.checkout_v2.rollout", "replace", 5, 100, 1), ("regions[1]", "add", None, "us", 1)]


def test_keys_with_dots_are_quoted():
    old = 'metadata:\n  annotations:\n    app.kubernetes.io/name: a\n'
    new = 'metadata:\n  annotations:\n    app.kubernetes.io/name: b\n'
    assert changes("yaml", old, new)[0][0] == 'metadata.annotations["app.kubernetes.io/name"]'


def test_block_scalars_and_quoted_escapes_are_decoded():
    old = 'script: |\n  echo one\n  echo two\nmsg: "a\\tb"\n'
    new = 'script: |\n  echo one\n  echo 2\nmsg: "a\\tb"\n'
    assert changes("yaml", old, new) == [("script", "replace", "echo one\necho two\n", "echo one\necho 2\n", 1)]


BOMB = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n" + "".join(
    f"{k}: &{k} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, k in zip("abcdefgh", "bcdefghi"))


def test_yaml_alias_bomb_is_not_expanded():
    result = diff_config("yaml", None, BOMB)
    assert result.error is None
    values = {c.key: c.new for c in result.changes}
    assert values["i"] == ["*h"] * 9  # aliases stand for themselves: nothing multiplies


def test_changing_an_anchor_reports_the_anchor_not_every_alias():
    new = BOMB.replace('"lol","lol","lol","lol","lol","lol","lol","lol","lol"', '"lol"')
    result = diff_config("yaml", BOMB, new)
    assert {c.key for c in result.changes} <= {"a[1]", "a[2]", "a[3]", "a[4]", "a[5]", "a[6]", "a[7]", "a[8]"}


def test_hostile_block_nesting_is_refused_before_the_parser():
    deep = "".join("  " * i + "- k:\n" for i in range(400)) + "  " * 400 + "1\n"
    result = diff_config("yaml", "a: 1\n", deep)
    assert result.error is not None and result.error.side == "new"
    assert f"deeper than {MAX_BLOCK_LEVELS}" in result.error.message and result.changes == []


def test_deep_flow_nesting_is_summarised_not_recursed():
    n = 20000
    old = "a: " + "[" * n + "1" + "]" * n + "\n"
    new = "a: " + "[" * n + "2" + "]" * n + "\n"
    result = diff_config("yaml", old, new)
    assert len(result.changes) == 1 and "nested deeper" in str(result.changes[0].new)


@pytest.mark.parametrize("language,bad", [("yaml", "a: [1, 2\nb: }\n"), ("json", '{"a": 1,,}')])
def test_malformed_new_side_reports_line_and_no_changes(language, bad):
    result = diff_config(language, "{}" if language == "json" else "a: 1\n", bad)
    assert result.error is not None and result.error.side == "new" and result.error.line >= 1
    assert result.changes == []


def test_malformed_base_treats_new_side_as_added():
    result = diff_config("yaml", "a: [1\n", "a: 1\n")
    assert result.error.side == "old"
    assert [(c.key, c.op) for c in result.changes] == [("a", "add")]
