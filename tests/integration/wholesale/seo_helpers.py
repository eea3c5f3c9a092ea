"""Reading what search engines read: the <head> of a page, the URLs of a sitemap."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from xml.etree import ElementTree

SITEMAP_NS = {
    "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "x": "http://www.w3.org/1999/xhtml",
}


@dataclass
class Head:
    title: str = ""
    meta: dict[str, list[str]] = field(default_factory=dict)
    canonical: list[str] = field(default_factory=list)
    alternates: dict[str, str] = field(default_factory=dict)
    alternate_count: int = 0

    def one(self, key: str) -> str:
        values = self.meta.get(key, [])
        assert len(values) == 1, (key, values)
        return values[0]


class _HeadParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.head = Head()
        self._in_title = False
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "head":
            self._in_head = True
        elif not self._in_head:
            return
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            key = attrs.get("name") or attrs.get("property")
            if key:
                self.head.meta.setdefault(key, []).append(attrs.get("content", ""))
        elif tag == "link" and attrs.get("rel") == "canonical":
            self.head.canonical.append(attrs["href"])
        elif tag == "link" and attrs.get("rel") == "alternate" and "hreflang" in attrs:
            self.head.alternates[attrs["hreflang"]] = attrs["href"]
            self.head.alternate_count += 1

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self._in_head = False

    def handle_data(self, data):
        if self._in_title:
            self.head.title += data


def head_of(response) -> Head:
    assert response.status_code == 200, response.status_code
    parser = _HeadParser()
    parser.feed(response.content.decode())
    parser.head.title = re.sub(r"\s+", " ", parser.head.title).strip()
    return parser.head


def sitemap_urls(response) -> dict[str, dict]:
    """{location: {"lastmod": ..., "alternates": {hreflang: href}}} of a sitemap page."""
    assert response.status_code == 200, response.status_code
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own response
    urls = {}
    for url in root.findall("s:url", SITEMAP_NS):
        location = url.findtext("s:loc", namespaces=SITEMAP_NS)
        assert location not in urls, f"listed twice: {location}"
        urls[location] = {
            "lastmod": url.findtext("s:lastmod", namespaces=SITEMAP_NS),
            "alternates": {
                link.get("hreflang"): link.get("href") for link in url.findall("x:link", SITEMAP_NS)
            },
        }
    return urls


def sitemap_index_locations(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own response
    return [node.text for node in root.findall("s:sitemap/s:loc", SITEMAP_NS)]
