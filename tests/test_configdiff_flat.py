"""Semantic diff of the formats parsed in Python: INI (.ini/.cfg/.conf), .properties, .env,
JSONC and Dockerfile. Key paths, values, lines; spelling edits are no change; broken input is a
syntax problem with its line; CRLF, a BOM and empty files are read like any other text."""
import pytest

from analyzers.classify import config_language, file_kinds
from analyzers.configdiff import diff_config
from analyzers.policy import Policy


def changes(language, old, new):
    result = diff_config(language, old, new)
    assert result.error is None, result.error
    return [(c.key, c.op, c.old, c.new, c.line) for c in result.changes]


def problem(language, new, old="", side="new"):
    error = diff_config(language, old, new).error
    assert error is not None and error.side == side
    return error.line, error.message


def crlf_bom(text):
    return "\ufeff" + text.replace("\n", "\r\n")


# ---------------------------------------------------------------- INI
SUPERVISOR = """\
; supervisord for the checkout workers
log_level = info

[program:checkout]
command = /usr/local/bin/checkout serve
numprocs = 4
autorestart: true
environment =
    DB_HOST="db.internal",
    QUEUE_URL="amqp://mq:5672"

[pool.main]
max_connections = 50   ; per worker
"""


def test_ini_sections_top_level_keys_and_lines():
    new = (SUPERVISOR.replace("numprocs = 4", "numprocs = 1").replace("log_level = info", "log_level = debug")
           .replace('mq:5672"', 'mq:5673"').replace("= 50", "= 80"))
    assert changes("ini", SUPERVISOR, new) == [
        ("log_level", "replace", "info", "debug", 2),
        ("program:checkout.numprocs", "replace", "4", "1", 6),
        ("program:checkout.environment", "replace", 'DB_HOST="db.internal",\nQUEUE_URL="amqp://mq:5672"',
         'DB_HOST="db.internal",\nQUEUE_URL="amqp://mq:5673"', 8),
        ('["pool.main"].max_connections', "replace", "50", "80", 13),
    ]


def test_ini_formatting_comments_quotes_and_key_order_are_no_change():
    new = """\
; supervisord for the checkout workers (reviewed)
log_level=info
[program:checkout]
autorestart = true
numprocs=4
command   =   "/usr/local/bin/checkout serve"
environment =
        DB_HOST="db.internal",
        QUEUE_URL="amqp://mq:5672"
[pool.main]
max_connections = 50   ; per worker, see runbook
"""
    assert changes("ini", SUPERVISOR, new) == []


def test_ini_added_removed_keys_and_sections():
    new = SUPERVISOR.replace("autorestart: true\n", "").replace("[pool.main]", "[pool.main]\nmin_connections = 5")
    new += "\n[program:worker]\ncommand = worker\n"
    assert changes("ini", SUPERVISOR, new) == [
        ("program:checkout.autorestart", "remove", "true", None, 6),
        ('["pool.main"].min_connections', "add", None, "5", 12),
        ("program:worker", "add", None, {"command": "worker"}, 15),
    ]


def test_ini_duplicate_key_and_repeated_section_last_wins():
    old = "[a]\nx = 1\n[b]\ny = 1\n[a]\nx = 2\n"
    new = "[a]\nx = 2\n[b]\ny = 1\n"
    assert changes("ini", old, new) == []


@pytest.mark.parametrize("text,line", [("[server\nport = 1\n", 1), ("[s]\nport = 1\njust words\n", 3),
                                       ("[]\n", 1), ("[s]\n= value\n", 2)])
def test_ini_malformed_input_is_a_syntax_problem_with_its_line(text, line):
    assert problem("ini", text)[0] == line


def test_ini_crlf_bom_and_empty_files():
    assert changes("ini", SUPERVISOR, crlf_bom(SUPERVISOR)) == []
    assert changes("ini", crlf_bom(SUPERVISOR), crlf_bom(SUPERVISOR.replace("= 4", "= 2"))) == [
        ("program:checkout.numprocs", "replace", "4", "2", 6)]
    result = diff_config("ini", "", "; nothing yet\n\n")
    assert result.error is None and result.changes == []
    assert changes("ini", "", "[s]\nk = v\n") == [("s", "add", None, {"k": "v"}, 1)]


