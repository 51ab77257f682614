"""Pipeline rules: the CI/CD pipeline is the last automated guard between a change and production.
Removing one of its gates, collapsing a staged rollout into one step, or letting more branches
reach a production deploy rarely looks dangerous in a diff (Salesforce 2021-05-11: a DNS change
took the emergency path that skipped the staggered rollout)."""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from ..configdiff import MISSING
from ..configdiff.semdiff import join
from .tree import at, documents, key_line, names, strings, synthetic, text_line
from .registry import FileFacts, Hit, rule
from .util import fmt, last_key

_GITLAB_RESERVED = {"stages", "variables", "default", "include", "workflow", "image", "services",
                    "before_script", "after_script", "cache", "spec"}
_VALIDATION = {"test", "tests", "testing", "lint", "linter", "linting", "validate", "validation", "verify",
               "check", "checks", "e2e", "unit", "integration", "smoke", "scan", "sast", "security", "audit",
               "qa", "typecheck", "conftest", "plan", "policy", "pytest", "jest", "ci"}
_CHECKERS = {"rspec", "tox", "phpunit", "mocha", "eslint", "flake8", "ruff", "mypy", "shellcheck", "tflint",
             "checkov", "trivy", "kubeconform", "hadolint", "golangci", "pylint", "vitest", "cypress", "playwright"}
_DEPLOY = {"deploy", "deployment", "deploys", "release", "publish", "rollout", "promote", "ship", "prod",
           "production", "apply", "cd"}
_DEPLOY_CMD = re.compile(r"\b(kubectl\s+(apply|rollout|set\s+image|replace)|helm\s+(upgrade|install)|"
                         r"terraform\s+apply|pulumi\s+up|cdk\s+deploy|(sls|serverless)\s+deploy|"
                         r"gcloud\b.*\bdeploy|aws\s+(ecs\s+update-service|cloudformation\s+deploy|deploy)|"
                         r"argocd\s+app\s+sync|flux\s+reconcile|fly\s+deploy)\b")
_PROD = {"prod", "production", "prd", "live"}
_ALL = {"all", "*", "all-regions", "global", "everywhere"}
_BYPASS = (
    ("-auto-approve", re.compile(r"(?<![\w-])--?auto-approve\b"), "applies without a reviewed, confirmed plan"),
    ("--no-verify", re.compile(r"(?<![\w-])--no-verify\b"), "skips the repository's commit/push hooks"),
    ("[skip ci]", re.compile(r"\[(?:skip ci|ci skip|no ci|skip actions|actions skip)\]|\*\*\*NO_CI\*\*\*", re.I),
     "pushes commits that skip CI"),
    ("--force", re.compile(r"\b(?:kubectl|helm|argocd|terraform|pulumi|flux|git\s+push)\b[^\n;&|]*?\s--force(?![\w-])"),
     "overrides what a normal deploy would refuse"),
    ("git push -f", re.compile(r"\bgit\s+push\b[^\n;&|]*?\s-f\b"), "overwrites history a normal push would refuse"),
    ("a skip-validation flag", re.compile(r"-DskipTests\b|-Dmaven\.test\.skip=true|--skip-tests?\b|"
                                          r"--validate=false|--skip-validation\b|--emergency\b|"
                                          r"--skip-canary\b|--skip-stagger\b", re.I), "skips tests or validation"),
)


def _words(*texts: Any) -> set[str]:
    return {w for t in texts if isinstance(t, str) for w in re.split(r"[^a-z0-9*]+", t.lower()) if w}


