"""Who owns a path: CODEOWNERS (github, gitlab, bitbucket dialects, each with its forge's own
rules), Kubernetes OWNERS files and Backstage catalog-info.yaml. Pure: files arrive through a
`read` callable (the lead points it at the base revision); nothing is executed.

    index = load_ownership(read, list_paths=ls_tree, dialect="github", catalog_tier_key="changegate.dev/tier")
    answer = index.lookup("deploy/prod/app.yaml")
    answer.owners, answer.line, answer.pattern, answer.source, answer.sections, answer.tier
    index.diagnostics      # problems in the ownership files, with lines
    index.to_json(paths)   # DESIGN §4.1 `owners --format json`

How sources combine: the CODEOWNERS sections that match (GitHub and Bitbucket: the one last
matching line; GitLab: one per section) and the OWNERS approvers of the path's directory chain
are unioned; the catalog owner stands in only when neither has a rule for the path. Tier always
comes from the nearest catalog Component.
"""
from .index import TooLarge, OwnershipIndex, check_file, codeowners_locations, detect_dialect, load_ownership
from .model import DIALECTS, Diagnostic, OwnerAnswer, Section

__all__ = ["load_ownership", "check_file", "OwnershipIndex", "OwnerAnswer", "Section", "Diagnostic", "TooLarge", "DIALECTS",
           "codeowners_locations", "detect_dialect"]
