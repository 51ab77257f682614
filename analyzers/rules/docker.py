"""Dockerfile rules: what the built image does at run time changes through what reads as a build
edit. They judge the runtime image only, the last stage and the stages it is built `FROM`;
builder stages fail loudly in CI and are left alone.

A stage inherits its parent stage's USER, HEALTHCHECK, ENTRYPOINT/CMD, EXPOSE and STOPSIGNAL, so
the rules compare the effective runtime config of the old and new file (parsed by
configdiff.dockerfile, cached), then point at the change in the Report that caused it."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from ..configdiff.dockerfile import DEFAULT_SHELL, Dockerfile, Instruction, command, exec_form, \
    healthcheck, keyed_values, parse_dockerfile, port, raw_words, unquote
from ..configdiff.flat import FlatError
from ..model import ConfigChange
from .kubernetes import parse_image
from .registry import FileFacts, Hit, rule
from .util import fmt

_ROOT = re.compile(r"(?:root|0)(?::.*)?")
_ARG_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|([A-Za-z_][A-Za-z0-9_]*))")
_MAJOR = re.compile(r"^v?(\d+)(?:\.\d+)*(?:[-+_].*)?$")


@dataclass
class Runtime:
    """The effective config of the image the Dockerfile ships (its last stage)."""
    df: Dockerfile
    base: str                       # the external image at the root of the FROM chain, ARGs filled in
    base_ins: Instruction           # that stage's FROM
    settings: dict = field(default_factory=dict)  # USER/HEALTHCHECK/... -> (value, instruction)


def runtime(text: Optional[str]) -> Optional[Runtime]:
    if not text:
        return None
    try:
        df = parse_dockerfile(text)
    except FlatError:
        return None
    if not df.stages:
        return None
    by_name = {s.name: s for s in df.stages if s.name}
    chain = [df.stages[-1]]
    while chain[-1].image.lower() in by_name and by_name[chain[-1].image.lower()].index < chain[-1].index:
        chain.append(by_name[chain[-1].image.lower()])
    root = chain[-1]
    args = {k: v for ins in df.args for k, v, _, _ in keyed_values(ins, df.escape)}
    base = _ARG_REF.sub(lambda m: args.get(m.group(1) or m.group(2)) or m.group(0), root.image)
    rt = Runtime(df, base, root.from_)
    for stage in reversed(chain):  # ancestors first: later stages override what they inherit
        shell = DEFAULT_SHELL
        for ins in stage.instructions:
            kw = ins.keyword
            if kw == "SHELL":
                shell = exec_form(ins.args) or shell
            elif kw in ("CMD", "ENTRYPOINT"):
                if kw == "ENTRYPOINT":
                    rt.settings.pop("CMD", None)  # Docker resets an inherited CMD with a new ENTRYPOINT
                rt.settings[kw] = (command(ins.args, shell), ins)
            elif kw == "HEALTHCHECK":
                rt.settings[kw] = (healthcheck(ins, shell, df.escape), ins)
            elif kw in ("USER", "STOPSIGNAL"):
                rt.settings[kw] = (unquote(ins.args.strip(), df.escape), ins)
            elif kw == "EXPOSE":
                for word, _, _ in raw_words(ins.args, df.escape):
                    rt.settings.setdefault("EXPOSE", {})[port(unquote(word, df.escape))] = ins
    return rt


def _pair(facts: FileFacts) -> Optional[tuple[Runtime, Runtime]]:
    if facts.file.old_text is None or facts.file.new_text is None:
        return None  # a Dockerfile added or deleted: no transition to judge
    old, new = runtime(facts.file.old_text), runtime(facts.file.new_text)
    return (old, new) if old and new else None


def _stage_key(old: Runtime, new: Runtime, ins: Instruction) -> str:
    """The Report's key path prefix for the new-side stage holding `ins` (the differ matches
    stages by `AS name` only when every stage on both sides is named)."""
    stage = next(s for s in new.df.stages if s.from_ is ins or any(i is ins for i in s.instructions))
    names = [[s.name for s in rt.df.stages] for rt in (old, new)]
    named = all(None not in n and len(set(n)) == len(n) for n in names)
    return f"stage[name={stage.name}]" if named else f"stage[{stage.index}]"


def _find(facts: FileFacts, key: str) -> Optional[ConfigChange]:
    return next((c for c in list(facts.changes) + list(facts.leaves) if c.key == key), None)


def _change(facts: FileFacts, key: str, old: Any, new: Any, line: int, old_line: Optional[int]) -> ConfigChange:
    """The Report's change at `key` when there is one, so the finding carries its key and values."""
    found = _find(facts, key)
    if found is not None:
        return found
    op = "add" if old is None else "remove" if new is None else "replace"
    return ConfigChange(key=key, op=op, old=old, new=new, line=line, old_line=old_line)