class Pipeline:
    """One side of a GitHub Actions workflow or a GitLab CI file, as plain data."""

    def __init__(self, flavour: str, doc: Any):
        self.flavour = flavour
        self.doc = doc if isinstance(doc, dict) else {}
        if flavour == "github":
            jobs = self.doc.get("jobs")
            self.jobs = {k: v for k, v in jobs.items() if isinstance(v, dict)} if isinstance(jobs, dict) else {}
        else:
            self.jobs = {k: v for k, v in self.doc.items() if isinstance(v, dict) and k not in _GITLAB_RESERVED}

    def key(self, jid: str, *rest: str) -> str:
        path = join("jobs", jid) if self.flavour == "github" else join("", jid)
        for name in rest:
            path = join(path, name)
        return path

    def commands(self, jid: str) -> list[str]:
        job = self.jobs.get(jid, {})
        if self.flavour == "github":
            return [s["run"] for s in job.get("steps") or [] if isinstance(s, dict) and isinstance(s.get("run"), str)]
        return [c for k in ("before_script", "script", "after_script") for c in strings(job.get(k))]

    def needs(self, jid: str) -> list[str]:
        raw = self.jobs.get(jid, {}).get("needs")
        return [n.get("job") if isinstance(n, dict) else n for n in (raw if isinstance(raw, list) else [raw])
                if isinstance(n, str) or isinstance(n, dict) and isinstance(n.get("job"), str)]

    def upstream(self, jid: str) -> set[str]:
        seen, todo = set(), [jid]
        while todo:
            for n in self.needs(todo.pop()):
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    def deploy(self, jid: str) -> bool:
        job = self.jobs.get(jid, {})
        uses = [s.get("uses") for s in job.get("steps") or [] if isinstance(s, dict)] + [job.get("uses")]
        return bool(_words(jid, job.get("name"), job.get("stage"), *uses) & _DEPLOY or job.get("environment")
                    or any(_DEPLOY_CMD.search(c) for c in self.commands(jid)))

    def validation(self, jid: str) -> bool:
        """A test/lint/validate job: by its id or name, or by a test stage and a checking command."""
        job = self.jobs.get(jid, {})
        if _words(jid, job.get("name")) & _DEPLOY:
            return False
        return bool(_words(jid, job.get("name")) & _VALIDATION or _words(job.get("stage")) & _VALIDATION
                    and _words(*self.commands(jid)) & (_VALIDATION | _CHECKERS))


def pipelines(facts: FileFacts) -> Optional[tuple[Pipeline, Pipeline]]:
    path = facts.file.path
    flavour = "github" if path.startswith(".github/workflows/") else \
        "gitlab" if path.endswith(".gitlab-ci.yml") or path.startswith(".gitlab/ci/") else None
    docs = list(documents(facts)) if flavour else []
    if len(docs) != 1 or not isinstance(docs[0][3], dict):
        return None
    return Pipeline(flavour, docs[0][2]), Pipeline(flavour, docs[0][3])


def _env_name(value: Any) -> Optional[str]:
    value = value.get("name") if isinstance(value, dict) else value
    return value if isinstance(value, str) and value.strip() else None


def _hit(facts: FileFacts, key: str, old: Any, new: Any, message: str, severity: Optional[str] = None) -> Hit:
    line = key_line(facts, key)
    return Hit(message, line, change=synthetic(key, old, new, line), severity=severity)


def _prod(jid: str, *jobs: Any) -> bool:
    """Whether a job deploys to production, by its id, name or environment (either side)."""
    return bool(_words(jid, *(j.get("name") for j in jobs if isinstance(j, dict)),
                       *(_env_name(j.get("environment")) for j in jobs if isinstance(j, dict))) & _PROD)


# ------------------------------------------------------------------ CI-001
@rule("CI-001", "pipeline-guard-removed", "warning",
      summary="A pipeline gate is removed: environment protection, a test dependency, a manual step, "
              "failing validation, or a bypass flag (-auto-approve, --no-verify, [skip ci], --force).",
      rationale="Pre-deploy validation and approval gates are what stop a bad change before it reaches "
                "production; a change that removes one usually looks like a harmless pipeline tweak. "
                "Salesforce's 2021 DNS outage went out through the emergency path that skipped the "
                "staggered rollout, and the motivating incident had no pre-deploy validation at all. "
                "Removing the protection or the manual gate of a production deploy is graded error.",
      incident="Salesforce 2021-05-11 (Emergency Break-Fix bypass); Azure Front Door 2025-10-29 "
               "(validation bypassed); the motivating no-validation incident",
      kinds=("ci",))
def pipeline_guard_removed(facts: FileFacts, params: dict) -> Iterable[Hit]:
    pair = pipelines(facts)
    if pair is None:
        return
    old, new = pair
    for jid, job in new.jobs.items():
        before = old.jobs.get(jid)
        if before is not None and _env_name(before.get("environment")) and not _env_name(job.get("environment")):
            env = _env_name(before.get("environment"))
            yield _hit(facts, new.key(jid, "environment"), env, MISSING,
                       f"job {jid} no longer deploys through environment {env}: its protection rules "
                       f"(required reviewers, wait timer, branch policy) stop applying",
                       "error" if _prod(jid, before) else None)
        if before is not None:
            yield from (_github_guards if new.flavour == "github" else _gitlab_guards)(facts, old, new, jid, before, job)
        yield from _bypass_flags(facts, old, new, jid)
    if new.flavour == "github":
        yield from _github_step_guards(facts, new)


