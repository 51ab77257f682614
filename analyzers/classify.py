"""File classification: kinds, environment, and the service/tier that owns a path."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Optional

from .globs import any_match, glob_match
from .policy import Policy

CONFIG_EXTENSIONS = {".yaml", ".yml", ".json", ".jsonc", ".toml", ".ini", ".cfg", ".conf", ".properties",
                     ".env", ".tf", ".tfvars", ".hcl", ".xml"}
CODE_EXTENSIONS = {".py", ".go", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".java", ".kt", ".rb", ".rs", ".sh",
                   ".bash", ".cs", ".scala", ".php", ".c", ".cc", ".cpp", ".h", ".hpp", ".swift", ".lua", ".pl"}
CI_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml", ".github/actions/**", ".gitlab-ci.yml",
            ".gitlab/ci/**", ".circleci/**", "**/Jenkinsfile", "azure-pipelines.yml", "bitbucket-pipelines.yml",
            ".buildkite/**", ".drone.yml", "cloudbuild.yaml", "cloudbuild.yml", ".tekton/**")
CONTROL_PLANE_DIRS = ("deploy", "deployment", "deployments", "infra", "infrastructure", "ops", "k8s", "kubernetes",
                      "manifests", "terraform", "helm", "charts", "ansible", "argocd", "flux", "clusters")
FLAG_TOKENS = {"flag", "flags", "feature", "features", "featureflags", "feature_flags", "toggles",
               "launchdarkly", "unleash", "flagd", "flipt"}
DEFAULT_ENVIRONMENTS = (("prod", {"prod", "production", "prd", "live"}),
                        ("staging", {"staging", "stage", "stg", "preprod"}),
                        ("dev", {"dev", "development", "sandbox"}),
                        ("test", {"qa", "uat", "test"}))
_K8S = re.compile(r"^apiVersion:\s*\S", re.M)
_K8S_KIND = re.compile(r"^kind:\s*\S", re.M)
_TOKEN_SPLIT = re.compile(r"[/._\-]+")

KIND_ORDER = ("config", "control-plane", "kubernetes", "helm", "terraform", "ci", "dockerfile",
              "feature-flags", "env", "code")


@dataclass(frozen=True)
class Classification:
    kinds: tuple[str, ...]
    environment: Optional[str]
    service: Optional[str]
    tier: Optional[int]
    owners: tuple[str, ...]
    language: Optional[str]  # configdiff language for the semantic diff, when there is one


# JSON files their tools read with comments and trailing commas (JSONC)
_JSONC_NAMES = {"tsconfig.json", "jsconfig.json", "devcontainer.json", ".devcontainer.json", ".eslintrc.json",
                "turbo.json", "deno.json", "biome.json", "api-extractor.json", "tslint.json", "typedoc.json"}


def is_jsonc(path: str) -> bool:
    lower = path.lower()
    name = posixpath.basename(lower)
    return (name in _JSONC_NAMES or re.fullmatch(r"(tsconfig|jsconfig)\..+\.json", name) is not None
            or lower.startswith(".vscode/") or "/.vscode/" in lower
            or lower.startswith(".devcontainer/") or "/.devcontainer/" in lower)


def is_dotenv(name: str) -> bool:
    """`.env`, `.env.production`, `prod.env` (not `.envrc`, a direnv shell script)."""
    return name == ".env" or name.startswith(".env.") or name.endswith(".env")


def is_dockerfile(name: str) -> bool:
    return (name in ("dockerfile", "containerfile") or name.startswith(("dockerfile.", "containerfile."))
            or name.endswith(".dockerfile"))


def config_language(path: str) -> Optional[str]:
    ext = posixpath.splitext(path)[1].lower()
    if ext in (".yaml", ".yml"):
        return "yaml"
    if ext == ".jsonc" or (ext == ".json" and is_jsonc(path)):
        return "jsonc"
    if ext == ".json":
        return "json"
    if ext == ".ini":
        return "ini"
    if ext in (".cfg", ".conf"):
        return "conf"  # INI when the text is INI; nginx.conf, haproxy.cfg ... get no key-level diff
    if ext == ".properties":
        return "properties"
    name = posixpath.basename(path).lower()
    if is_dotenv(name):
        return "dotenv"
    if is_dockerfile(name):
        return "dockerfile"
    if ext in (".tf", ".tfvars", ".hcl"):
        return "hcl"
    if ext == ".toml":
        return "toml"
    return None


def file_kinds(path: str, text: Optional[str], policy: Policy) -> tuple[str, ...]:
    name = posixpath.basename(path)
    lower = name.lower()
    ext = posixpath.splitext(lower)[1]
    segments = path.lower().split("/")
    tokens = set(_TOKEN_SPLIT.split(path.lower()))
    kinds: set[str] = set()
    if ext in CONFIG_EXTENSIONS or is_dotenv(lower):
        kinds.add("config")
    if is_dotenv(lower):
        kinds.add("env")
    if ext in (".tf", ".tfvars", ".hcl"):
        kinds.add("terraform")
    if is_dockerfile(lower):
        kinds.add("dockerfile")
    if any_match(CI_GLOBS, path):
        kinds.update(("ci", "config"))
    if ext in (".yaml", ".yml") and text and _K8S.search(text) and _K8S_KIND.search(text):
        kinds.add("kubernetes")
    if lower == "chart.yaml" or (ext in (".yaml", ".yml") and lower.startswith("values")) \
            or "charts" in segments[:-1] or "helm" in segments[:-1]:
        if ext in (".yaml", ".yml", ".tpl"):
            kinds.add("helm")
    if "config" in kinds and tokens & FLAG_TOKENS:
        kinds.add("feature-flags")
    if ext in CODE_EXTENSIONS:
        kinds.add("code")
    if kinds & {"kubernetes", "helm", "terraform", "ci", "feature-flags"} \
            or any(seg in CONTROL_PLANE_DIRS for seg in segments[:-1]) and kinds & {"config", "code", "dockerfile"} \
            or any_match(policy.control_plane_paths, path):
        kinds.add("control-plane")
    return tuple(k for k in KIND_ORDER if k in kinds)


def environment_of(path: str, policy: Policy) -> Optional[str]:
    if policy.environments is not None:
        for name, globs in policy.environments.items():
            if any_match(globs, path):
                return name
        return None
    tokens = set(_TOKEN_SPLIT.split(path.lower()))
    for name, words in DEFAULT_ENVIRONMENTS:
        if tokens & words:
            return name
    return None


def classify(path: str, text: Optional[str], policy: Policy) -> Classification:
    service = next((s for s in policy.services if any(glob_match(p, path) for p in s.paths)), None)
    return Classification(
        kinds=file_kinds(path, text, policy),
        environment=environment_of(path, policy),
        service=service.name if service else None,
        tier=service.tier if service else None,
        owners=service.owners if service else (),
        language=config_language(path))
