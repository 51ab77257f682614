"""Backstage catalog-info.yaml: the Component owner of a directory, and its tier."""
import pytest

from analyzers.owners import load_ownership
from analyzers.owners.catalog import parse_tier

TIER = "changegate.dev/tier"


def component(owner="group:default/checkout", tier=None, where="labels", name="checkout"):
    meta = f"metadata:\n  name: {name}\n"
    if tier is not None:
        meta += f"  {where}:\n    {TIER}: {tier}\n"
    return f"apiVersion: backstage.io/v1alpha1\nkind: Component\n{meta}spec:\n  type: service\n  owner: {owner}\n"


def index_of(files, listed=True, tier_key=TIER):
    data = {k: v.encode("utf-8") if isinstance(v, str) else v for k, v in files.items()}
    return load_ownership(data.get, list_paths=(lambda: list(data)) if listed else None, catalog_tier_key=tier_key)


@pytest.mark.parametrize("listed", [True, False], ids=["ls-tree", "probing"])
def test_catalog_owner_owns_its_directory_and_below(listed):
    index = index_of({"services/checkout/catalog-info.yaml": component(tier='"1"')}, listed=listed)
    answer = index.lookup("services/checkout/deploy/prod.yaml")
    assert answer.owners == ("group:default/checkout",)
    assert (answer.source, answer.line, answer.tier) == ("services/checkout/catalog-info.yaml", 9, 1)
    assert (answer.sections[0].name, answer.pattern) == ("catalog", "/services/checkout/")
    assert index.lookup("services/cart/x.py").owners == ()
    assert index.lookup("services/cart/x.py").tier is None


def test_codeowners_decides_and_the_catalog_still_gives_tier():
    files = {"CODEOWNERS": "/services/ @shop/all\n", "services/checkout/catalog-info.yaml": component(tier="tier-2")}
    answer = index_of(files).lookup("services/checkout/app.py")
    assert answer.owners == ("@shop/all",) and answer.source == "CODEOWNERS"
    assert (answer.tier, answer.catalog_owner) == (2, "group:default/checkout")
    assert index_of(files).tier("services/checkout/app.py") == 2


def test_a_codeowners_rule_without_owners_is_not_overridden_by_the_catalog():
    files = {"CODEOWNERS": "/services/checkout/\n", "services/checkout/catalog-info.yml": component()}
    answer = index_of(files).lookup("services/checkout/app.py")
    assert (answer.owners, answer.line, answer.catalog_owner) == ((), 1, "group:default/checkout")


def test_the_nearest_catalog_with_a_component_wins():
    files = {"catalog-info.yaml": component(owner="platform", tier=3),
             "services/checkout/catalog-info.yaml": component(owner="checkout-team", tier="tier1"),
             "services/checkout/docs/catalog-info.yaml": "kind: System\nmetadata: {name: shop}\nspec: {owner: x}\n"}
    index = index_of(files)
    assert (index.lookup("services/checkout/docs/a.md").catalog_owner, index.lookup("services/checkout/docs/a.md").tier) \
        == ("checkout-team", 1)
    assert (index.lookup("README.md").catalog_owner, index.lookup("README.md").tier) == ("platform", 3)


def test_component_can_be_any_document_and_tier_an_annotation():
    text = "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: a}\nspec: {owner: x}\n---\n" + \
        component(owner="team-b", tier="Tier 4", where="annotations")
    answer = index_of({"svc/catalog-info.yaml": text}).lookup("svc/main.go")
    assert (answer.catalog_owner, answer.tier) == ("team-b", 4)


def test_without_a_tier_key_there_is_no_tier():
    answer = index_of({"catalog-info.yaml": component(tier=1)}, tier_key=None).lookup("x")
    assert answer.tier is None and answer.catalog_owner == "group:default/checkout"


@pytest.mark.parametrize("value,tier", [("1", 1), ("tier-1", 1), ("tier1", 1), ("Tier 2", 2), ("TIER_3", 3),
                                        (0, 0), ("t1", 1), ("gold", None), ("", None), (True, None), (-1, None)])
def test_tier_values(value, tier):
    assert parse_tier(value) == tier


def test_unrecognised_tier_and_missing_owner_are_reported():
    index = index_of({"catalog-info.yaml": component(owner="''", tier="gold")})
    answer = index.lookup("x")
    assert (answer.tier, answer.catalog_owner, answer.owners) == (None, None, ())
    assert sorted((d.line, d.code) for d in index.diagnostics) == [(6, "invalid-tier"), (9, "invalid-catalog")]


@pytest.mark.parametrize("text", [
    "kind: Component\nspec: {owner: [unclosed\n",
    "a: &a [x, x, x]\nb: [*a, *a]\nkind: Component\n",
    b"kind: Component\nspec:\n  owner: caf\xe9\n\x00",
    "kind: Component\nmetadata: !!python/name:os.system\n",
])
def test_broken_catalog_files_are_reported_never_raised(text):
    files = {"catalog-info.yaml": component(owner="root-team"), "svc/catalog-info.yaml": text}
    index = index_of(files)
    answer = index.lookup("svc/a.py")
    assert answer.catalog_owner == "root-team"  # the broken one gives nothing; the next one up answers
    assert [d.path for d in index.diagnostics if d.severity == "error"] == ["svc/catalog-info.yaml"]