def _github_guards(facts, old: Pipeline, new: Pipeline, jid: str, before: dict, job: dict) -> Iterable[Hit]:
    if new.deploy(jid):
        lost = [n for n in old.needs(jid) if n not in new.needs(jid) and old.validation(n)]
        lost = [n for n in lost if n not in new.upstream(jid)]  # still required through another job
        if lost:
            yield _hit(facts, new.key(jid, "needs"), old.needs(jid), new.needs(jid) or MISSING,
                       f"deploy job {jid} no longer waits for {', '.join(lost)}: it can ship a change "
                       f"that failed validation")
        cond = _loosened(before.get("if"), job.get("if"))
        if cond:
            yield _hit(facts, new.key(jid, "if"), before.get("if"), job.get("if", MISSING),
                       f"deploy job {jid}: condition {cond}")
    if old.validation(jid) and job.get("continue-on-error") is True and before.get("continue-on-error") is not True:
        yield _hit(facts, new.key(jid, "continue-on-error"), before.get("continue-on-error", MISSING), True,
                   f"validation job {jid} may now fail without failing the workflow")


def _github_step_guards(facts: FileFacts, new: Pipeline) -> Iterable[Hit]:
    new_steps = {c.key for c in facts.changes if c.op == "add"}
    for c in facts.leaves:
        m = re.match(r'^jobs\.([^.\[]+|\["[^"]*"\])\.steps(\[[^\]]*\])\.(continue-on-error|if)$', c.key)
        step_key = c.key.rsplit(".", 1)[0]
        if not m or step_key in new_steps or c.op == "remove" and facts.value(step_key) is MISSING:
            continue
        jid = m.group(1).strip('[]"')
        step = facts.value(step_key)
        step = step if isinstance(step, dict) else {}
        text = [step.get("name"), step.get("run"), step.get("uses"), step.get("id")]
        if m.group(3) == "continue-on-error" and c.new is True and c.old is not True and \
                _words(*text) & (_VALIDATION | _CHECKERS):
            yield Hit(f"step {step.get('name') or step.get('run') or m.group(2)} of job {jid} may now fail "
                      f"without failing the job: its validation no longer gates anything after it", c.line, change=c)
        elif m.group(3) == "if" and (_words(*text) & _DEPLOY or any(_DEPLOY_CMD.search(t) for t in strings(text))):
            cond = _loosened(c.old, c.new if c.op != "remove" else None)
            if cond:
                yield Hit(f"deploy step {step.get('name') or m.group(2)} of job {jid}: condition {cond}",
                          c.line, change=c)


def _loosened(old: Any, new: Any) -> Optional[str]:
    """How a job/step condition got weaker, or None."""
    o, n = (re.sub(r"\s+", " ", str(v).replace("${{", "").replace("}}", "")).strip()
            if v not in (None, MISSING) else "" for v in (old, new))
    o, n = ("" if v == "success()" else v for v in (o, n))  # success() is the default condition
    if not o or o == n:
        return None
    if n in ("", "true", "always()"):
        return f"`{o}` removed: it now runs on every trigger" if n == "" else f"`{o}` → `{n}`"
    if "always()" in n and "always()" not in o:
        return f"`{o}` → `{n}` also runs when the jobs it needs failed"
    if "||" in n and "||" not in o and o in n:
        return f"`{o}` → `{n}` adds an alternative way to run"
    oc, nc = ({p.strip() for p in s.split("&&")} for s in (o, n))
    if nc < oc:
        return f"drops `{' && '.join(sorted(oc - nc))}`"
    return None


