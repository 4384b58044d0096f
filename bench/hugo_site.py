"""A Hugo site made of a benchmark corpus, so Hugo's cold build can be timed beside ours.

Each record becomes a content file with the record's own front matter (Hugo reads YAML
front matter), `topics` a taxonomy whose every term gets a page and an RSS feed of its
newest 50 entries, as a topic does here. Hugo also writes a small page per record: it
puts no page into a taxonomy whose own page it does not render. `published: false`
becomes `draft: true`: Hugo reads a `published` key as a date.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

CONFIG = """\
baseURL = "https://bench.example/"
title = "Bench Daily"
disableKinds = ["sitemap", "robotsTXT", "404", "taxonomy"]

[taxonomies]
  topic = "topics"

[frontmatter]
  date = ["publishedDateTime", ":default"]

[outputs]
  home = ["rss"]
  section = []
  term = ["html", "rss"]

[services.rss]
  limit = 50

"""

TERM_LAYOUT = """\
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><h1>{{ .Title }}</h1><ul>
{{ range first 50 .Pages }}
<li><a href="{{ .Params.webUrl }}">{{ .Title }}</a> {{ .Date.Format "2 Jan 2006" }}</li>
{{ end }}</ul></body></html>
"""

PAGE_LAYOUT = """\
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><h1>{{ .Title }}</h1><p>{{ .Params.excerpt }}</p></body></html>
"""

_PUBLISHED = re.compile(r"^published: (true|false)$", re.M)


def _draft(found: re.Match[str]) -> str:
    return f"draft: {'false' if found.group(1) == 'true' else 'true'}"


def write_hugo_site(site: Path, records: Path) -> Path:
    """Write (or write again) the Hugo site for the record files in `records`."""
    content = site / "content" / "records"
    shutil.rmtree(site / "content", ignore_errors=True)
    content.mkdir(parents=True)
    (site / "hugo.toml").write_text(CONFIG, encoding="utf-8")
    for folder in ("layouts", "layouts/_default"):
        (site / folder).mkdir(parents=True, exist_ok=True)
        (site / folder / "term.html").write_text(TERM_LAYOUT, encoding="utf-8")
        (site / folder / "single.html").write_text(PAGE_LAYOUT, encoding="utf-8")
    for path in records.iterdir():
        text = path.read_text(encoding="utf-8")
        text = _PUBLISHED.sub(_draft, text, count=1)
        (content / f"{path.stem}.md").write_text(text, encoding="utf-8")
    return site
