"""GitHub (and Bitbucket Cloud) CODEOWNERS: hmarr/codeowners' pattern table, GitHub's documented
example, the syntax GitHub does not support, and bad input."""
import json
import random
import re
import time
from pathlib import Path

import pytest

from analyzers.owners import TooLarge, load_ownership
from analyzers.owners.github import pattern_regex

DATA = Path(__file__).parent / "data" / "owners"
PATTERNS = json.loads((DATA / "github_patterns.json").read_text("utf-8"))["cases"]
PATTERN_CASES = [(c["name"], c["pattern"], path, expected) for c in PATTERNS for path, expected in c["paths"].items()]


def index_of(text, path=".github/CODEOWNERS", dialect="github"):
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return load_ownership({path: data}.get, dialect=dialect)


def problems(index):
    return [(d.line, d.severity, d.code) for d in index.diagnostics]


def test_the_pattern_table_is_complete():
    assert (len(PATTERNS), len(PATTERN_CASES)) == (30, 153)


@pytest.mark.parametrize("name,pattern,path,expected", PATTERN_CASES,
                         ids=[f"{c[1]} ~ {c[2]}" for c in PATTERN_CASES])
def test_hmarr_pattern_table(name, pattern, path, expected):
    answer = index_of(f"{pattern} @owner\n").lookup(path)
    assert (answer.owners == ("@owner",)) == expected, name
    assert (answer.line == 1) == expected


DOCS_EXAMPLE = [
    ("README", ("@global-owner1", "@global-owner2"), 5),
    ("src/app.js", ("@js-owner",), 11),
    ("cmd/main.go", ("docs@example.com",), 16),
    ("notes.txt", ("@octo-org/octocats",), 20),
    ("build/logs/today.log", ("@octocat",), 47),
    ("docs/getting-started.md", ("@doctocat",), 39),
    ("docs/build-app/troubleshooting.md", ("@doctocat",), 39),
    ("web/apps/notes.txt", ("@octocat",), 34),
    ("scripts/deploy.sh", ("@doctocat", "@octocat"), 43),
    ("deeply/nested/logs/x.txt", ("@octocat",), 47),
    ("apps/readme.md", ("@octocat",), 58),
    ("apps/github/readme.md", ("@doctocat",), 59),
]


@pytest.mark.parametrize("path,owners,line", DOCS_EXAMPLE)
def test_github_documented_example(path, owners, line):
    index = index_of((DATA / "github_docs_example.CODEOWNERS").read_bytes())
    answer = index.lookup(path)
    assert (answer.owners, answer.line, answer.source) == (owners, line, ".github/CODEOWNERS")
    assert index.diagnostics == []


def test_a_rule_without_owners_unowns_and_still_names_its_line():
    index = index_of("* @all\n/apps/ @octocat\n/apps/github\n")
    unowned = index.lookup("apps/github/x.rb")
    assert (unowned.owners, unowned.sections, unowned.line, unowned.pattern) == ((), (), 3, "/apps/github")
    assert index.lookup("apps/x.rb").owners == ("@octocat",)
    assert index.lookup("README").owners == ("@all",)


def test_last_match_wins_and_only_that_line_counts():
    # http://code.v.igoro.us/posts/2019/07/codeowners.html: security/crypto.go gets only @org/sec
    index = index_of("*.go @org/go\nsecurity/** @org/sec\n")
    assert index.lookup("security/crypto.go").owners == ("@org/sec",)
    assert index.lookup("cmd/main.go").owners == ("@org/go",)


def test_no_match_has_no_line():
    answer = index_of("/docs/ @d\n").lookup("src/a.py")
    assert (answer.owners, answer.line, answer.pattern, answer.source, answer.sections) == ((), None, None, None, ())


@pytest.mark.parametrize("present,used", [
    ([".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"], ".github/CODEOWNERS"),
    (["CODEOWNERS", "docs/CODEOWNERS"], "CODEOWNERS"),
    (["docs/CODEOWNERS"], "docs/CODEOWNERS"),
    ([".gitlab/CODEOWNERS", ".bitbucket/CODEOWNERS"], None),
])
def test_github_uses_the_first_of_dot_github_root_docs(present, used):
    files = {p: f"* @from-{p.strip('.').replace('/', '-')}\n".encode() for p in present}
    index = load_ownership(files.get)
    assert index.codeowners == used
    assert index.lookup("x").source == used


def test_an_empty_first_file_still_wins():
    files = {".github/CODEOWNERS": b"", "CODEOWNERS": b"* @root\n"}
    index = load_ownership(files.get)
    assert index.codeowners == ".github/CODEOWNERS" and index.lookup("x").owners == ()