def _gitlab_guards(facts, old: Pipeline, new: Pipeline, jid: str, before: dict, job: dict) -> Iterable[Hit]:
    def manual(j: dict) -> bool:
        return j.get("when") == "manual" or any(isinstance(r, dict) and r.get("when") == "manual"
                                                  for r in j.get("rules") or [])
    notes = {}  # key -> what got weaker there; one finding per key
    if manual(before) and not manual(job):
        notes[new.key(jid, "when" if before.get("when") == "manual" else "rules")] = \
            "no longer waits for a manual action: it runs as soon as its stage is reached"
    if new.validation(jid) and job.get("allow_failure") is True and before.get("allow_failure") is not True:
        notes[new.key(jid, "allow_failure")] = "is a validation job that may now fail without failing the pipeline"
    if new.deploy(jid):
        if job.get("needs") == [] and before.get("needs") != []:
            notes[new.key(jid, "needs")] = "has `needs: []`: it starts at once, without waiting for the test stages"
        for name in ("only", "except", "rules"):
            if name in before and name not in job and not ({"only", "rules"} & set(job) - set(before)):
                notes[new.key(jid, name)] = f"lost its `{name}` filter: it runs in every pipeline" + \
                    (" and without a manual action" if new.key(jid, name) in notes else "")
        refs_old, refs_new = (set(strings(at(j, "only", "refs") if isinstance(j.get("only"), dict) else j.get("only")))
                              for j in (before, job))
        wide = {r for r in refs_new - refs_old if r in ("branches", "/.*/", "*", "pushes") or r.startswith("/.*")}
        if "only" in before and wide:
            notes[new.key(jid, "only")] = f"has `only` widened to {', '.join(sorted(wide))}"
        old_if = [r for r in before.get("rules") or [] if isinstance(r, dict) and "if" in r]
        catch_all = [r for r in job.get("rules") or [] if isinstance(r, dict)
                     and not {"if", "changes", "exists"} & set(r) and r.get("when") != "never"]
        if old_if and catch_all and len(old_if) == len(before.get("rules") or []):
            key = new.key(jid, "rules")
            notes[key] = (notes[key] + ", and " if key in notes else "") + \
                "has a rule without `if` that matches every pipeline"
    for key, note in notes.items():
        name = last_key(key)
        prod_gate = "manual action" in note and new.deploy(jid) and _prod(jid, before, job)
        yield _hit(facts, key, before.get(name, MISSING), job.get(name, MISSING),
                   f"{'deploy ' if new.deploy(jid) else ''}job {jid} {note}", "error" if prod_gate else None)


def _bypass_flags(facts: FileFacts, old: Pipeline, new: Pipeline, jid: str) -> Iterable[Hit]:
    for label, pattern, effect in _BYPASS:
        count_old = sum(len(pattern.findall(c)) for c in old.commands(jid))
        count_new = sum(len(pattern.findall(c)) for c in new.commands(jid))
        if count_new > count_old:
            job_line = key_line(facts, new.key(jid))
            line = _added_line(facts, job_line, pattern)
            yield Hit(f"job {jid} now runs with {label}: it {effect}", line, change=synthetic(new.key(jid), MISSING, label, line))


def _added_line(facts: FileFacts, start: int, pattern: re.Pattern) -> int:
    """The first added line at or after `start` matching `pattern` (else the first matching line)."""
    added = {n for h in facts.file.hunks if h.added for n in range(h.start, h.end + 1)}
    lines = (facts.file.new_text or "").splitlines()
    return next((n for n in sorted(added) if n >= start and n <= len(lines) and pattern.search(lines[n - 1])),
                text_line(facts, start, pattern, span=400))


# ------------------------------------------------------------------ CI-002
_WAVE = {"deploy", "deployment", "rollout", "canary", "promote", "wave", "staging", "prod", "production", "region"}


@rule("CI-002", "rollout-collapse", "warning",
      summary="A staged rollout loses stages: canary steps or analysis removed, auto-promotion on, "
              "deploy waves merged, batch or parallelism raised to 100%.",
      rationale="A staged rollout turns a bad change into a small incident: the first wave fails and "
                "the rest never receive it. Collapsing the stages sends the change everywhere at once; "
                "CrowdStrike's channel file and Cloudflare's 2019 WAF rule reached every machine in "
                "minutes because nothing staged them.",
      incident="CrowdStrike 2024-07-19 (no canary for content); Cloudflare 2019-07-02; Google Cloud 2025-06-12",
      kinds=("config",),
      batch_keys=["maxParallel", "max_parallel", "max-parallel", "batchSize", "batch_size", "maxBatchSize",
                  "max_batch_size", "batchPercentage", "maxUpdate", "maxConcurrentPercentage"])
