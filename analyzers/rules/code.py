"""Code rules: control-plane operations added in code (CODE-001) and config consumers that crash
on a missing key (CODE-002). Both look only at the changed hunks (analyzers/codescan.py)."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Iterable, Optional

from ..codescan import FAMILIES, GO_VALUE_PARSERS, LANGUAGE_FAMILY, Call, ConfigRead, file_calls, \
    file_config_reads, language_for
from ..model import ConfigChange, FileChange
from .registry import FileFacts, Hit, rule


@dataclass(frozen=True)
class Op:
    """A control-plane operation found in a changed call: what it touches and its guards."""
    call: Call
    label: str   # `asg.update_auto_scaling_group`, `kubectl scale`
    what: str    # AWS Auto Scaling, Kubernetes, Helm release, feature flags, ...
    hint: str    # the guards this kind of call can take, named in the message
    guards: tuple[str, ...]  # what it has: dry-run, MinSize, --timeout, saved plan, confirmation prompt
    zero: bool   # sets a capacity to 0
    drastic: bool  # destroys a stack or release outright


# SDK methods, snake_cased (Go `TerminateInstancesWithContext`, TS `patchNamespacedDeployment`,
# `new UpdateAutoScalingGroupCommand` all normalise to the Python spelling). `aws_only` entries are
# too generic to trust unless the file imports an AWS SDK.
_SDK = [(what, re.compile(rf"(?:{rx})$"), aws_only) for what, rx, aws_only in (
    ("AWS Auto Scaling", r"update_auto_scaling_group|set_desired_capacity|terminate_instance_in_auto_scaling_group|"
                         r"start_instance_refresh|put_scaling_policy", False),
    ("EC2 instances", r"terminate_instances|stop_instances", False),
    ("Route 53 records", r"change_resource_record_sets", False),
    ("SSM parameters", r"put_parameter|delete_parameters?", False),
    ("Kubernetes objects", r"(?:patch|replace|delete|delete_collection)_namespaced_\w+|create_namespaced_pod_eviction|"
                           r"(?:patch|replace|delete)_(?:node|namespace|persistent_volume|custom_resource_definition|"
                           r"cluster_custom_object)\w*", False),
    ("feature flags (LaunchDarkly API)", r"(?:patch|delete|copy|update)_feature_flag\w*", False),
    ("AWS resources", r"(?:delete|modify|terminate|deregister|detach|suspend|reboot)_\w+|update_service|update_stack",
     True))]
_DATA_PLANE = re.compile(r"_(?:object|objects|item|message|message_batch|record|records|item_batch)$")
_AWS_IMPORT = re.compile(r"\bboto3\b|\bbotocore\b|aws-sdk-go|@aws-sdk/|['\"]aws-sdk['\"]")
_CLIENT_GO = re.compile(r"\.(Deployments|StatefulSets|DaemonSets|ReplicaSets|ConfigMaps|Secrets|Services|Pods|Nodes|"
                        r"Namespaces|HorizontalPodAutoscalers|Ingresses|Jobs|CronJobs|PodDisruptionBudgets|Scales|"
                        r"Resource)\(.*\)\.(Patch|Delete|DeleteCollection|Update|UpdateScale|Apply|ApplyScale|Evict\w*)$")
_FLAG_API = re.compile(r"/api/v2/flags/|/api/admin/\S*features|/api/admin/\S*feature-toggles")
_HTTP_WRITES = {"post", "put", "patch", "delete"}
_EXEC = {"run", "call", "check_call", "check_output", "Popen", "system", "popen", "getoutput", "getstatusoutput",
         "sudo", "local", "Command", "CommandContext", "exec", "execSync", "execFile", "execFileSync", "spawn",
         "spawnSync", "execa", "execaSync", "execaCommand", "execaCommandSync", "$"}
# CLI tools: (what, mutating verbs, read-only verbs); the first known verb decides.
_KUBECTL = ("Kubernetes", {"scale", "apply", "delete", "patch", "replace", "rollout", "drain", "cordon", "taint", "set"},
            {"get", "describe", "logs", "diff", "explain", "version", "config", "top", "wait", "auth", "create",
             "api-resources", "cluster-info", "port-forward", "exec", "cp", "label", "annotate", "kustomize"})
_TERRAFORM = ("Terraform infrastructure", {"apply", "destroy"},
              {"plan", "init", "validate", "fmt", "output", "show", "state", "workspace", "providers", "version",
               "graph", "import", "console", "login", "refresh", "test"})
_CLI = {"kubectl": _KUBECTL, "oc": _KUBECTL, "terraform": _TERRAFORM, "tofu": _TERRAFORM, "terragrunt": _TERRAFORM,
        "helm": ("Helm release", {"upgrade", "install", "uninstall", "delete", "rollback"},
                 {"list", "ls", "status", "template", "lint", "get", "history", "show", "search", "repo", "dependency",
                  "diff", "version", "pull", "package", "plugin", "test", "env"})}
_ROLLOUT_WRITES = {"restart", "undo", "pause", "resume"}
_WRAPPERS = {"sudo", "env", "time", "nohup", "exec", "command", "timeout", "xargs", "retry", "sh", "bash"}
_HINTS = {"Kubernetes": "--dry-run=server, --timeout", "Helm release": "--dry-run, --atomic, --timeout",
          "Terraform infrastructure": "a saved plan instead of -auto-approve, -target"}
_SDK_HINTS = (("AWS Auto Scaling", "MinSize, HonorCooldown"), ("EC2", "DryRun=True"),
              ("Kubernetes", "dry_run='All' / DryRun: All"), ("feature flags", "a dry-run"))
_SDK_HINT = "a dry-run switch, or a floor or batch limit"
_LIMITS = {"minsize", "mincapacity", "minreplicas", "minhealthypercentage", "minavailable", "maxunavailable",
           "batchsize", "maxbatchsize", "currentreplicas", "honorcooldown", "timeout", "atomic", "target"}
_NO_DRY_RUN = re.compile(r"(?i)dry[-_]?run\w*[\"']?\s*[:=]\s*[\"']?(?:false|none|nil|\[\]|[\"']{2})[\"']?(?=[\s,)}\]]|$)")
_ZERO = re.compile(r"(?i)(?:replicas|desired[-_]?capacity|desired[-_]?count|max[-_]?size)[\"']?(?:\s*[:=]\s*|\s+)"
                   r"[\"']?0(?![\w.])")
_TEST_PATH = re.compile(r"(?:^|/)(?:tests?|__tests__|testdata|spec)/|(?:^|/)(?:test_[^/]*|conftest)\.py$|"
                        r"_test\.(?:py|go)$|\.(?:test|spec)\.[cm]?[jt]sx?$")


def snake(name: str) -> str:
    """`TerminateInstancesWithContext` / `UpdateAutoScalingGroupCommand` / `patchNamespacedDeployment`
    -> the Python SDK spelling."""
    if name[:1].isupper() or re.search(r"[a-z][A-Z]", name):
        name = re.sub(r"(?<=.)(?:Command|WithContext|Request)$", "", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().replace("-", "_")


def is_test_path(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def _norm(word: str) -> str:
    return re.sub(r"[-_${}]", "", word.lower())


def _guards(text: str, words: Iterable[str] = ()) -> tuple[str, ...]:
    """Guards visible in a call's arguments: a dry-run switch (not switched off) and limit, floor or
    batch arguments, named as written (`MinSize`, `--timeout`)."""
    names = [w.split("=", 1)[0] for w in words if w.startswith("-")] if words \
        else re.findall(r"[A-Za-z][\w-]*", text)
    dry = any(_norm(n).startswith("dryrun") for n in names + re.findall(r"\w*DRY_RUN\w*", text)) \
        and not _NO_DRY_RUN.search(text)
    limits = sorted({n for n in names if _norm(n) in _LIMITS  # MinSize=0 is no floor
                     and not re.search(rf"{re.escape(n)}[\"']?(?:\s*[:=]\s*|\s+)[\"']?0(?![\w.])", text)})
    return (("dry-run",) if dry else ()) + tuple(limits)


def _sdk_op(call: Call, aws: bool) -> Optional[Op]:
    what = None
    if _CLIENT_GO.search(call.callee):
        what = "Kubernetes " + _CLIENT_GO.search(call.callee).group(1)
    elif call.receiver and call.receiver not in ("self", "cls", "this"):
        name = snake(call.name)
        what = next((w for w, rx, aws_only in _SDK if rx.match(name) and (aws or not aws_only)
                     and not (aws_only and _DATA_PLANE.search(name))), None)
    elif call.kind == "new" and call.name.endswith("Command"):
        name = snake(call.name)
        what = next((w for w, rx, aws_only in _SDK if rx.match(name) and (aws or not aws_only)), None)
    if what is None and _flag_rest_write(call):
        what = "feature flags (REST API)"
    if what is None:
        return None
    hint = next((h for prefix, h in _SDK_HINTS if what.startswith(prefix)), _SDK_HINT)
    return Op(call, call.callee, what, hint, _guards(call.args),
              bool(_ZERO.search(call.args)), False)


def _flag_rest_write(call: Call) -> bool:
    if not any(_FLAG_API.search(s) for s in call.strings):
        return False
    if call.name.lower() in _HTTP_WRITES:
        return True
    return bool(re.search(r"(?i)\b(?:PATCH|POST|PUT|DELETE)\b|Method(?:Patch|Post|Put|Delete)", call.args))


def _cli_op(call: Call, words: list[str]) -> Optional[Op]:
    """The first mutating CLI command among `words` (split at &&, ||, ;, |)."""
    segment: list[str] = []
    for word in words + [";"]:
        if word not in ("&&", "||", ";", "|"):
            segment.append(word)
            continue
        op = _cli_segment(call, segment)
        if op:
            return op
        segment = []
    return None


def _tool(word: str) -> str:
    return re.sub(r"[${}\"']", "", word).rsplit("/", 1)[-1].lower().removesuffix(".exe")


def _cli_segment(call: Call, words: list[str]) -> Optional[Op]:
    i = 0
    while i < len(words) and (_tool(words[i]) in _WRAPPERS or words[i].startswith("-") or "=" in words[i]
                              or words[i].isdigit() or re.fullmatch(r"\d+[smh]", words[i])):
        i += 1
    if i >= len(words):
        return None
    tool, rest = _tool(words[i]), words[i + 1:]
    if tool == "aws":
        return _aws_cli(call, rest)
    if tool not in _CLI:
        return None
    what, writes, reads = _CLI[tool]
    for n, word in enumerate(rest):
        if word in reads:
            return None
        if word not in writes:
            continue
        after = [w for w in rest[n + 1:] if not w.startswith("-")]
        if word == "rollout" and not (after and after[0] in _ROLLOUT_WRITES):
            return None
        label = f"{tool} {word}" + (f" {after[0]}" if word == "rollout" else "")
        text = " ".join(rest)
        guards = _guards(text, rest)
        if what.startswith("Terraform"):
            approve = any(w.lstrip("-").startswith("auto-approve") and not w.endswith("=false") for w in rest)
            guards += (() if approve else ("confirmation prompt",)) + \
                (("saved plan",) if word == "apply" and _plan_file(rest[n + 1:]) else ())
            label += " -auto-approve" if approve else ""
        hint = "--dry-run=server, --current-replicas" if label.endswith("scale") else _HINTS[what]
        return Op(call, label, what, hint, guards, bool(_ZERO.search(text)),
                  word in ("destroy", "uninstall") or (tool == "helm" and word == "delete"))
    return None


def _plan_file(args: list[str]) -> bool:
    """`terraform apply tfplan`: a positional argument applies a saved, reviewed plan."""
    previous = ""
    for word in args:
        if not word.startswith("-") and (not previous or "=" in previous or "approve" in previous
                                         or previous in ("-no-color", "-json", "-compact-warnings")):
            return True
        previous = word
    return False


def _aws_cli(call: Call, rest: list[str]) -> Optional[Op]:
    positional, skip = [], False
    for word in rest:
        if skip:
            skip = False
        elif word.startswith("--"):
            skip = "=" not in word and word in ("--region", "--profile", "--output", "--endpoint-url")
        else:
            positional.append(word)
    if len(positional) < 2:
        return None
    name = snake(positional[1])
    what = next((w for w, rx, _ in _SDK if rx.match(name) and not _DATA_PLANE.search(name)), None)
    if what is None or "flag" in what or what.startswith("Kubernetes"):
        return None
    text = " ".join(rest)
    return Op(call, f"aws {positional[0]} {positional[1]}", what, "--dry-run, --min-size", _guards(text, rest),
              bool(_ZERO.search(text)), False)


def _policy_op(call: Call, specs: Iterable[dict]) -> Optional[Op]:
    family = LANGUAGE_FAMILY.get(call.language)
    line = " ".join(call.strings) if call.kind == "command" else call.callee
    for spec in specs or ():
        language = spec.get("language")
        if language and FAMILIES.get(str(language).lower()) != family:
            continue
        for pattern in spec.get("calls") or ():
            if fnmatchcase(call.callee, pattern) or fnmatchcase(line, pattern) \
                    or ("." not in pattern and fnmatchcase(call.name, pattern)):
                command = call.kind == "command"
                return Op(call, line.split(" -", 1)[0][:60] if command else call.callee,
                          f"policy control_plane.code `{pattern}`", "",
                          _guards(call.args, call.strings[1:] if command else ()),
                          bool(_ZERO.search(call.args)), False)
    return None


def _ops(change: FileChange, extra: Iterable[dict], side: str) -> list[Op]:
    calls = file_calls(change, side)
    aws = bool(calls) and bool(_AWS_IMPORT.search((change.old_text if side == "old" else change.new_text) or ""))
    ops = []
    for call in calls:
        if call.kind == "command":
            op = _cli_op(call, list(call.strings))
        elif call.name in _EXEC and call.strings:
            op = _cli_op(call, " ".join(call.strings).split())
        else:
            op = _sdk_op(call, aws)
        op = op or _policy_op(call, extra)
        if op:
            ops.append(op)
    return ops


def control_plane_ops(change: FileChange, extra: Iterable[dict] = ()) -> list[Op]:
    """Control-plane operations in the changed hunks of one code file (tests excluded), minus
    those the old file already had in the same form (a rename or a reformat is not a new op).
    Also the evidence a classifier can use to mark the file `control-plane`."""
    if is_test_path(change.path):
        return []
    ops = _ops(change, extra, "new")
    if not ops or not change.old_text:
        return ops
    pool = [((o.what, o.label.rsplit(".", 1)[-1], o.guards, o.zero), f"{o.call.callee} {o.call.args}")
            for o in _ops(change, extra, "old")]
    return [op for op in ops if not _carried_over((op.what, op.label.rsplit(".", 1)[-1], op.guards, op.zero),
                                                  f"{op.call.callee} {op.call.args}", pool, change)]


_TOKENS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|[A-Za-z_$][\w$]*|\d+(?:\.\d+)?|\S")
_SHELL_TOKENS = re.compile(r"\$\{?\w+\}?|[^\s$]+")


def _carried_over(key: tuple, text: str, pool: list[tuple[tuple, str]], change: FileChange) -> bool:
    """Whether the old side had this operation, token for token but for renamed variables. A
    rename x -> y counts only when x was a variable of the old file (used elsewhere too), is gone
    from the new file, and y is a fresh name; string values and flags must match exactly."""
    shell = (language_for(change.path) or "") == "bash"
    tokens = _SHELL_TOKENS if shell else _TOKENS
    ident = re.compile(r"\$\{?\w+\}?" if shell else r"[A-Za-z_$][\w$]*")
    old_text, new_text = change.old_text or "", change.new_text or ""

    counts: dict[int, Counter] = {}

    def count(name: str, source: str) -> int:  # uses as a name: shell words, else code tokens
        if shell:
            return len(re.findall(rf"(?<!\w){re.escape(name.strip('${}'))}(?!\w)", source))
        if id(source) not in counts:
            counts[id(source)] = Counter(tokens.findall(source))
        return counts[id(source)][name]

    for n, (old_key, old) in enumerate(pool):
        a, b = tokens.findall(old), tokens.findall(text)
        if old_key != key or len(a) != len(b):
            continue
        mapping: dict[str, str] = {}
        if all(x == y or (ident.fullmatch(x) and ident.fullmatch(y) and mapping.setdefault(x, y) == y)
               for x, y in zip(a, b)) and all(count(x, old_text) >= 2 and not count(x, new_text)
                                               and not count(y, old_text) for x, y in mapping.items()):
            del pool[n]
            return True
    return False


def _severity(op: Op, environment: Optional[str]) -> str:
    if op.guards:
        return "info"
    level = "error" if op.zero or op.drastic or environment == "prod" else "warning"
    if environment in ("dev", "test"):
        return "info"
    return "warning" if environment == "staging" else level


def _compact(text: str, limit: int = 160) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@rule("CODE-001", "control-plane-op", "warning",
      summary="Changed code calls an operation that mutates fleets or live config, without a dry-run or a limit.",
      rationale="Operator tools and scripts are the trigger of many large outages: one command, run "
                "against everything at once, with nothing that previews it or bounds how much it may "
                "take away. A new or changed call to scale, terminate, delete, patch or apply deserves a "
                "dry-run, a floor (MinSize, --current-replicas) or a batch limit, and a reviewer who "
                "knows the fleet.",
      incident="Facebook 2021-10-04 (a capacity-assessment command took down the backbone); AWS S3 "
               "2017-02-28 (a playbook input removed too many servers); Salesforce 2021-05-11",
      kinds=("code",), control_plane_code=())
def control_plane_op(facts: FileFacts, params: dict) -> Iterable[Hit]:
    for op in control_plane_ops(facts.file, params.get("control_plane_code") or ()):
        call, severity = op.call, _severity(op, facts.environment)
        kind = "command" if call.kind == "command" or op.label != call.callee else "call"
        via = f" via `{call.callee}`" if call.kind != "command" and op.label != call.callee else ""
        if op.guards:
            detail = f", guarded by {', '.join(op.guards)}"
        else:
            detail = " without a dry-run, a limit or a floor" + (f" (e.g. {op.hint})" if op.hint else "")
        extra = "; it sets a capacity to 0" if op.zero else "; it destroys what it targets" if op.drastic else ""
        change = ConfigChange(key=op.label, op="add", new=_compact(call.callee + call.args),
                              line=call.line)
        yield Hit(f"control-plane {kind} `{op.label}`{via} ({op.what}) added or changed{detail}{extra}",
                      call.line, call.end_line, change=change, severity=severity)


def _consumer_message(read: ConfigRead) -> tuple[str, str]:
    shown, value_only = _compact(read.text, 100), read.source in GO_VALUE_PARSERS
    if read.how == "env":
        return "info", (f"`{shown}` raises KeyError when the variable is unset; use os.environ.get() with a "
                        f"default, or check it once at startup")
    if read.how == "subscript":
        return "info", (f"`{shown}` raises KeyError when the key is missing from the loaded config "
                        f"(`{read.source}`); use .get() with a default, or validate the config after loading")
    if read.how == "chain":
        return "info", (f"`{shown}` throws a TypeError when an intermediate key is missing from the parsed "
                        f"config (`{read.source}`); use optional chaining (?.) with a default, or validate it")
    outcome = "a bad value silently becomes the zero value" if value_only else \
        "a malformed config silently leaves zero values (nil maps, 0 limits) and the code runs on"
    verb = "ignores" if read.how == "ignored-error" else "does not check"
    return ("info" if value_only else "warning"), f"`{shown}` {verb} the error of {read.source}: {outcome}"


@rule("CODE-002", "fragile-config-consumer", "info",
      summary="Changed code reads config in a way that crashes or silently misbehaves when a value is missing.",
      rationale="The consumer decides what a bad config push costs: code that indexes a parsed config "
                "without a default, or drops the parse error, turns one missing or malformed value into a "
                "crash loop (fail-closed) or a silently zeroed limit across the fleet.",
      incident="Cloudflare 2025-11-18 (unwrap() on a config file over its size cap); Google Cloud "
               "2025-06-12 (blank policy fields, no error handling, null pointer crash loop)",
      kinds=("code",))
def fragile_config_consumer(facts: FileFacts, params: dict) -> Iterable[Hit]:
    if is_test_path(facts.file.path):
        return
    pool = [((r.how, r.source), r.text) for r in file_config_reads(facts.file, "old")] if facts.file.old_text else []
    for read in file_config_reads(facts.file):
        if pool and _carried_over((read.how, read.source), read.text, pool, facts.file):
            continue
        severity, message = _consumer_message(read)
        change = ConfigChange(key=_compact(read.text, 100), op="add", new=read.how, line=read.line)
        yield Hit(message, read.line, read.end_line, change=change, severity=severity)
