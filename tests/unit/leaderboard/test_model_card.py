"""A model card shown as safe HTML: CommonMark without its YAML front matter, no raw HTML, no inline style,
links that pass no ranking or window to the target, headings under the page's own."""

from leaderboard.modelcard import render_model_card

CARD = """---
license: apache-2.0
language: [en, de]
---
# Alpha 1B

Trained on **EuroHPC** with [our recipe](https://example.eu/recipe "the recipe").

| Task | Score |
|-----:|:------|
| arc  | 0.61  |
"""


def test_a_card_renders_as_markdown_without_its_front_matter():
    html = render_model_card(CARD)
    assert "license" not in html and "---" not in html
    assert "<h3>Alpha 1B</h3>" in html and "<strong>EuroHPC</strong>" in html
    assert "<td>0.61</td>" in html and "style" not in html  # aligned columns, but no inline style (the CSP)


def test_links_carry_nofollow_noopener_and_only_web_schemes_survive():
    html = render_model_card("[recipe](https://example.eu/r) [bad](javascript:alert(1)) [data](data:text/html,x)")
    assert '<a href="https://example.eu/r" rel="nofollow noopener noreferrer">recipe</a>' in html
    assert 'href="javascript' not in html and 'href="data' not in html  # left as text


def test_raw_html_and_script_stay_text_and_images_become_links():
    html = render_model_card("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> ![logo](https://e.eu/l.png)")
    assert "<script" not in html and "&lt;script&gt;" in html and "<img" not in html and "onerror=alert" in html
    assert '<a href="https://e.eu/l.png" rel="nofollow noopener noreferrer">logo</a>' in html


def test_a_card_that_is_only_front_matter_renders_empty():
    assert render_model_card("---\nlicense: mit\n---\n").strip() == ""
