"""A model card (the submission's README.md) as HTML a public page may show.

markdown-it-py parses CommonMark (with GitHub's tables and strikethrough, as the Hub shows cards) with raw
HTML turned off, so `<script>` in a card stays text; nh3 (the Rust sanitiser ammonia) then keeps only an
allow-list of tags and attributes and web links, whatever the parser let through. Inline styles go too (the
pages' CSP forbids them: markdown-it writes table alignment as `style`), links get rel="nofollow noopener
noreferrer" (a card is the entrant's text: no ranking for its links, no window handle for their targets),
and images become links, since the CSP loads no image from another site. The YAML front matter is the Hub's
metadata, not prose: it is cut as the Hub cuts it. Headings move two levels down, under the page's "Model
card" heading.
"""

from __future__ import annotations

import nh3
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

TAGS = {
    "p",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "a",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "s",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"


def _parser() -> MarkdownIt:
    parser = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    parser.add_render_rule("image", _image_as_link)
    return parser


def _image_as_link(self, tokens: list[Token], index: int, options, env) -> str:
    """An image as a link to it, named by its alt text (the CSP would block the image itself)."""
    token = tokens[index]
    source = str(token.attrGet("src") or "")
    alt = self.renderInline(token.children or [], options, env) or escapeHtml(source)
    return f'<a href="{escapeHtml(source)}">{alt}</a>'


PARSER = _parser()


def without_front_matter(text: str) -> str:
    """The card's text after its YAML front matter (as the Hub finds it), or all of it when there is none."""
    match = REGEX_YAML_BLOCK.search(text)
    return text[match.end() :] if match else text


def render_model_card(text: str) -> str:
    """Safe HTML for a card's markdown: see the module's docstring for what is kept."""
    tokens = PARSER.parse(without_front_matter(text))
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
    html = PARSER.renderer.render(tokens, PARSER.options, {})
    return nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES, link_rel=LINK_REL, strip_comments=True
    )
