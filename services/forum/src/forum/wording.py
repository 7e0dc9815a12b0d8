"""Text people can trust: Markdown rendered to HTML and cleaned by a maintained sanitiser (markdown-it-py with
nh3), and the plain-language check shown before a practitioner posts where the family reads.

Rendering: markdown-it's CommonMark preset with raw HTML turned off (it is shown as text), then nh3 (Ammonia)
with a small allow-list of tags and only http(s)/mailto links, each marked `rel="noopener noreferrer nofollow"`.
Two layers on purpose: markdown-it refuses `javascript:` links itself, nh3 removes anything else.

The check: textstat's Flesch-Kincaid grade (+5 gives an approximate reading age in years), and the professional
words from `jargon.txt`, a list kept in the repository. It flags; it never blocks.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import nh3
import textstat
from markdown_it import MarkdownIt

from forum.models import WordingReport

JARGON_FILE = Path(__file__).with_name("jargon.txt")
PLAIN_READING_AGE = 12.0
TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "a", "h3", "h4", "hr"}


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def render(body: str) -> str:
    """The post's Markdown as HTML that is safe to insert in a page."""
    html = _markdown().render(body)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(body: str, limit: int = 300) -> str:
    """The words of a post without markup, shortened to `limit` characters: for summaries elsewhere."""
    text = nh3.clean(render(body), tags=set())
    text = re.sub(r"\s+", " ", text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@cache
def jargon_words(path: Path = JARGON_FILE) -> tuple[str, ...]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


@cache
def _jargon_pattern() -> re.Pattern[str]:
    words = sorted(jargon_words(), key=len, reverse=True)
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![\w&])({alternatives})(?![\w&])", re.IGNORECASE)


def check_wording(text: str) -> WordingReport:
    """How easy the text is to read, and which professional words it uses."""
    words = plain_text(text, limit=len(text) + 1) if text.strip() else ""
    grade = float(textstat.flesch_kincaid_grade(words)) if words else 0.0
    grade = max(grade, 0.0)
    reading_age = round(grade + 5, 1)
    found: dict[str, str] = {}
    for match in _jargon_pattern().finditer(words):
        found.setdefault(match.group(1).lower(), match.group(1))
    advice = []
    if reading_age > PLAIN_READING_AGE:
        advice.append(
            f"Reading age about {reading_age:g}: shorter sentences and everyday words make it easier to read."
        )
    if found:
        advice.append("Say what these mean in everyday words: " + ", ".join(found.values()) + ".")
    return WordingReport(
        reading_age=reading_age,
        grade=round(grade, 1),
        jargon=list(found.values()),
        plain=not advice,
        advice=advice,
    )
