"""GitLab CODEOWNERS: the published semantics (docs and GitLab's own specs), as data in
tests/data/owners/gitlab_cases.json, plus file discovery and pattern translation."""
import json
import random
import re
from pathlib import Path

import pytest

from analyzers.owners import load_ownership
from analyzers.owners.gitlab import fnmatch_regex, normalize

CASES = json.loads((Path(__file__).parent / "data" / "owners" / "gitlab_cases.json").read_text("utf-8"))["cases"]


def gitlab_index(text: str, path: str = "CODEOWNERS"):
    return load_ownership({path: text.encode("utf-8")}.get, dialect="gitlab")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_published_gitlab_semantics(case):
    index = gitlab_index(case["codeowners"])
    for path, sections in case["expect"].items():
        answer = index.lookup(path)
        got = {s.name: sorted(s.owners) for s in answer.sections}
        assert got == {name: sorted(owners) for name, owners in sections.items()}, path
        assert list(got) == list(sections), f"{path}: sections in file order"
        assert sorted(answer.owners) == sorted({o for owners in sections.values() for o in owners}), path
        for name, line in case.get("lines", {}).get(path, {}).items():
            assert next(s.line for s in answer.sections if s.name == name) == line
        for section in answer.sections:
            meta = case.get("meta", {}).get(section.name)
            if meta:
                assert (section.approvals, section.optional) == (meta["approvals"], meta["optional"]), section.name
    errors = sorted((d.line, d.code) for d in index.diagnostics)
    assert errors == sorted(tuple(e) for e in case.get("errors", [])), [str(d) for d in index.diagnostics]


def test_answer_names_the_deciding_line_of_the_first_matching_section():
    index = gitlab_index("* @admin\n\n[Docs][2]\n*.md @docs\n")
    answer = index.lookup("guide/intro.md")
    assert (answer.line, answer.pattern, answer.source) == (1, "*", "CODEOWNERS")
    assert [(s.name, s.line, s.pattern, s.approvals) for s in answer.sections] == \
        [("codeowners", 1, "*", 1), ("Docs", 4, "*.md", 2)]
    assert answer.owners == ("@admin", "@docs")


@pytest.mark.parametrize("present,used", [
    (["CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"], "CODEOWNERS"),
    (["docs/CODEOWNERS", ".gitlab/CODEOWNERS"], "docs/CODEOWNERS"),
    ([".gitlab/CODEOWNERS"], ".gitlab/CODEOWNERS"),
    ([".github/CODEOWNERS"], None),  # GitLab does not read .github/
])
def test_gitlab_looks_in_root_then_docs_then_dot_gitlab(present, used):
    files = {p: f"* @from-{p.replace('/', '-')}\n".encode() for p in present}
    index = load_ownership(files.get, dialect="gitlab")
    assert index.codeowners == used
    assert bool(index.lookup("x").owners) == (used is not None)


def test_dialect_is_detected_from_the_forge_directory():
    files = {".gitlab/CODEOWNERS": b"[Ops]\n/ops/ @ops\n"}
    index = load_ownership(files.get, dialect=None)
    assert index.dialect == "gitlab" and index.lookup("ops/run.sh").sections[0].name == "Ops"
    assert load_ownership(files.get, list_paths=lambda: files, dialect=None).dialect == "gitlab"
    assert load_ownership({"CODEOWNERS": b"* @a\n"}.get, dialect=None).dialect == "github"


@pytest.mark.parametrize("pattern,normalized", [
    ("*", "/**/*"), ("README.md", "/**/README.md"), ("/docs/", "/docs/**/*"), ("lib/", "/**/lib/**/*"),
    ("\\#file.rb", "/**/#file.rb"), ("path\\ with\\ spaces/", "/**/path with spaces/**/*"), ("/a/*", "/a/*"),
])
def test_patterns_are_normalised_as_gitlab_does(pattern, normalized):
    assert normalize(pattern) == normalized


@pytest.mark.parametrize("pattern,path,matches", [
    ("/**/*", "/a/b/.hidden", True),
    ("/**/foo", "/foo", True),
    ("/**/foo", "/a/b/foo", True),
    ("/**/foo", "/a/foo/b", False),
    ("/a/**", "/a/b", True),  # `**` not before `/` is `*`
    ("/a/**", "/a/b/c", False),
    ("/x**/y", "/xab/y", True),
    ("/[a-c].md", "/b.md", True),
    ("/[!a-c].md", "/b.md", False),
    ("/[!a-c].md", "/d.md", True),
    ("/x[/]y", "/x/y", False),  # a class never matches the separator
    ("/[abc", "/[abc", False),  # an unclosed class matches nothing
    ("/a\\*b", "/a*b", True),
    ("/a\\*b", "/axb", False),
    ("/A.md", "/a.md", False),
])
def test_fnmatch_pathname_dotmatch(pattern, path, matches):
    assert (re.fullmatch(fnmatch_regex(pattern), path) is not None) == matches


def test_bucketed_lookup_equals_a_plain_scan_of_every_rule():
    """The lookup index (buckets by leading directory / required name) must give exactly what
    trying every rule of every section from the bottom up gives."""
    rng = random.Random(7)
    names = ["a", "b", "docs", "lib", "x.md", "y.rb", ".ci.yml"]
    pieces = ["*", "**", "*.md", "?", "[ab]"] + names
    lines, rules = [], []
    section = "codeowners"
    for i in range(400):
        if i % 60 == 59:
            section = f"S{i}"
            lines.append(f"[{section}]")
            continue
        parts = [rng.choice(pieces) for _ in range(rng.randint(1, 3))]
        pattern = ("/" if rng.random() < 0.5 else "") + "/".join(parts) + ("/" if rng.random() < 0.2 else "")
        pattern = pattern.replace("***", "*")
        if pattern.startswith("["):  # a line starting with `[` is a section header in GitLab
            pattern = "/" + pattern
        bang = "!" if rng.random() < 0.1 else ""
        lines.append(f"{bang}{pattern} @o{i}")
        rules.append((section, normalize(pattern), bool(bang), f"@o{i}"))
    index = gitlab_index("\n".join(lines) + "\n")
    for _ in range(600):
        path = "/".join(rng.choice(names) for _ in range(rng.randint(1, 4)))
        expected = {}
        for name in dict.fromkeys(s for s, *_ in rules):
            entries = {}
            for s, norm, bang, owner in rules:
                if s == name:
                    entries[norm] = (bang, owner)
            hits = [v for k, v in reversed(entries.items()) if re.fullmatch(fnmatch_regex(k), "/" + path)]
            if hits and not any(bang for bang, _ in hits):
                expected[name] = [hits[0][1]]
        assert {s.name: list(s.owners) for s in index.lookup(path).sections} == expected, path