def test_ini_value_span_is_the_value_without_its_comment():
    result = diff_config("ini", SUPERVISOR, SUPERVISOR.replace("= 50", "= 80"))
    assert result.changes[0].span == (13, 19, 13, 21)


def test_conf_that_is_not_ini_is_quietly_not_diffed():
    nginx = "worker_processes 4;\nevents {\n  worker_connections 1024;\n}\n"
    result = diff_config("conf", nginx, nginx.replace("4;", "8;"))
    assert result.error is None and result.changes == []
    sysctl = "net.core.somaxconn = 1024\nvm.swappiness = 10\n"
    assert changes("conf", sysctl, sysctl.replace("1024", "4096")) == [
        ('["net.core.somaxconn"]', "replace", "1024", "4096", 1)]


# ---------------------------------------------------------------- .properties
PROPS = """\
# Spring Boot settings for checkout
server.port=8080
spring.datasource.url = jdbc:postgresql://db.internal:5432/shop
spring.datasource.hikari.maximum-pool-size: 20
! legacy comment style
greeting Hello\\u0020World
app.allowed-origins=https://shop.example.com,\\
    https://admin.example.com
"""


def test_properties_whole_key_is_one_segment_and_separators_are_equivalent():
    new = (PROPS.replace("server.port=8080", "server.port: 8081")
           .replace("maximum-pool-size: 20", "maximum-pool-size=5"))
    assert changes("properties", PROPS, new) == [
        ('["server.port"]', "replace", "8080", "8081", 2),
        ('["spring.datasource.hikari.maximum-pool-size"]', "replace", "20", "5", 4),
    ]


def test_properties_escapes_continuations_and_comments():
    new = """\
# Spring Boot settings for checkout (edited)
server.port = 8080
spring.datasource.url=jdbc:postgresql://db.internal:5432/shop
spring.datasource.hikari.maximum-pool-size = 20
greeting=Hello World
app.allowed-origins = https://shop.example.com,https://admin.example.com
"""
    assert changes("properties", PROPS, new) == []
    grown = PROPS.replace("admin.example.com", "admin.example.com,\\\n    https://new.example.com")
    assert changes("properties", PROPS, grown) == [
        ('["app.allowed-origins"]', "replace", "https://shop.example.com,https://admin.example.com",
         "https://shop.example.com,https://admin.example.com,https://new.example.com", 7)]


def test_properties_malformed_unicode_escape_and_crlf_bom_empty():
    assert problem("properties", PROPS + "name=caf\\u00e\n") == (9, "malformed \\uxxxx escape in .properties")
    assert changes("properties", PROPS, crlf_bom(PROPS)) == []
    assert changes("properties", "", "# only a comment\n") == []
    assert changes("properties", crlf_bom(PROPS), crlf_bom(PROPS.replace("8080", "9090"))) == [
        ('["server.port"]', "replace", "8080", "9090", 2)]


# ---------------------------------------------------------------- .env
DOTENV = """\
# checkout service, local overrides
export DATABASE_URL=postgres://shop:secret@db.internal:5432/shop
REDIS_URL='redis://cache:6379/0'
LOG_LEVEL=info # verbose in staging
GREETING="Hello\\nWorld"
TLS_CERT="-----BEGIN CERTIFICATE-----
MIIB
-----END CERTIFICATE-----"
EMPTY=
FROM_HOST
"""


def test_dotenv_keys_values_and_lines():
    new = DOTENV.replace("LOG_LEVEL=info", "LOG_LEVEL=debug").replace("MIIB", "MIIC").replace("EMPTY=", "EMPTY=x")
    assert changes("dotenv", DOTENV, new) == [
        ("LOG_LEVEL", "replace", "info", "debug", 4),
        ("TLS_CERT", "replace", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
         "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----", 6),
        ("EMPTY", "replace", "", "x", 9),
    ]