def _major(tag: Optional[str]) -> Optional[int]:
    m = _MAJOR.match(tag or "")
    return int(m.group(1)) if m and int(m.group(1)) < 1000 else None  # 2024.01 is a date


def base_drift(old: str, new: str) -> Optional[tuple[str, str]]:
    """(severity, why) when the base image drifts; None for a patch/minor bump or a digest refresh."""
    o, n = parse_image(old), parse_image(new)
    if o is None or n is None or (o == n):
        return None
    if o["registry"] != n["registry"]:
        return "warning", f"the base image now comes from another registry ({o['registry']} → {n['registry']})"
    if o["digest"] and not n["digest"]:
        return "warning", "a pinned digest becomes a mutable tag: the base can change without a commit"
    if n["tag"] in (None, "latest") and not n["digest"] and o["tag"] not in (None, "latest"):
        return "warning", f"the base is no longer pinned (`{n['tag'] or 'no tag'}` = whatever was pushed last)"
    if o["repo"] != n["repo"]:
        return "info", f"another base image ({o['repo']} → {n['repo']}): libc, shell and default user may differ"
    a, b = _major(o["tag"]), _major(n["tag"])
    if a is not None and b is not None and a != b:
        way = "jump" if b > a else "downgrade"
        return "warning", f"major version {way} of the base image ({o['tag']} → {n['tag']})"
    return None


@rule("DKR-001", "base-image-drift", "warning",
      summary="The runtime base image (FROM of the shipped stage) is unpinned, moves to another "
              "registry or repository, or jumps a major version. Patch/minor bumps and digest "
              "refreshes are routine and not flagged; builder stages are left alone.",
      rationale="The base image is most of what runs: its libc, shell, default user and packages. A "
                "major jump or an unpinned `latest` changes runtime behaviour through a one-line "
                "build edit, and hosts that build at different times ship different images.",
      incident="config-risk.md DKR-001 (generic); image drift as in K8S-003: Knight Capital 2012-08-01 "
               "(version skew, one server of eight ran different code)",
      kinds=("dockerfile",))
def base_image_drift(facts: FileFacts, params: dict) -> Iterable[Hit]:
    pair = _pair(facts)
    if pair is None:
        return
    old, new = pair
    found = base_drift(old.base, new.base)
    if found is None:
        return
    severity, why = found
    key = _stage_key(old, new, new.base_ins) + ".FROM"
    change = _find(facts, key)
    if change is None:  # the FROM text is unchanged: an ARG default moved it (`FROM node:${NODE_VERSION}`)
        used = {a or b for a, b in _ARG_REF.findall(new.base_ins.args)}
        change = next((c for c in facts.leaves if c.key.startswith("ARG.") and c.key[4:] in used), None)
    change = change or _change(facts, key, old.base, new.base, new.base_ins.line, old.base_ins.line)
    moved = f"{old.base} → {new.base}"
    if change.key != key:
        moved = f"{fmt(change.old)} → {fmt(change.new)} moves the base image ({key}) {moved}"
    yield Hit(f"{change.key}: {moved}: {why}", change.line, change=change, severity=severity)


@rule("DKR-002", "runs-as-root", "warning",
      summary="The shipped image now runs as root: USER becomes root/0, or the USER that set a "
              "non-root user is gone (the base image's default user, root for most images, applies).",
      rationale="A container running as root turns any code-execution bug into root in the container "
                "and, with a host mount or a kernel bug, on the node; files it writes become "
                "unreadable to the non-root user a rollback brings back.",
      incident="config-risk.md DKR-001 (generic); runc CVE-2019-5736 (a process running as root in a "
               "container could overwrite the host's runc binary)",
      kinds=("dockerfile",))
