"""A crawl of the self-check's pages and the API's words for raw keys, units, placeholders and stray English.

User-facing words are content: units, statuses, reasons and keys reach a page only through a label. This test
answers the self-check as a range of residents, in Chinese and English, and reads every page as a person would.
"""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from fuwu.areas.services import areas_load
from tests.conftest import REPO

pytestmark = pytest.mark.django_db

RESIDENTS: list[dict[str, Any]] = [
    {},
    {
        "age": "82",
        "hukou_county": "331002",
        "residence": "same",
        "low_income_status": "minimum_allowance",
        "care_need": "moderate",
        "household_size": "1",
        "household_income": "6000",
    },
    {
        "age": "8",
        "hukou_county": "331081",
        "residence": "same",
        "school_stage": "primary",
        "boarding": "yes",
        "orphan_status": "orphan",
        "lives_in_village": "yes",
    },
    {
        "age": "45",
        "sex": "female",
        "hukou_county": "331082",
        "residence": "same",
        "employment_status": "unemployed_registered",
        "pension_insurance": "resident",
        "medical_insurance": "resident",
    },
    {
        "age": "35",
        "sex": "male",
        "hukou_county": "331083",
        "residence": "taizhou",
        "veteran_category": "retired_soldier",
        "employment_status": "self_employed",
    },
    {"age": "28", "sex": "female", "hukou_county": "outside", "residence": "taizhou", "fd_groups": ["fd_pregnant"]},
    {
        "age": "70",
        "hukou_county": "331023",
        "residence": "same",
        "disability_grade": "1",
        "disability_kind": "visual",
        "low_income_status": "destitute",
        "lives_alone": "yes",
        "house_grade": "D",
        "lives_in_village": "yes",
    },
]
SNAKE_CASE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
RAW = re.compile(
    r"percent|yuan_per|占位值|placeholder|\bNone\b(?! of)|NULL|param\(|\bTrue\b|\bFalse\b|区划代码|事实词表"
)
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,'’-]+[A-Za-z]{2,}){3,}")


def visible(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", htmllib.unescape(page))


def problems(text: str, *, chinese: bool) -> list[str]:
    found = [f"key {k!r}" for k in SNAKE_CASE.findall(text)]
    found += [f"raw {r!r}" for r in RAW.findall(text)]
    if chinese:
        found += [f"English {e!r}" for e in ENGLISH_SENTENCE.findall(text)]
    return found


@pytest.fixture
def site(db: None) -> None:
    areas_load(path=REPO / "data" / "areas" / "taizhou.yaml", villages_per_township=0)
    call_command("standards", "load", str(REPO / "standards"))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_self_check_pages_speak_in_words(client: Client, site: None, language: str) -> None:
    client.post("/i18n/setlang/", {"language": language, "next": "/check/"})
    pages = [client.get("/check/").content.decode()]
    for answers in RESIDENTS:
        pages.append(client.post("/check/", {**answers, "step": "1", "next": "1"}).content.decode())
        pages.append(client.post("/check/", answers).content.decode())
        pages.append(client.post("/check/", {**answers, "print": "1"}).content.decode())
    found = {p for page in pages for p in problems(visible(page), chinese=language == "zh-hans")}
    assert sorted(found) == []


def test_the_api_says_its_answers_in_words_too(client: Client, site: None) -> None:
    for answers in RESIDENTS[1:]:
        facts = {"birth_date": "1950-01-01", "hukou_area": "331002001901", "residence_area": "331002001901"}
        facts.update({k: v for k, v in answers.items() if k in {"low_income_status", "care_need", "employment_status"}})
        response = client.post("/api/v1/eligibility", {"facts": facts}, content_type="application/json")
        assert response.status_code == 200
        for result in response.json()["results"]:
            texts = [result["level_text"], result["implements_text"], *result["missing_text"]]
            texts += [c["source"] for c in result["criteria"]] + [c["text"] for c in result["criteria"]]
            for text in filter(None, texts):
                assert problems(text["zh"], chinese=True) == [], (result["item"], text)
                assert problems(text["en"], chinese=False) == [], (result["item"], text)