def test_paths_are_case_sensitive():
    index = index_of("/Docs/ @docs\n*.MD @md\n")
    assert index.lookup("Docs/a.txt").owners == ("@docs",)
    assert index.lookup("docs/a.txt").owners == ()
    assert index.lookup("a.md").owners == ()


def test_inline_comments_escaped_blanks_and_owner_forms():
    index = index_of("file.txt @user # some comment\nfoo\\ bar @user2\n*.py @user @org/team a.b+c@example.com\n")
    assert index.lookup("file.txt").owners == ("@user",)
    assert index.lookup("foo bar").owners == ("@user2",)
    assert index.lookup("x.py").owners == ("@user", "@org/team", "a.b+c@example.com")
    assert index.diagnostics == []


def test_lookup_normalises_leading_dot_and_slash():
    index = index_of("/a/ @a\n")
    assert index.lookup("./a/x").owners == index.lookup("/a/x").owners == ("@a",)
    assert index.lookup("a/x") is index.lookup("a/x")  # cached


def test_unsupported_syntax_is_reported_on_its_line():
    text = ("* @all\n"
            "!secret/ @nobody\n"                # 2: negation does not work: ignored
            "/apps/[param]/file.ts @routes\n"   # 3: brackets do not work: literal
            "\\#notes.md @notes\n"              # 4: escaped # does not work: ignored
            "src/***/x @stars\n"                # 5: invalid pattern: skipped
            "/ops/ @ops bob\n"                  # 6: invalid owner: skipped
            "/ @root\n")                         # 7: matches nothing
    index = index_of(text)
    assert problems(index) == [(2, "warning", "unsupported-syntax"), (3, "warning", "unsupported-syntax"),
                               (4, "warning", "unsupported-syntax"), (5, "error", "invalid-pattern"),
                               (6, "error", "invalid-owner"), (7, "warning", "invalid-pattern")]
    assert index.lookup("secret/key").owners == ("@all",)
    assert index.lookup("apps/[param]/file.ts").owners == ("@routes",)
    assert index.lookup("apps/p/file.ts").owners == ("@all",)
    assert index.lookup("#notes.md").owners == ("@all",)
    assert index.lookup("ops/run.sh").owners == ("@all",)  # GitHub skips the whole invalid line
    assert "'bob'" in index.diagnostics[4].message


def test_codeowners_over_3_mb_is_not_loaded():
    body = b"* @everyone\n" + b"# padding padding padding padding padding padding\n" * 70000
    assert len(body) > 3 * 1024 * 1024
    index = index_of(body)
    assert index.lookup("x").owners == ()
    assert index.codeowners == ".github/CODEOWNERS"
    assert [(d.severity, d.code) for d in index.diagnostics] == [("error", "too-large")]
    assert "3 MB" in index.diagnostics[0].message


def test_codeowners_of_exactly_3_mb_loads():
    line = b"* @everyone\n"
    body = line + b"#" * (3 * 1024 * 1024 - len(line) - 1) + b"\n"
    assert len(body) == 3 * 1024 * 1024
    assert index_of(body).lookup("x").owners == ("@everyone",)


def test_a_reader_that_refuses_a_huge_blob_is_reported_without_falling_through():
    def read(path):
        if path == ".github/CODEOWNERS":
            raise TooLarge(900 * 1024 * 1024)
        return b"* @root\n" if path == "CODEOWNERS" else None
    index = load_ownership(read)
    assert index.codeowners == ".github/CODEOWNERS" and index.lookup("x").owners == ()
    assert [d.code for d in index.diagnostics] == ["too-large"]


def test_invalid_utf8_lines_are_reported_and_still_match_the_same_bytes():
    raw = b"* @all\n/caf\xe9/ @latin1\n/ok/ @ok\n"
    index = index_of(raw)
    assert problems(index) == [(2, "warning", "encoding")]
    assert index.lookup("ok/x").owners == ("@ok",)
    # git paths are decoded with surrogateescape elsewhere in ChangeGate: the same bytes match
    assert index.lookup(b"caf\xe9/menu.txt".decode("utf-8", "surrogateescape")).owners == ("@latin1",)


def test_binary_file_crlf_and_bom():
    assert [d.code for d in index_of(b"* @a\0\n").diagnostics] == ["binary"]
    index = index_of(b"\xef\xbb\xbf# owners\r\n/docs/ @docs\r\n")
    assert index.lookup("docs/a").owners == ("@docs",) and index.diagnostics == []


def test_missing_explicit_codeowners_is_reported():
    index = load_ownership({"CODEOWNERS": b"* @a\n"}.get, codeowners_path="config/OWNERS.txt")
    assert index.codeowners is None and index.lookup("x").owners == ()
    assert [(d.path, d.code) for d in index.diagnostics] == [("config/OWNERS.txt", "missing")]


