"""The dashboard in Chromium, against a real queue (espeak-ng -> wav-dir timeline): log in,
approve and reject held messages, skip, remove, search history, block a viewer."""

from __future__ import annotations

from dashboard_support import DEADLINE_MS, log_in, row, stage
from doubles import wait_until
from playwright.sync_api import expect

LONG = ("This message is long enough to keep playing for several seconds, so that the "
        "moderator has time to press the skip button while it is still being read aloud.")


def test_log_in_then_approve_plays_and_reject_never_plays(page, tmp_path):
    with stage(tmp_path) as where:
        page.goto(where.url)
        expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=DEADLINE_MS)
        expect(page.locator("#main")).to_be_hidden()
        log_in(page, where)
        assert where.token not in page.url, "the token never goes into the URL"
        assert page.evaluate("sessionStorage.getItem('obs-tts-token')") == where.token

        held = where.send({"type": "donation", "donor_name": "Ann", "amount": 5, "message": "approve me",
                           "needs_approval": True})
        assert held["state"] == "held"
        waiting = row(page, "held", held["message_id"])
        expect(waiting).to_contain_text("approve me", timeout=DEADLINE_MS)
        expect(waiting).to_contain_text("needs_approval")
        assert where.played(held["message_id"]) is None, "held: not played before approval"

        waiting.get_by_role("button", name="Approve").click()
        played = where.wait_played(held["message_id"])
        assert "approve me" in played["text"]
        expect(row(page, "history", held["message_id"])).to_contain_text("played", timeout=DEADLINE_MS)
        expect(waiting).to_have_count(0)

        other = where.send({"type": "donation", "donor_name": "Bob", "amount": 5, "message": "reject me",
                            "needs_approval": True})
        refused = row(page, "held", other["message_id"])
        refused.get_by_role("button", name="Reject").click(timeout=DEADLINE_MS)
        expect(row(page, "history", other["message_id"])).to_contain_text("rejected", timeout=DEADLINE_MS)
        expect(refused).to_have_count(0)
        after = where.send({"type": "tts", "text": "after the rejected one"})
        where.wait_played(after["message_id"])
        assert where.manager.wait_until_idle(30)
        assert where.played(other["message_id"]) is None, "a rejected message never plays"


def test_skip_the_playing_clip_and_remove_a_queued_one(page, tmp_path):
    with stage(tmp_path) as where:
        log_in(page, where)
        long = where.send({"type": "tts", "text": LONG, "username": "Cleo"})
        expect(page.locator("#now-playing")).to_have_attribute("data-message-id", long["message_id"],
                                                               timeout=DEADLINE_MS)
        expect(page.locator("#now-text")).to_have_text(LONG)
        kept = where.send({"type": "tts", "text": "kept in the queue", "username": "Dan"})
        removed = where.send({"type": "tts", "text": "removed from the queue", "username": "Eve"})
        gone = row(page, "queue", removed["message_id"])
        expect(row(page, "queue", kept["message_id"])).to_be_visible(timeout=DEADLINE_MS)
        gone.get_by_role("button", name="Remove").click(timeout=DEADLINE_MS)
        expect(gone).to_have_count(0, timeout=DEADLINE_MS)
        expect(row(page, "history", removed["message_id"])).to_contain_text("dropped", timeout=DEADLINE_MS)

        assert where.manager.now_playing is not None, "the long clip still plays"
        page.get_by_role("button", name="Skip").click()
        first = where.wait_played(long["message_id"])
        assert first["skipped"] is True
        where.wait_played(kept["message_id"])
        assert where.manager.wait_until_idle(30)
        assert where.played(removed["message_id"]) is None, "a removed message never plays"
        expect(row(page, "history", long["message_id"])).to_contain_text("skipped", timeout=DEADLINE_MS)


def test_search_history_and_block_a_viewer(page, tmp_path):
    with stage(tmp_path, speed=0.0) as where:
        sent = {name: where.send({"type": "tts", "text": text, "username": name})
                for name, text in (("Fay", "fay speaks first"), ("Gus", "gus likes trains"),
                                   ("Hal", "hal likes boats"))}
        for reply in sent.values():
            where.wait_played(reply["message_id"])
        log_in(page, where)  # opened afterwards: GetHistory brings what already ended
        history = page.locator("#history > li")
        expect(history).to_have_count(3, timeout=DEADLINE_MS)

        page.get_by_label("Search by viewer or text").fill("likes")
        expect(history).to_have_count(2)
        page.get_by_label("Search by viewer or text").fill("GUS")
        expect(history).to_have_count(1)
        expect(history).to_contain_text("gus likes trains")

        history.get_by_role("button", name="Block viewer").click()
        expect(page.locator("#action-result")).to_contain_text("Blocked Gus for 600 s", timeout=DEADLINE_MS)
        again = where.send({"type": "tts", "text": "gus is back", "username": "Gus"})
        assert again["status"] == "rejected" and again["reason"] == "blocked_user", again
        refused = row(page, "history", again["message_id"])
        expect(refused).to_contain_text("rejected", timeout=DEADLINE_MS)
        expect(refused).to_contain_text("reason: blocked_user")
        # what Gus sent, not the template the queue would have spoken
        expect(refused.locator(".text")).to_have_text("sent gus is back")
        fine = where.send({"type": "tts", "text": "hal is not blocked", "username": "Hal"})
        assert fine["status"] == "ok"
        where.wait_played(fine["message_id"])

        page.get_by_label("Search by viewer or text").fill("fay")
        history.get_by_role("button", name="Replay").click()
        assert wait_until(lambda: [r["text"] for r in where.timeline()].count("fay speaks first") == 2, 30), \
            "Replay plays the clip again"


