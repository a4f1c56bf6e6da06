"""The demo page and the span converters: displaCy and Gradio formats on hand-written results, and the page
driven in Debian's headless chromium against the service running the planted model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import ROOT

from erniem.serve.render import to_displacy, to_gradio

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOT = ROOT / "artifacts" / "screenshots" / "serve-demo.png"

#           0         1         2         3         4
#           0123456789012345678901234567890123456789012
SENTENCE = "Ada Lovelace met Charles Babbage in London."
RESULT = {  # one Taskflow result, written by hand for SENTENCE
    "person": [
        {
            "text": "Ada Lovelace", "start": 0, "end": 12, "probability": 0.9,
            "relations": {
                "met": [{"text": "Charles Babbage", "start": 17, "end": 32, "probability": 0.8}],
                "place": [{"text": "London", "start": 36, "end": 42, "probability": 0.7}],
            },
        },
        {"text": "Charles Babbage", "start": 17, "end": 32, "probability": 0.95},
    ],
    "surname": [{"text": "Lovelace", "start": 4, "end": 12, "probability": 0.6}],  # inside "Ada Lovelace"
    "sentiment[positive,negative]": [{"text": "positive", "probability": 0.7}],  # classification: no offsets
}  # fmt: skip


def test_displacy_walks_relations_and_skips_classifications():
    assert to_displacy(SENTENCE, RESULT) == {
        "text": SENTENCE,
        "ents": [
            {"start": 0, "end": 12, "label": "person"},
            {"start": 4, "end": 12, "label": "surname"},
            {"start": 17, "end": 32, "label": "met"},
            {"start": 17, "end": 32, "label": "person"},
            {"start": 36, "end": 42, "label": "place"},
        ],
    }


def test_gradio_walks_relations_and_skips_classifications():
    assert to_gradio(SENTENCE, RESULT) == {
        "text": SENTENCE,
        "entities": [
            {"entity": "person", "start": 0, "end": 12},
            {"entity": "surname", "start": 4, "end": 12},
            {"entity": "met", "start": 17, "end": 32},
            {"entity": "person", "start": 17, "end": 32},
            {"entity": "place", "start": 36, "end": 42},
        ],
    }


def test_crossing_spans_sort_by_start_then_longest_first():
    text = "New York City"
    result = {
        "city": [{"text": "York City", "start": 4, "end": 13, "probability": 0.5}],
        "state": [{"text": "New York", "start": 0, "end": 8, "probability": 0.5}],
        "place": [{"text": "New York City", "start": 0, "end": 13, "probability": 0.5}],
    }
    assert to_displacy(text, result)["ents"] == [
        {"start": 0, "end": 13, "label": "place"},
        {"start": 0, "end": 8, "label": "state"},
        {"start": 4, "end": 13, "label": "city"},
    ]


def test_a_span_found_under_two_subjects_is_listed_once():
    text = "Ann and Bob know Cy."
    known = [{"text": "Cy", "start": 17, "end": 19, "probability": 0.8}]
    result = {
        "person": [
            {"text": "Ann", "start": 0, "end": 3, "probability": 0.9, "relations": {"knows": known}},
            {"text": "Bob", "start": 8, "end": 11, "probability": 0.9, "relations": {"knows": known}},
        ]
    }
    assert to_gradio(text, result)["entities"] == [
        {"entity": "person", "start": 0, "end": 3},
        {"entity": "person", "start": 8, "end": 11},
        {"entity": "knows", "start": 17, "end": 19},
    ]


def test_an_empty_result_has_no_spans():
    assert to_displacy("nothing", {}) == {"text": "nothing", "ents": []}
    assert to_gradio("nothing", {"person": []}) == {"text": "nothing", "entities": []}


# ---- the page in a browser ----

TEXT = "Yesterday Zorbulax met Zorbulax's friend."
SCHEMA = [{"person": ["friend"]}]


@pytest.fixture(scope="module")
def service(tokenizer, tmp_path_factory) -> Iterator[str]:
    """The base URL of the service running the planted model (it finds "Zorbulax"), once it is healthy."""
    pytest.importorskip("fastapi")
    import httpx
    from tests.serving import planted_directory, running

    from erniem.serve.app import Limits, create_app
    from erniem.serve.models import ServedModel

    model_dir = planted_directory(tokenizer, tmp_path_factory.mktemp("planted"))
    app = create_app(ServedModel(model_dir, "extract", ["person"], "en"), Limits())
    with running(app) as url:
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/health").status_code != 200:
            assert time.monotonic() < deadline, "the service did not become healthy in 60 s"
            time.sleep(0.05)
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, service):
    """The demo page, loaded, its editor filled from `GET /info`."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(service)
    page.wait_for_selector("body[data-ready]")
    yield page
    page.close()


