"""Every public page of every standard in the repository speaks in words, never in keys (issue 8).

Renders the menu, the standards list, every standard's page, every item's guide and its printable HTML
in Chinese, and fails on any internal key (snake_case or kebab-case), unit key, placeholder ("占位")
or untranslated English sentence in the page's main content.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.utils.translation import override

from fuwu.eligibility.wording import PARAMETER_UNIT_WORDS
from fuwu.guide.guides import item_guide
from fuwu.standards.models import Indicator, Parameter, ServiceItem, Standard
from fuwu.standards.parsing import StandardFileError, parse_standard_text
from fuwu.standards.selectors import items_in_force
from tests.conftest import MINI, REPO

pytestmark = pytest.mark.django_db

URL = re.compile(r"https?://\S+|www\.\S+")
KEY = re.compile(r"\b[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+\b")  # yuan_per_month, age-80-89, special_skill
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[\s,'’]+[A-Za-z]{2,}){2,}")  # three English words in a row
# Words that are the same in both languages: standard codes and the product's name.
ALLOWED = re.compile(r"\b(?:GB|DB|MZ|WS|GB/T|DB\d+/T)\b|fuwu|PDF|API")


def problems_in(html: str, *, units: set[str]) -> list[str]:
    main = html.split("<main", 1)[1].split("</main>", 1)[0] if "<main" in html else html
    main = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", main, flags=re.S)
    text = URL.sub(" ", re.sub(r"<[^>]+>", " ", main))
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    found = [f"key {m!r}" for m in KEY.findall(text)]
    found += [f"unit {u!r}" for u in units if re.search(rf"\b{re.escape(u)}\b", text)]
    found += ["placeholder 占位"] if "占位" in text else []
    found += [f"English {m!r}" for m in ENGLISH.findall(ALLOWED.sub(" ", text))]
    return found


def test_every_public_page_speaks_in_words(client: Client) -> None:
    call_command("standards", "load", str(REPO / "standards"), stdout=StringIO())
    units = set(PARAMETER_UNIT_WORDS) | set(Parameter.objects.values_list("unit", flat=True))
    units |= set(Indicator.objects.exclude(unit="").values_list("unit", flat=True))
    units.discard("")
    urls = ["/", "/standards/"]
    urls += [f"/standards/{key}/" for key in Standard.objects.values_list("key", flat=True)]
    urls += [f"/items/{key}/" for key in ServiceItem.objects.values_list("key", flat=True).distinct()]
    problems: dict[str, list[str]] = {}
    for url in urls:
        response = client.get(url)
        if response.status_code == 404 and url.startswith("/items/"):
            continue  # an item of a version no longer in force
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="zh-Hans"' in html
        if found := problems_in(html, units=units):
            problems[url] = found
    with override("zh-hans"):
        for item in items_in_force():
            html = render_to_string("guide/item_print.html", {"guide": item_guide(item), "font_size": 9})
            if found := problems_in(html, units=units):
                problems[f"/items/{item.key}/guide.pdf"] = found
    assert problems == {}, "\n".join(f"{url}: {', '.join(sorted(set(found)))}" for url, found in problems.items())


def test_the_check_finds_what_it_is_for() -> None:
    """The crawl would catch each kind of wording problem."""
    units = {"yuan_per_month", "percent"}
    assert problems_in("<main><li>special_skill：500 元</li></main>", units=units) == ["key 'special_skill'"]
    assert problems_in("<main>age-80-89</main>", units=units) == ["key 'age-80-89'"]
    assert problems_in("<main>60 yuan_per_month</main>", units=units)[-1] == "unit 'yuan_per_month'"
    assert problems_in("<main>目标 90 percent</main>", units=units) == ["unit 'percent'"]
    assert problems_in("<main>市级基准（占位值）</main>", units=units) == ["placeholder 占位"]
    assert problems_in("<main>fuwu's own model of the standard</main>", units=units)
    assert problems_in("<main>DB3310/T 80—2021 台州 <a href='https://x.example/a_b'>PDF</a></main>", units=units) == []


def test_a_band_name_must_name_a_band_of_the_values() -> None:
    text = MINI.read_text(encoding="utf-8").replace('"90-99": {zh: 90至99周岁', '"90-98": {zh: 90至99周岁')
    with pytest.raises(StandardFileError, match=r"bands \['90-98'\] name no band of the values"):
        parse_standard_text(text, name="mini.yaml")