def test_dotenv_quotes_export_and_comments_are_no_change():
    new = """\
# checkout service, local overrides (see README)
DATABASE_URL="postgres://shop:secret@db.internal:5432/shop"
REDIS_URL=redis://cache:6379/0
LOG_LEVEL=info
GREETING="Hello\\nWorld"   # two lines

TLS_CERT="-----BEGIN CERTIFICATE-----
MIIB
-----END CERTIFICATE-----"
EMPTY= # set in CI
FROM_HOST
"""
    assert changes("dotenv", DOTENV, new) == []


def test_dotenv_duplicate_key_last_wins_and_hash_without_blank_is_a_value():
    assert changes("dotenv", "A=1\nA=2\n", "A=2\n") == []
    assert changes("dotenv", "COLOR=#ff0000\n", "COLOR=#00ff00 # green\n") == [
        ("COLOR", "replace", "#ff0000", "#00ff00", 1)]


@pytest.mark.parametrize("text,line", [("A=1\nthis is not valid\n", 2), ("A=1\nB='open\n", 2),
                                       ("A=\"x\" trailing\n", 1), ("=value\n", 1)])
def test_dotenv_malformed_lines(text, line):
    assert problem("dotenv", text)[0] == line


def test_dotenv_crlf_bom_and_empty():
    assert changes("dotenv", DOTENV, crlf_bom(DOTENV)) == []
    assert changes("dotenv", "", "\n# nothing\n") == []
    assert changes("dotenv", crlf_bom("A=1\n"), crlf_bom("A=1\nB=2\n")) == [("B", "add", None, "2", 2)]


# ---------------------------------------------------------------- JSONC
TSCONFIG = """\
// shared compiler settings
{
  "compilerOptions": {
    "strict": true, /* keep, see #123 */
    "target": "es2020",
    "paths": {"@shop/*": ["src/*",],},
  },
}
"""


def test_jsonc_comments_and_trailing_commas():
    assert changes("jsonc", TSCONFIG, TSCONFIG.replace("es2020", "es2022")) == [
        ("compilerOptions.target", "replace", "es2020", "es2022", 5)]
    no_commas = TSCONFIG.replace('["src/*",],}', '["src/*"]}').replace("  },\n}", "  }\n}")
    assert changes("jsonc", TSCONFIG, no_commas.replace("see #123", "see #124")) == []
    assert problem("jsonc", TSCONFIG.replace('"strict": true,', '"strict": true,,'))[0] == 4


def test_jsonc_files_are_recognised():
    for path in ("tsconfig.json", "packages/web/tsconfig.build.json", ".vscode/settings.json",
                 ".devcontainer/devcontainer.json", "config/app.jsonc"):
        assert config_language(path) == "jsonc", path
    assert config_language("package.json") == "json"


# ---------------------------------------------------------------- Dockerfile
DOCKERFILE = """\
# syntax=docker/dockerfile:1.7
ARG NODE_VERSION=20
FROM node:${NODE_VERSION}-alpine AS build
WORKDIR /src
RUN npm ci && \\
    npm run build
RUN <<EOF
set -e
FROM is not an instruction inside a heredoc
EOF

FROM gcr.io/distroless/nodejs20-debian12 AS runtime
ENV NODE_ENV=production PORT="8080"
ENV LEGACY_FORM value with spaces
LABEL org.opencontainers.image.source="https://github.com/shop/web"
WORKDIR /app
WORKDIR dist
COPY --from=build /src/dist ./
USER 1000:1000
EXPOSE 8080/tcp 9229
HEALTHCHECK --interval=30s CMD ["/nodejs/bin/node", "health.js"]
CMD ["server.js"]
"""


def test_dockerfile_key_paths():
    result = diff_config("dockerfile", None, DOCKERFILE)
    assert result.error is None
    value = result.value
    assert value("ARG.NODE_VERSION") == "20"
    assert value("stage[name=build].FROM") == "node:${NODE_VERSION}-alpine"
    assert value("stage[name=build].RUN") == ["npm ci && npm run build",
                                              "<<EOF\nset -e\nFROM is not an instruction inside a heredoc\nEOF"]
    assert value("stage[name=runtime].ENV.PORT") == "8080"
    assert value("stage[name=runtime].ENV.LEGACY_FORM") == "value with spaces"
    assert value('stage[name=runtime].LABEL["org.opencontainers.image.source"]') == "https://github.com/shop/web"
    assert value("stage[name=runtime].WORKDIR") == "/app/dist"
    assert value("stage[name=runtime].EXPOSE") == ["8080", "9229"]
    assert value("stage[name=runtime].HEALTHCHECK") == {"interval": "30s", "CMD": ["/nodejs/bin/node", "health.js"]}
    assert value("stage[name=runtime].USER") == "1000:1000"