def test_page_marks_what_the_api_finds(service, page):
    import httpx

    answer = httpx.post(f"{service}/v1/extract", json={"texts": [TEXT], "schema": SCHEMA, "schema_lang": "en"})
    assert answer.status_code == 200, answer.text
    result = answer.json()["results"][0]
    first = TEXT.index("Zorbulax")
    second = TEXT.index("Zorbulax", first + 1)
    spans = {(ent["start"], ent["end"], ent["label"]) for ent in to_displacy(TEXT, result)["ents"]}
    assert spans == {(first, first + 8, label) for label in ("person", "friend")} | {
        (second, second + 8, label) for label in ("person", "friend")
    }

    assert page.input_value("#lang") == "en"  # the start-up schema and language, from GET /info
    assert page.locator("#schema input.schema-name").evaluate_all("inputs => inputs.map(i => i.value)") == ["person"]
    page.fill("#text", TEXT)
    page.click("#schema li.schema-row button.add-child")
    page.locator("#schema li.schema-row ul.children input.schema-name").fill("friend")
    assert page.text_content("#schema-json") == '[{"person":["friend"]}]'
    page.click("#run")
    page.wait_for_selector("#output mark")

    marks = page.locator("#output mark").evaluate_all(
        """marks => marks.map(m => ({text: m.textContent, label: m.dataset.label, start: +m.dataset.start,
                                     end: +m.dataset.end, title: m.title,
                                     shown: getComputedStyle(m, "::after").content}))"""
    )
    assert len(marks) == len(spans)  # overlapping spans: one mark each
    assert {(mark["start"], mark["end"], mark["label"]) for mark in marks} == spans
    probability = {item["probability"] for item in _items(result)}
    assert len(probability) == 1  # the planted model is as sure of every "Zorbulax"
    probability = probability.pop()
    for mark in marks:
        assert mark["text"] == TEXT[mark["start"] : mark["end"]] == "Zorbulax"
        assert mark["shown"] == f'"{mark["label"]} {probability:.2f}"'  # the label drawn above the mark
        assert mark["title"].startswith(f"{mark['label']} · probability {probability}")
    assert page.locator("#output .layer").count() == 2  # "person" and "friend" marks overlap

    rows = page.locator("#relations tbody tr").evaluate_all(
        """rows => rows.map(r => Array.from(r.cells, c => Array.from(c.childNodes)
                                .filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join("")))"""
    )  # each cell's own text, without its offsets or colour swatch
    relations = [
        [subject["text"], predicate, item["text"], f"{item['probability']:.3f}"]
        for subject in result["person"]
        for predicate, items in subject["relations"].items()
        for item in items
    ]
    assert sorted(rows) == sorted(relations)
    assert page.text_content("#error") == ""

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 0
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _items(result: dict) -> Iterator[dict]:
    for items in result.values():
        for item in items:
            yield item
            yield from _items(item.get("relations", {}))


def test_page_shows_the_service_error(page):
    page.fill("#text", TEXT)
    page.click("#add-root")  # a second entity type, its name left empty
    page.click("#run")
    page.wait_for_selector("#error:not(:empty)")
    message = page.text_content("#error")
    assert "schema[1]: a schema name cannot be empty" in message
    assert "422" in message
    assert page.locator("#output mark").count() == 0
