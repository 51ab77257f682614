"""Dockerfile rules on real changes: what DKR-001..003 flag in the shipped image, and the routine
edits (re-wrapped RUN lines, new labels, patch bumps, builder-stage changes) they leave alone."""
import pytest

PATH = "services/checkout/Dockerfile"

DOCKERFILE = """\
# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.22

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \\
    go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/checkout ./cmd/checkout

FROM gcr.io/distroless/static-debian12:1.0.3 AS runtime
LABEL org.opencontainers.image.source="https://github.com/shop/checkout"
COPY --from=build /out/checkout /usr/local/bin/checkout
ENV GOMAXPROCS=4 \\
    LOG_FORMAT=json
EXPOSE 8080 9090
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \\
    CMD ["/usr/local/bin/checkout", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/checkout"]
CMD ["serve", "--port=8080"]
"""
HEALTHCHECK = """HEALTHCHECK --interval=30s --timeout=3s --retries=3 \\
    CMD ["/usr/local/bin/checkout", "healthcheck"]
"""

NODE = """\
ARG NODE_VERSION=18
FROM node:${NODE_VERSION}-alpine AS base
WORKDIR /app
USER node

FROM base AS release
COPY --chown=node:node . .
CMD ["node", "server.js"]
"""


def findings_after(repo, before, after, path=PATH):
    repo.write(path, before)
    repo.commit("base")
    repo.write(path, after)
    return repo.check_json()["findings"]


def brief(found):
    return [(f["rule"], f["severity"], f["line"], f["key"]) for f in found]


def test_base_image_to_latest_is_flagged_at_the_from_line(repo):
    found = findings_after(repo, DOCKERFILE, DOCKERFILE.replace("static-debian12:1.0.3", "static-debian12:latest"))
    assert brief(found) == [("DKR-001", "warning", 12, "stage[name=runtime].FROM")]
    assert found[0]["new"] == "gcr.io/distroless/static-debian12:latest"
    assert "no longer pinned" in found[0]["message"]


@pytest.mark.parametrize("new,flagged", [
    ("static-debian12:2.0.0", "major version jump"),
    ("static-debian12:1.0.4", None),             # patch bump: routine
    ("static-debian12:1.1.0", None),             # minor bump: routine
    ("static-debian12:1.0.3@sha256:" + "a" * 64, None),  # pinning a digest is an improvement
    ("base-debian12:1.0.3", "another base image"),
])
def test_base_image_transitions(repo, new, flagged):
    found = findings_after(repo, DOCKERFILE, DOCKERFILE.replace("static-debian12:1.0.3", new))
    dkr = [f for f in found if f["rule"] == "DKR-001"]
    assert [flagged in f["message"] for f in dkr] == ([True] if flagged else [])


def test_digest_unpinned_is_a_warning(repo):
    pinned = DOCKERFILE.replace("static-debian12:1.0.3", "static-debian12:1.0.3@sha256:" + "b" * 64)
    found = findings_after(repo, pinned, DOCKERFILE)
    assert brief(found) == [("DKR-001", "warning", 12, "stage[name=runtime].FROM")]
    assert "digest" in found[0]["message"]


def test_builder_stage_bump_is_left_alone(repo):
    after = DOCKERFILE.replace("GO_VERSION=1.22", "GO_VERSION=2.0")
    assert findings_after(repo, DOCKERFILE, after) == []


def test_major_jump_through_an_arg_default_points_at_the_arg(repo):
    found = findings_after(repo, NODE, NODE.replace("NODE_VERSION=18", "NODE_VERSION=20"))
    assert brief(found) == [("DKR-001", "warning", 1, "ARG.NODE_VERSION")]
    assert "node:18-alpine → node:20-alpine" in found[0]["message"]


def test_user_root_and_user_removed(repo):
    found = findings_after(repo, DOCKERFILE, DOCKERFILE.replace("USER 65532:65532", "USER root"))
    assert brief(found) == [("DKR-002", "warning", 18, "stage[name=runtime].USER")]
    assert (found[0]["old"], found[0]["new"]) == ("65532:65532", "root")


def test_user_removed_falls_back_to_root(repo):
    found = findings_after(repo, DOCKERFILE, DOCKERFILE.replace("USER 65532:65532\n", ""))
    assert brief(found) == [("DKR-002", "warning", 17, "stage[name=runtime].USER")]
    assert "default user" in found[0]["message"]


def test_user_inherited_from_the_parent_stage_still_counts(repo):
    # the release stage gets `USER node` from `base`: moving USER there is no change at run time
    after = NODE.replace("USER node\n", "").replace("COPY --chown", "USER node\nCOPY --chown")
    assert findings_after(repo, NODE, after) == []
    # dropping it from the parent does make the shipped image run as root
    found = findings_after(repo, after, after.replace("USER node\n", "USER 0\n"))
    assert [f["rule"] for f in found] == ["DKR-002"]


