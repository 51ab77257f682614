"""Output formats: each turns a Report into text. No analysis happens here."""
from __future__ import annotations

from typing import Callable

from analyzers.model import Report

from . import github, json_format, markdown, sarif, text

Formatter = Callable[[Report], str]
FORMATS: dict[str, Formatter] = {
    "text": text.render,
    "json": json_format.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
    "github": github.render,
}