def rollout_collapse(facts: FileFacts, params: dict) -> Iterable[Hit]:
    batch = {k.lower().replace("-", "").replace("_", "") for k in names(params.get("batch_keys"))}
    for c in facts.leaves:
        name = last_key(c.key).lower().replace("-", "").replace("_", "")
        if name in batch and c.op in ("replace", "add") and str(c.new).strip() == "100%" and c.old is not None \
                and str(c.old).strip() != "100%":
            yield Hit(f"{c.key}: {fmt(c.old)} → 100% updates every target in one batch", c.line, change=c)
    if "Rollout" in (facts.file.new_text or ""):
        for label, kind, old, new in documents(facts, {"Rollout"}):
            if kind == "Rollout" and isinstance(new, dict) and isinstance(old, dict):
                yield from _argo_rollout(facts, label, old, new)
    pair = pipelines(facts) if "ci" in facts.kinds else None
    if pair:
        yield from _waves(facts, *pair)


def _argo_rollout(facts: FileFacts, label, old: dict, new: dict) -> Iterable[Hit]:
    def shape(doc: dict) -> tuple[list, int]:
        steps = at(doc, "spec", "strategy", "canary", "steps")
        steps = [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []
        return [s["setWeight"] for s in steps if "setWeight" in s], sum("pause" in s or "analysis" in s for s in steps)
    (ow, og), (nw, ng) = shape(old), shape(new)
    key = "spec.strategy.canary.steps"
    if len(nw) < len(ow) or ng < og:
        line = key_line(facts, key, label)
        yield Hit(f"Rollout {fmt(at(new, 'metadata', 'name'))}: canary weights {ow} → {nw or 'none'}, pause/analysis "
                  f"gates {og} → {ng}: fewer stages see the new version before everyone does", line,
                  change=synthetic(key, ow, nw or MISSING, line, label, "Rollout"))
    for strategy, gate in (("canary", "analysis"), ("blueGreen", "prePromotionAnalysis")):
        if at(old, "spec", "strategy", strategy, gate) is not MISSING and \
                at(new, "spec", "strategy", strategy) is not MISSING and at(new, "spec", "strategy", strategy, gate) is MISSING:
            key = f"spec.strategy.{strategy}.{gate}"
            line = key_line(facts, key, label)
            yield Hit(f"Rollout {fmt(at(new, 'metadata', 'name'))}: {gate} removed: nothing checks the new version "
                      f"before it is promoted", line, change=synthetic(key, "present", MISSING, line, label, "Rollout"))
    was, now = (at(d, "spec", "strategy", "blueGreen", "autoPromotionEnabled") for d in (old, new))
    if was is False and now is not False and at(new, "spec", "strategy", "blueGreen") is not MISSING:
        key = "spec.strategy.blueGreen.autoPromotionEnabled"
        line = key_line(facts, key, label)
        yield Hit(f"Rollout {fmt(at(new, 'metadata', 'name'))}: autoPromotionEnabled false → "
                  f"{fmt(now) if now is not MISSING else 'removed (true by default)'}: the new version takes all "
                  f"traffic without a promotion step", line, change=synthetic(key, False, now, line, label, "Rollout"))


def _waves(facts: FileFacts, old: Pipeline, new: Pipeline) -> Iterable[Hit]:
    def edges(p: Pipeline) -> set[tuple[str, str]]:
        return {(j, n) for j in p.jobs if p.deploy(j) for n in p.needs(j)
                if n in p.jobs and (p.jobs[n].get("environment") or _words(n, p.jobs[n].get("name")) & _WAVE
                                    or any(_DEPLOY_CMD.search(c) for c in p.commands(n)))}
    before, after = edges(old), edges(new)
    if len(after) < len(before):
        for j, n in sorted(before - after):
            yield _hit(facts, new.key(j, "needs"), n, MISSING,
                       f"deploy job {j} no longer waits for deploy job {n}: the two waves now roll out together")
    if new.flavour == "gitlab":
        stage = [s for s in strings(old.doc.get("stages")) if _words(s) & (_WAVE | _DEPLOY)]
        kept = [s for s in strings(new.doc.get("stages")) if _words(s) & (_WAVE | _DEPLOY)]
        if len(kept) < len(stage):
            yield _hit(facts, "stages", stage, kept, f"deploy stages {stage} → {kept}: fewer waves between a "
                       f"change and every environment")
    for jid, job in new.jobs.items():
        size = _matrix_size(at(job, "strategy", "matrix"))
        was, now = at(old.jobs.get(jid, {}), "strategy", "max-parallel"), at(job, "strategy", "max-parallel")
        if new.deploy(jid) and isinstance(was, int) and size > was and (now is MISSING or isinstance(now, int) and now >= size):
            yield _hit(facts, new.key(jid, "strategy", "max-parallel"), was, now,
                       f"deploy job {jid}: max-parallel {was} → {fmt(now) if now is not MISSING else 'removed'}: "
                       f"all {size} matrix deploys run at once")


def _matrix_size(matrix: Any) -> int:
    size = 1
    for k, v in (matrix.items() if isinstance(matrix, dict) else ()):
        if k not in ("include", "exclude") and isinstance(v, list):
            size *= max(len(v), 1)
    return size if isinstance(matrix, dict) else 0


# ------------------------------------------------------------------ CI-003
_TARGET_KEYS = {"environment", "environments", "env", "stage", "target", "targets", "target_env", "deploy_env",
                "deploy_environment", "cluster", "clusters", "region", "regions", "aws_region", "location"}


@rule("CI-003", "deploy-scope-added", "warning",
      summary="A deploy pipeline reaches more: a prod/all-regions target, a branch filter widened to "
              "every branch, or push-triggered deploys without a branch filter.",
      rationale="Every path that can reach production is a path a bad change can take. A deploy job "
                "that gains a production target, or a deploy workflow that now runs on pushes to any "
                "branch, lets unreviewed code reach production without anyone deciding it should.",
      incident="the motivating incident (one unvalidated path to production config); Google 2019-06-02 "
               "(a change meant for a few servers applied to many)",
      kinds=("ci",))
def deploy_scope_added(facts: FileFacts, params: dict) -> Iterable[Hit]:
    pair = pipelines(facts)
    if pair is None:
        return
    old, new = pair
    deploys = [j for j in new.jobs if new.deploy(j)]
    if new.flavour == "github" and deploys:
        yield from _trigger_widened(facts, old, new, deploys)
    for c in facts.leaves:
        jid = next((j for j in deploys if c.key.startswith(new.key(j) + ".")), None)
        name = last_key(c.key).lower().replace("-", "_")
        if jid is None or jid not in old.jobs or c.op not in ("add", "replace") or \
                not (name in _TARGET_KEYS or c.key.endswith(".environment.name")):
            continue
        if c.op == "add" and c.key == new.key(jid, "environment") or c.key == f"{jid}.stage":
            continue  # an environment added to a job adds protection; a GitLab `stage` is a pipeline phase
        gained = _words(*strings(c.new)) & (_PROD | _ALL)
        if gained and not _words(*strings(c.old)) & gained:
            yield Hit(f"deploy job {jid}: {c.key.split('.', 2 if new.flavour == 'github' else 1)[-1]} "
                      f"{'gains' if c.op == 'add' else fmt(c.old) + ' →'} {fmt(c.new)}: the job now deploys "
                      f"to {'production' if gained & _PROD else 'every target'}", c.line, change=c)


def _trigger_widened(facts: FileFacts, old: Pipeline, new: Pipeline, deploys: list[str]) -> Iterable[Hit]:
    def push(doc: dict) -> Any:
        on = doc.get("on", MISSING)
        if isinstance(on, (str, list)):
            return {} if "push" in strings(on) else MISSING
        value = on.get("push", MISSING) if isinstance(on, dict) else MISSING
        return value if isinstance(value, dict) or value is MISSING else {}
    was, now = push(old.doc), push(new.doc)
    if now is MISSING:
        return
    filters = ("branches", "branches-ignore", "tags", "tags-ignore")
    who = f"deploy job{'s' if len(deploys) > 1 else ''} {', '.join(deploys)}"
    if not any(f in now for f in filters) and (was is MISSING or any(f in was for f in filters)):
        yield _hit(facts, "on.push" if isinstance(new.doc.get("on"), dict) else "on", was, now,
                   f"the workflow now runs {who} on a push to any branch")
        return
    wide = [b for b in strings(now.get("branches")) if b in ("*", "**", "**/*", "*/**")
            and b not in strings(was.get("branches") if isinstance(was, dict) else None)]
    if wide and isinstance(was, dict):
        yield _hit(facts, "on.push.branches", strings(was.get("branches")), strings(now.get("branches")),
                   f"branch filter widened to {', '.join(wide)}: a push to any branch runs {who}")