def test_user_change_in_a_builder_stage_only_is_not_flagged(repo):
    before = DOCKERFILE.replace("WORKDIR /src\n", "WORKDIR /src\nUSER 1000\n")
    assert findings_after(repo, before, DOCKERFILE) == []


def test_healthcheck_removed_or_none(repo):
    found = findings_after(repo, DOCKERFILE, DOCKERFILE.replace(HEALTHCHECK, ""))
    assert brief(found) == [("DKR-003", "warning", 18, "stage[name=runtime].HEALTHCHECK")]
    assert "health check removed" in found[0]["message"]


def test_healthcheck_none(repo):
    found = findings_after(repo, DOCKERFILE, DOCKERFILE.replace(HEALTHCHECK, "HEALTHCHECK NONE\n"))
    assert brief(found) == [("DKR-003", "warning", 19, "stage[name=runtime].HEALTHCHECK")]
    assert found[0]["new"] == "NONE"


def test_entrypoint_exec_to_shell_form_is_a_warning(repo):
    after = DOCKERFILE.replace('ENTRYPOINT ["/usr/local/bin/checkout"]', "ENTRYPOINT /usr/local/bin/checkout")
    found = findings_after(repo, DOCKERFILE, after)
    assert brief(found) == [("DKR-003", "warning", 22, "stage[name=runtime].ENTRYPOINT")]
    assert "SIGTERM" in found[0]["message"]


def test_shell_form_that_execs_the_app_is_only_a_note(repo):
    after = DOCKERFILE.replace('ENTRYPOINT ["/usr/local/bin/checkout"]', 'ENTRYPOINT exec /usr/local/bin/checkout "$@"')
    assert [(f["rule"], f["severity"]) for f in findings_after(repo, DOCKERFILE, after)] == [("DKR-003", "info")]


def test_cmd_change_and_port_removal_are_info(repo):
    after = DOCKERFILE.replace('"--port=8080"', '"--port=8081"').replace("EXPOSE 8080 9090", "EXPOSE 8081 9090")
    found = findings_after(repo, DOCKERFILE, after)
    assert brief(found) == [("DKR-003", "info", 17, "stage[name=runtime].EXPOSE[0]"),
                            ("DKR-003", "info", 23, "stage[name=runtime].CMD")]


def test_same_command_in_exec_and_shell_spelling_is_no_change(repo):
    before = NODE.replace('CMD ["node", "server.js"]', 'CMD ["/bin/sh", "-c", "node server.js"]')
    after = NODE.replace('CMD ["node", "server.js"]', "CMD   node   server.js")
    repo.write(PATH, before)
    repo.commit("base")
    repo.write(PATH, after)
    report = repo.check_json()
    assert report["findings"] == [] and report["files"][0]["changes"] == []


def test_routine_edits_are_quiet(repo):
    after = (DOCKERFILE
             .replace("RUN CGO_ENABLED=0 go build -trimpath -o /out/checkout ./cmd/checkout",
                      "RUN CGO_ENABLED=0 \\\n    # static binary\n    go build -trimpath \\\n"
                      "    -o /out/checkout ./cmd/checkout")
             .replace("LABEL org", 'LABEL org.opencontainers.image.version="1.4.2"\nLABEL org')
             .replace("static-debian12:1.0.3", "static-debian12:1.0.4"))
    repo.write(PATH, DOCKERFILE)
    repo.commit("base")
    repo.write(PATH, after)
    report = repo.check_json()
    assert report["findings"] == []
    assert [(c["key"], c["op"]) for c in report["files"][0]["changes"]] == [
        ("stage[name=runtime].FROM", "replace"),
        ('stage[name=runtime].LABEL["org.opencontainers.image.version"]', "add")]


def test_new_dockerfile_is_not_a_transition(repo):
    repo.write("README.md", "x\n")
    repo.commit("base")
    repo.write(PATH, DOCKERFILE.replace("USER 65532:65532", "USER root"))
    assert repo.check_json()["findings"] == []


def test_policy_can_raise_the_severity(repo):
    repo.write(".changegate.yaml", "version: 1\nrules: {DKR-003: {severity: error}}\n")
    found = findings_after(repo, DOCKERFILE, DOCKERFILE.replace(HEALTHCHECK, ""))
    assert [(f["rule"], f["severity"]) for f in found] == [("DKR-003", "error")]


def test_broken_dockerfile_is_a_parse_finding(repo):
    found = findings_after(repo, DOCKERFILE, DOCKERFILE.replace("USER 65532", "USR 65532"))
    assert brief(found) == [("CFG-001", "warning", 18, None)]