def test_dockerfile_changes_with_lines():
    new = DOCKERFILE.replace("USER 1000:1000", "USER root").replace('PORT="8080"', "PORT=9090") \
        .replace("set -e", "set -eux")
    assert changes("dockerfile", DOCKERFILE, new) == [
        ("stage[name=build].RUN[1]", "replace", "<<EOF\nset -e\nFROM is not an instruction inside a heredoc\nEOF",
         "<<EOF\nset -eux\nFROM is not an instruction inside a heredoc\nEOF", 7),
        ("stage[name=runtime].ENV.PORT", "replace", "8080", "9090", 13),
        ("stage[name=runtime].USER", "replace", "1000:1000", "root", 19),
    ]


def test_dockerfile_spelling_is_no_change():
    new = (DOCKERFILE.replace("RUN npm ci && \\\n    npm run build", "RUN npm ci \\\n  # build\n  && npm run build")
           .replace('PORT="8080"', "PORT=8080").replace("8080/tcp", "8080")
           .replace('CMD ["server.js"]', 'cmd [ "server.js" ]')
           .replace("# syntax=docker/dockerfile:1.7\n", ""))
    assert changes("dockerfile", DOCKERFILE, new) == []


def test_dockerfile_unnamed_stages_are_positional():
    old = "FROM golang:1.22 AS build\nRUN go build\nFROM alpine:3.19\nUSER app\n"
    new = old.replace("alpine:3.19", "alpine:3.20")
    assert changes("dockerfile", old, new) == [("stage[1].FROM", "replace", "alpine:3.19", "alpine:3.20", 3)]


def test_dockerfile_escape_directive():
    old = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\ `\n    && echo hi\n"
    new = old.replace("echo hi", "echo bye")
    assert changes("dockerfile", old, new) == [
        ("stage[0].RUN[0]", "replace", "dir C:\\ && echo hi", "dir C:\\ && echo bye", 3)]


@pytest.mark.parametrize("text,line", [("FROM alpine\nRUNN ls\n", 2), ("RUN ls\nFROM alpine\n", 1),
                                       ("FROM\n", 1), ("FROM a AS\n", 1), ("FROM a\nHEALTHCHECK --interval=5s\n", 2),
                                       ("FROM a\nENV JUSTKEY\n", 2)])
def test_dockerfile_malformed(text, line):
    assert problem("dockerfile", text)[0] == line


def test_dockerfile_crlf_bom_and_empty():
    assert changes("dockerfile", DOCKERFILE, crlf_bom(DOCKERFILE)) == []
    assert changes("dockerfile", "", "# nothing yet\n") == []
    assert changes("dockerfile", crlf_bom(DOCKERFILE), crlf_bom(DOCKERFILE.replace("USER 1000:1000", "USER 1001"))) == [
        ("stage[name=runtime].USER", "replace", "1000:1000", "1001", 19)]


# ---------------------------------------------------------------- classification
@pytest.mark.parametrize("path,language,kinds", [
    ("deploy/prod/checkout.ini", "ini", {"config"}),
    ("etc/supervisord.conf", "conf", {"config"}),
    ("src/main/resources/application.properties", "properties", {"config"}),
    (".env", "dotenv", {"config", "env"}),
    ("deploy/.env.production", "dotenv", {"config", "env"}),
    ("config/prod.env", "dotenv", {"config", "env"}),
    (".envrc", None, set()),
    ("Dockerfile", "dockerfile", {"dockerfile"}),
    ("docker/Dockerfile.worker", "dockerfile", {"dockerfile"}),
    ("Containerfile", "dockerfile", {"dockerfile"}),
    ("images/api.dockerfile", "dockerfile", {"dockerfile"}),
])
def test_languages_and_kinds(path, language, kinds):
    assert config_language(path) == language
    assert set(file_kinds(path, "", Policy())) - {"control-plane"} == kinds