def test_history_rows_show_the_viewers_words_what_was_said_and_why(page, tmp_path):
    """Played: what was said, and what the viewer sent when filters changed it; dropped:
    what would have been said; rejected: what the viewer sent; each with its reason."""
    with stage(tmp_path, paused=True, speed=0.0) as where:
        log_in(page, where)
        donation = where.send({"type": "donation", "donor_name": "Ann", "amount": 5,
                               "message": "see http://spam.example now"})
        removed = where.send({"type": "tts", "text": "removed from the queue", "username": "Eve"})
        waiting = row(page, "queue", removed["message_id"])
        waiting.get_by_role("button", name="Remove").click(timeout=DEADLINE_MS)
        dropped = row(page, "history", removed["message_id"])
        expect(dropped.locator(".text").first).to_have_text("would have said removed from the queue",
                                                            timeout=DEADLINE_MS)
        expect(dropped).to_contain_text("reason: ")

        assert where.send({"request": "Disable"})["status"] == "ok"
        off = where.send({"type": "chat", "message": "!tts hello while off", "username": "Ivy"})
        refused = row(page, "history", off["message_id"])
        expect(refused).to_contain_text("rejected", timeout=DEADLINE_MS)
        expect(refused.locator(".text")).to_have_text("sent hello while off")
        expect(refused).to_contain_text("reason: ")
        assert where.send({"request": "Enable"})["status"] == "ok"

        assert where.send({"request": "Resume"})["status"] == "ok"
        said = where.wait_played(donation["message_id"])["text"]
        played = row(page, "history", donation["message_id"])
        expect(played).to_contain_text("played", timeout=DEADLINE_MS)
        lines = played.locator(".text")
        expect(lines).to_have_count(2)
        expect(lines.nth(0)).to_have_text(f"said {said}")
        expect(lines.nth(1)).to_have_text("sent see http://spam.example now")
        page.get_by_label("Search by viewer or text").fill("spam.example")
        expect(page.locator("#history > li")).to_have_count(1)


def test_test_message_form_pause_resume_and_keyboard_only(page, tmp_path):
    with stage(tmp_path, speed=0.0) as where:
        log_in(page, where)
        page.get_by_role("button", name="Pause").click()
        expect(page.get_by_role("button", name="Resume")).to_be_visible(timeout=DEADLINE_MS)
        assert wait_until(lambda: where.manager.paused, 10)

        page.get_by_label("Text", exact=True).fill("typed by the moderator")
        page.get_by_label("Priority").select_option("HIGH")
        page.get_by_label("Voice (empty: the default)").focus()
        page.keyboard.press("Tab")  # to "Send test message"
        assert page.evaluate("document.activeElement.textContent") == "Send test message"
        page.keyboard.press("Enter")
        expect(page.locator("#queue > li", has_text="typed by the moderator")).to_contain_text(
            "HIGH", timeout=DEADLINE_MS)

        page.get_by_role("button", name="Disable").click()
        expect(page.get_by_role("button", name="Enable")).to_be_visible(timeout=DEADLINE_MS)
        assert not where.manager.enabled
        page.get_by_role("button", name="Enable").click()
        expect(page.get_by_role("button", name="Disable")).to_be_visible(timeout=DEADLINE_MS)
        assert where.manager.enabled

        resume = page.get_by_role("button", name="Resume")
        resume.focus()
        page.keyboard.press("Space")
        expect(page.get_by_role("button", name="Pause")).to_be_visible(timeout=DEADLINE_MS)
        assert wait_until(lambda: any(r["text"] == "typed by the moderator" for r in where.timeline()), 30)


def test_viewer_text_is_shown_as_text(page, tmp_path):
    with stage(tmp_path, paused=True) as where:
        log_in(page, where)
        sent = where.send({"type": "tts", "text": "<b>bold</b> <img src=x onerror=alert(1)>",
                           "username": "<i>Mallory</i>"})
        assert "<b>" in sent["text"], sent
        shown = row(page, "queue", sent["message_id"])
        expect(shown.locator(".text")).to_have_text(sent["text"], timeout=DEADLINE_MS)
        expect(shown).to_contain_text("<i>Mallory</i>")
        assert shown.locator("img, b, i").count() == 0
        assert page.title() == "TTS dashboard"


def test_a_wrong_token_is_refused_and_the_right_one_is_kept_for_the_tab(page, tmp_path):
    with stage(tmp_path, speed=0.0) as where:
        page.goto(where.url)
        page.get_by_label("Token").fill("not-the-token")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#login-error")).to_have_text("wrong token", timeout=DEADLINE_MS)
        expect(page.locator("#main")).to_be_hidden()
        assert page.evaluate("sessionStorage.getItem('obs-tts-token')") is None, "a wrong token is not kept"
        log_in(page, where)
        page.reload()  # same tab: no form again
        page.locator("#connection", has_text="Live").wait_for(timeout=DEADLINE_MS)
        expect(page.locator("#login")).to_be_hidden()
        assert where.token not in page.url