def runs_as_root(facts: FileFacts, params: dict) -> Iterable[Hit]:
    pair = _pair(facts)
    if pair is None:
        return
    old, new = pair
    was, was_ins = old.settings.get("USER", (None, None))
    now, now_ins = new.settings.get("USER", (None, None))
    if was is None or "$" in was or _ROOT.fullmatch(was):
        return  # it ran as root (or as something we cannot read) already
    if now is not None and ("$" in now or not _ROOT.fullmatch(now)):
        return
    if now is None and "nonroot" in new.base.lower():
        return  # distroless `:nonroot` and the like default to a non-root user
    anchor = now_ins or new.df.stages[-1].from_
    key = _stage_key(old, new, anchor) + ".USER"
    change = _change(facts, key, was, now, anchor.line, was_ins.line)
    if now is not None:
        message = f"USER {was} → {now}: the image now runs as root"
    else:
        message = f"USER {was} removed: the image now runs as the base image's default user, root for most images"
    yield Hit(f"{key}: {message}", change.line, change=change)


def _argv(value: Any) -> str:
    return " ".join(value) if isinstance(value, list) else fmt(value)


@rule("DKR-003", "runtime-contract-changed", "warning",
      summary="The shipped image's runtime contract changes: HEALTHCHECK removed or NONE "
              "(warning); ENTRYPOINT/CMD moved from exec to shell form (warning: the shell becomes "
              "PID 1 and SIGTERM no longer reaches the app); other ENTRYPOINT/CMD, STOPSIGNAL "
              "changes and exposed ports removed (info).",
      rationale="What starts the process, how it is stopped and how its health is judged are read by "
                "the orchestrator, not the build: a lost health check keeps a broken container in "
                "service, and a process that never sees SIGTERM is killed mid-request on every deploy.",
      incident="config-risk.md DKR-001 (generic); a lost health check as in K8S-002 (Azure Front Door "
               "2025-10-29: unhealthy nodes)",
      kinds=("dockerfile",))
def runtime_contract(facts: FileFacts, params: dict) -> Iterable[Hit]:
    pair = _pair(facts)
    if pair is None:
        return
    old, new = pair
    anchor = new.df.stages[-1].from_

    def hit(kw: str, message: str, severity: str, old_value: Any, new_value: Any,
            old_ins: Optional[Instruction], new_ins: Optional[Instruction]) -> Hit:
        at = new_ins or anchor
        key = _stage_key(old, new, at) + "." + kw
        change = _change(facts, key, old_value, new_value, at.line, old_ins.line if old_ins else None)
        return Hit(f"{key}: {message}", change.line, change=change, severity=severity)

    hc_old, hc_old_ins = old.settings.get("HEALTHCHECK", (None, None))
    hc_new, hc_new_ins = new.settings.get("HEALTHCHECK", (None, None))
    if isinstance(hc_old, dict) and not isinstance(hc_new, dict):
        what = "set to NONE" if hc_new == "NONE" else "removed"
        yield hit("HEALTHCHECK", f"health check {what} (was {_argv(hc_old.get('CMD'))}): a hung container "
                  "keeps being reported healthy", "warning", hc_old, hc_new, hc_old_ins, hc_new_ins)
    for kw in ("ENTRYPOINT", "CMD", "STOPSIGNAL"):
        was, was_ins = old.settings.get(kw, (None, None))
        now, now_ins = new.settings.get(kw, (None, None))
        if was == now or (was is None and now is None):
            continue
        starts = kw == "ENTRYPOINT" or "ENTRYPOINT" not in new.settings  # which one is PID 1
        if starts and isinstance(was, list) and isinstance(now, str) and not now.startswith("exec "):
            yield hit(kw, f"exec form {json.dumps(was)} → shell form `{now}`: /bin/sh becomes PID 1 and SIGTERM "
                      "no longer reaches the app (killed mid-request on every deploy)", "warning",
                      was, now, was_ins, now_ins)
        elif was is not None:
            label = {"STOPSIGNAL": "stop signal"}.get(kw, "start command")
            yield hit(kw, f"{label} changes: {_argv(was)} → {_argv(now) if now is not None else 'removed'}",
                      "info", was, now, was_ins, now_ins)
    gone = sorted(set(old.settings.get("EXPOSE", {})) - set(new.settings.get("EXPOSE", {})))
    if gone:
        at = next(iter(new.settings.get("EXPOSE", {}).values()), None) or anchor
        key = _stage_key(old, new, at) + ".EXPOSE"
        change = next((c for c in facts.leaves if c.key.startswith(key) and c.old in gone), None) \
            or _change(facts, key, gone, None, at.line, next(iter(old.settings["EXPOSE"].values())).line)
        yield Hit(f"{key}: port{'s' if len(gone) > 1 else ''} {', '.join(gone)} no longer exposed: check "
                        "the Service/compose ports and probes that use it", change.line, change=change, severity="info")
