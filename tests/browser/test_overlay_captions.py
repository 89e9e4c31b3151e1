"""The captions overlay (GET /overlay) in a real Chromium: a real espeak-ng clip plays in
real time, and the page shows who and what, highlights the words in order as the clip
goes, and hides when it ends; a token, custom CSS and URL options work as documented."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from captions_support import (
    PAGE_TIMEOUT_MS,
    SPOKEN,
    captions_stack,
    first_seen,
    highlighted,
    open_overlay,
    samples_of_one_clip,
)

from tts_core.engines.espeak import EspeakEngine

DOCS_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "img" / "overlay.png"
WRITE_DOCS_IMAGES = "OBS_TTS_WRITE_DOCS_IMAGES"  # =1: the screenshot test also updates docs/img


def test_the_overlay_highlights_the_words_in_order_while_the_clip_plays_then_hides(make_manager, page):
    with captions_stack(make_manager, EspeakEngine()) as stack:
        open_overlay(page, stack)
        assert page.locator(".tts-caption").is_hidden()  # nothing plays: nothing shown
        message_id = stack.speak()
        started = stack.event("playback_started", message_id)
        samples = samples_of_one_clip(page)
        stack.event("playback_finished", message_id)

    assert started["word_timing"] == "estimate" and started["duration_ms"] > 1500
    assert [w["text"] for w in started["words"]] == SPOKEN.split()
    assert all(s["shown"] == SPOKEN.split() for s in samples)  # the whole text, as spoken
    order = highlighted(samples)
    assert order == sorted(order), f"the highlight went backwards: {order}"
    seen = first_seen(samples)
    assert len(seen) >= 5 and max(seen) == len(SPOKEN.split()) - 1, seen
    # In time with the clip: from the first to the last word takes about as long as the clip says.
    words = started["words"]
    expected = words[max(seen)]["start_ms"] - words[min(seen)]["start_ms"]
    assert seen[max(seen)] - seen[min(seen)] > expected * 0.6, (seen, words)
    assert page.locator(".tts-who").text_content() == ""  # cleared with the caption


def test_a_skipped_clip_hides_the_caption_at_once(make_manager, page):
    with captions_stack(make_manager, EspeakEngine()) as stack:
        open_overlay(page, stack)
        message_id = stack.speak(" ".join([SPOKEN] * 3))  # about 10 s
        started = stack.event("playback_started", message_id)
        page.wait_for_function("() => Number(document.querySelector('.tts-caption').dataset.current) >= 1",
                               timeout=PAGE_TIMEOUT_MS)
        stack.request("Skip")
        stack.event("skipped", message_id)
        samples = samples_of_one_clip(page)
    shown_ms = samples[-1]["t"] - samples[0]["t"]
    assert shown_ms < started["duration_ms"] / 2, (shown_ms, started["duration_ms"])


def test_back_to_back_clips_each_get_their_own_caption_in_order(make_manager, page):
    with captions_stack(make_manager, EspeakEngine()) as stack:
        open_overlay(page, stack)
        first = stack.speak("red orange yellow green", username="Alice")
        second = stack.speak("blue indigo violet white", username="Bob")
        stack.event("playback_finished", second)
        page.wait_for_function("() => window.samples.some(s => s.shown[0] === 'blue')"
                               " && document.querySelector('.tts-caption').hidden", timeout=PAGE_TIMEOUT_MS)
        samples = [s for s in page.evaluate("window.samples") if not s["hidden"]]
        assert stack.event("playback_started", first)["ts"] < stack.event("playback_started", second)["ts"]
    shown = [s["shown"][0] for s in samples]
    assert shown[0] == "red" and shown[-1] == "blue" and shown == sorted(shown, key=["red", "blue"].index)
    for word in ("red", "blue"):  # within each clip the highlight only moves forwards
        order = [s["index"] for s in samples if s["shown"][0] == word and s["index"] is not None]
        assert order == sorted(order) and len(set(order)) >= 2, order


def test_the_overlay_shows_who_is_read(make_manager, page):
    with captions_stack(make_manager, EspeakEngine()) as stack:
        open_overlay(page, stack)
        stack.speak("hello there", username="Alice")
        page.locator(".tts-who").filter(has_text="Alice").wait_for(timeout=PAGE_TIMEOUT_MS)
        assert page.locator(".tts-caption").is_visible()
        samples_of_one_clip(page)


def test_the_overlay_with_a_token_authenticates_and_without_it_shows_nothing(make_manager, page, browser):
    with captions_stack(make_manager, EspeakEngine(), token="s3cret-overlay") as stack:
        open_overlay(page, stack, "?token=s3cret-overlay")
        stranger = browser.new_context().new_page()
        try:
            stranger.goto(f"{stack.http}/overlay")
            stranger.wait_for_function("() => document.documentElement.dataset.captions === 'refused'",
                                       timeout=PAGE_TIMEOUT_MS)
            stranger.evaluate("() => { window.shown = false; setInterval(() => { if (!document"
                              ".querySelector('.tts-caption').hidden) window.shown = true; }, 10); }")
            message_id = stack.speak("one two three four", token="s3cret-overlay")
            assert len(highlighted(samples_of_one_clip(page))) > 0
            stack.event("playback_finished", message_id)
            assert stranger.evaluate("window.shown") is False
        finally:
            stranger.context.close()


def test_custom_css_restyles_the_documented_classes(make_manager, page):
    with captions_stack(make_manager, EspeakEngine()) as stack:
        open_overlay(page, stack)
        # What OBS's Browser Source does with its "Custom CSS" box: a style element in the page.
        page.add_style_tag(content=".tts-caption { background: rgb(0, 0, 255); }"
                                   ".tts-word.current { color: rgb(255, 0, 0); }"
                                   ".tts-word.spoken { color: rgb(0, 128, 0); }"
                                   ".tts-who { color: rgb(255, 0, 255); }")
        stack.speak()
        # The styles, read at a moment when a word is being spoken and one has been.
        styles = page.wait_for_function("""() => {
            const look = (selector) => document.querySelector(selector);
            if (!look('.tts-word.spoken') || !look('.tts-word.current')) return null;
            const style = (selector) => getComputedStyle(look(selector));
            return {box: style('.tts-caption').backgroundColor, who: style('.tts-who').color,
                    spoken: style('.tts-word.spoken').color, current: style('.tts-word.current').color};
        }""", timeout=PAGE_TIMEOUT_MS).json_value()
        samples_of_one_clip(page)
    assert styles["box"] == "rgb(0, 0, 255)" and styles["who"] == "rgb(255, 0, 255)"
    assert styles["spoken"] == "rgb(0, 128, 0)" and styles["current"] == "rgb(255, 0, 0)"


def test_url_options_set_the_font_size_and_the_words_shown_at_once(make_manager, page):
    with captions_stack(make_manager, EspeakEngine()) as stack:
        open_overlay(page, stack, "?font_size=64&words=3&who=0")
        message_id = stack.speak()
        samples = samples_of_one_clip(page)
        stack.event("playback_finished", message_id)
        font_size = page.evaluate("getComputedStyle(document.querySelector('.tts-caption')).fontSize")
    assert font_size == "64px"
    words = SPOKEN.split()
    pages = {tuple(s["shown"]) for s in samples}
    assert all(len(shown) <= 3 for shown in pages)
    assert {tuple(words[0:3]), tuple(words[3:6])} <= pages  # it turns the page as the voice goes on
    for s in samples:  # the highlighted word is always on the page shown
        if s["index"] is not None:
            assert s["text"] in s["shown"] and s["index"] // 3 == words.index(s["shown"][0]) // 3


def test_a_screenshot_of_the_overlay_during_playback(make_manager, page, tmp_path):
    """Also makes docs/img/overlay.png, when OBS_TTS_WRITE_DOCS_IMAGES=1 (not on every run)."""
    page.set_viewport_size({"width": 960, "height": 300})
    with captions_stack(make_manager, EspeakEngine()) as stack:
        open_overlay(page, stack, "?hide_after_ms=4000")  # visible for the picture, even on a slow machine
        # A dark scene behind the transparent page, as in OBS, so the picture shows something.
        page.add_style_tag(content="html { height: 100%; "
                                   "background: linear-gradient(135deg, #263145, #3b2a4d); }")
        message_id = stack.speak("Thanks for the raid, everyone! Welcome to the stream.",
                                 username="StreamFan42")
        page.wait_for_function("() => Number(document.querySelector('.tts-caption').dataset.current) >= 3",
                               timeout=PAGE_TIMEOUT_MS)
        shot = tmp_path / "overlay.png"
        page.screenshot(path=str(shot))
        assert page.locator(".tts-caption").is_visible()  # it was in the picture
        finished = stack.event("playback_finished", message_id)
        samples = samples_of_one_clip(page)
        # hide_after_ms: shown for 4 s after the end, then gone.
        assert samples[-1]["t"] - samples[0]["t"] > finished["duration_ms"] + 3000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
    if os.environ.get(WRITE_DOCS_IMAGES) == "1":
        shutil.copyfile(shot, DOCS_IMAGE)
