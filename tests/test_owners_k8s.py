"""Kubernetes/Prow OWNERS files: inheritance, no_parent_owners, aliases, filters, and hostile YAML."""
import pytest

from analyzers.owners import load_ownership


def index_of(files, listed=True, **kw):
    data = {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in files.items()}
    return load_ownership(data.get, list_paths=(lambda: list(data)) if listed else None, **kw)


TREE = {
    "OWNERS": "approvers: [root-approver]\nreviewers: [root-reviewer]\n",
    "OWNERS_ALIASES": "aliases:\n  SIG-Apps: [Alice, bob]\n",
    "apps/OWNERS": "approvers:\n  - sig-apps\n  - carol\n",
    "apps/web/OWNERS": "approvers: [dave]\n",
    "infra/OWNERS": "options:\n  no_parent_owners: true\napprovers: [erin]\n",
}


@pytest.mark.parametrize("listed", [True, False], ids=["ls-tree", "probing"])
def test_approvers_are_inherited_up_the_tree(listed):
    index = index_of(TREE, listed=listed)
    answer = index.lookup("apps/web/src/main.ts")
    assert answer.owners == ("@dave", "@alice", "@bob", "@carol", "@root-approver")
    assert (answer.source, answer.line, answer.pattern) == ("apps/web/OWNERS", 1, "/apps/web/")
    assert [s.name for s in answer.sections] == ["OWNERS"]
    assert index.lookup("README.md").owners == ("@root-approver",)
    assert index.diagnostics == []


def test_no_parent_owners_stops_inheritance():
    answer = index_of(TREE).lookup("infra/terraform/main.tf")
    assert answer.owners == ("@erin",) and answer.source == "infra/OWNERS"


def test_an_owners_file_without_approvers_defers_to_its_parents():
    index = index_of({"OWNERS": "approvers: [root]\n", "docs/OWNERS": "reviewers: [rev]\n"})
    answer = index.lookup("docs/a.md")
    assert answer.owners == ("@root",) and answer.source == "OWNERS"


def test_codeowners_and_owners_files_are_unioned():
    files = dict(TREE, **{".github/CODEOWNERS": "/apps/ @org/apps\n"})
    answer = index_of(files).lookup("apps/x.yaml")
    assert [s.name for s in answer.sections] == ["codeowners", "OWNERS"]
    assert answer.owners == ("@org/apps", "@alice", "@bob", "@carol", "@root-approver")
    assert (answer.source, answer.line) == (".github/CODEOWNERS", 1)  # CODEOWNERS decides first


def test_filters_match_the_path_below_the_owners_directory():
    files = {"OWNERS": "approvers: [root]\n",
             "api/OWNERS": 'filters:\n  "\\\\.go$":\n    approvers: [gopher]\n  "^docs/":\n    approvers: [writer]\n'}
    index = index_of(files)
    assert index.lookup("api/server.go").owners == ("@gopher", "@root")
    assert index.lookup("api/docs/readme.md").owners == ("@writer", "@root")
    assert index.lookup("api/readme.md").owners == ("@root",)
    assert index.lookup("api/server.go").pattern == "\\.go$"
    assert index.lookup("api/server.go").line == 2


def test_top_level_approvers_beside_filters_are_ignored_and_reported():
    files = {"OWNERS": 'approvers: [ignored]\nfilters:\n  ".*":\n    approvers: [used]\n'}
    index = index_of(files)
    assert index.lookup("x").owners == ("@used",)
    assert [(d.line, d.code) for d in index.diagnostics] == [(1, "invalid-owners")]


@pytest.mark.parametrize("expr", ["(a+)+$", "(\\w)\\1", "(?=x)y", "["])
def test_dangerous_or_invalid_filter_regexes_are_refused(expr):
    files = {"OWNERS": "filters:\n  " + repr(expr).replace("'", '"') + ":\n    approvers: [x]\n"}
    index = index_of(files)
    assert index.lookup("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab").owners == ()
    assert [d.code for d in index.diagnostics] == ["invalid-regex"]


BAD_YAML = {
    "syntax error": ("approvers: [a, b\n", 2),
    "alias bomb": (("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\napprovers: *c\n"), 2),
    "deep nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", None),
    "not a mapping": ("- a\n- b\n", 1),
    "several documents": ("approvers: [a]\n---\napprovers: [b]\n", None),
    "approvers not a list": ("approvers: alice\n", 1),
    "python tag": ("approvers: !!python/object/apply:os.system ['echo hi']\n", 1),
}


@pytest.mark.parametrize("name", list(BAD_YAML))
def test_malformed_owners_files_are_reported_never_raised(name):
    text, line = BAD_YAML[name]
    index = index_of({"OWNERS": "approvers: [root]\n", "sub/OWNERS": text})
    answer = index.lookup("sub/file.txt")
    assert answer.owners == ("@root",), name  # the broken file adds nobody
    assert len(index.diagnostics) == 1 and index.diagnostics[0].path == "sub/OWNERS"
    assert index.diagnostics[0].severity == "error"
    if line is not None:
        assert index.diagnostics[0].line == line


def test_invalid_utf8_in_owners_is_reported_and_the_rest_read():
    index = index_of({"OWNERS": b"# caf\xe9\napprovers: [root]\n"})
    assert index.lookup("x").owners == ("@root",)
    assert [d.code for d in index.diagnostics] == ["encoding"]


def test_broken_aliases_file_is_reported_and_names_stay_unexpanded():
    index = index_of({"OWNERS_ALIASES": "aliases: [not, a, mapping]\n", "OWNERS": "approvers: [team-x]\n"})
    assert index.lookup("x").owners == ("@team-x",)
    assert [d.path for d in index.diagnostics] == ["OWNERS_ALIASES"]


def test_owners_files_are_read_only_where_the_listing_has_them():
    reads = []
    files = {"OWNERS": b"approvers: [root]\n", "a/b/c/x.txt": b""}

    def read(path):
        reads.append(path)
        return files.get(path)

    index = load_ownership(read, list_paths=lambda: list(files))
    index.lookup("a/b/c/x.txt")
    index.lookup("a/b/c/y.txt")
    assert reads == ["OWNERS"]  # nor any CODEOWNERS location: none is in the listing