def test_bitbucket_reads_dot_bitbucket_and_its_owner_forms():
    files = {".bitbucket/CODEOWNERS": b"* a@example.com\n*.scala @ws/reviewers:random(2) @teams/jvm\n!x @y\n",
             "CODEOWNERS": b"* @github-style\n"}
    index = load_ownership(files.get, dialect="bitbucket")
    assert index.codeowners == ".bitbucket/CODEOWNERS"
    assert index.lookup("a/b.scala").owners == ("@ws/reviewers", "@teams/jvm")
    assert index.lookup("README").owners == ("a@example.com",)
    assert [(d.line, d.code) for d in index.diagnostics] == [(3, "unsupported-syntax")]
    assert "Bitbucket" in index.diagnostics[0].message


def test_unknown_dialect_is_a_programming_error():
    with pytest.raises(ValueError):
        load_ownership({}.get, dialect="gitea")


def test_bucketed_lookup_equals_a_plain_scan_of_every_rule():
    rng = random.Random(3)
    names = ["a", "b", "docs", "src", "x.md", "y.go", ".github"]
    pieces = ["*", "**", "*.md", "?", "f\\*o"] + names
    rules = []
    for _ in range(500):
        parts = [rng.choice(pieces) for _ in range(rng.randint(1, 3))]
        pattern = ("/" if rng.random() < 0.4 else "") + "/".join(parts) + ("/" if rng.random() < 0.2 else "")
        rules.append(pattern.replace("***", "*"))
    index = index_of("".join(f"{p} @o{i}\n" for i, p in enumerate(rules)))
    compiled = [re.compile(pattern_regex(p) + r"\Z") for p in rules]
    for _ in range(800):
        path = "/".join(rng.choice(names) for _ in range(rng.randint(1, 5)))
        expected = next((i for i in reversed(range(len(rules))) if compiled[i].match(path)), None)
        assert index.lookup(path).line == (None if expected is None else expected + 1), path


def test_thousands_of_lines_stay_fast():
    lines = ["* @org/all"]
    for i in range(6000):
        lines.append([f"/services/svc{i}/ @org/t{i}", f"/services/svc{i}/**/*.yaml @org/y{i}",
                      f"docs/area{i}/*.md @u{i}", f"lib{i}/ @l{i}"][i % 4])
    start = time.perf_counter()
    index = index_of("\n".join(lines) + "\n")
    for i in range(2000):
        index.lookup(f"services/svc{(i * 7) % 6000}/deploy/app{i}.yaml")
        index.lookup(f"other/dir{i}/file.txt")
    elapsed = time.perf_counter() - start
    assert index.lookup("services/svc8/deploy/a.yaml").owners == ("@org/t8",)
    assert index.lookup("services/svc9/x/a.yaml").owners == ("@org/y9",)
    assert elapsed < 10, elapsed  # ~1 s on a slow machine; a per-rule scan in Python is far slower


@pytest.mark.parametrize("dialect", ["github", "gitlab", "bitbucket"])
def test_garbage_never_raises(dialect):
    rng = random.Random(dialect)
    chars = "ab/*?[]!^-\\#@. \t{}()|&~+$%:'\"\u00e9\u2028\r"
    for _ in range(60):
        text = "\n".join("".join(rng.choice(chars) for _ in range(rng.randint(0, 25)))
                         for _ in range(rng.randint(1, 30))).encode("utf-8", "surrogatepass")
        index = load_ownership({"CODEOWNERS": text, ".bitbucket/CODEOWNERS": text}.get, dialect=dialect)
        for _ in range(10):
            index.lookup("".join(rng.choice("ab/.[]*#\u00e9") for _ in range(rng.randint(1, 12))))
        assert all(d.path == index.codeowners for d in index.diagnostics)


def test_index_answers_the_engine_owner_lookup_protocol():
    index = load_ownership({"CODEOWNERS": b"* @all\n/apps/github\n",
                            "catalog-info.yaml": b"kind: Component\nmetadata: {labels: {t: '2'}}\nspec: {owner: x}\n"}.get,
                           catalog_tier_key="t")
    owned = index.ownership("README")
    assert (owned.source, owned.line, owned.pattern, owned.owners) == ("CODEOWNERS", 1, "*", ["@all"])
    assert owned.sections[0].approvals == 1 and not owned.sections[0].optional
    unowned = index.ownership("apps/github/x")
    assert (unowned.line, unowned.owners) == (2, [])
    assert index.tier("README") == 2
    assert load_ownership({}.get).ownership("x") is None
