"""Word timings for the captions: the engine's word boundaries placed on the text as spoken,
an estimate by word length otherwise, and the clip cache keeping them."""

from __future__ import annotations

from tts_core.domain.audio import Clip, silent_wav
from tts_core.domain.words import SpokenWord, TimedAudio, caption_words, from_ticks
from tts_core.engines.cache import ClipCache


def times(words: list[dict]) -> list[tuple[str, int, int]]:
    return [(w["text"], w["start_ms"], w["end_ms"]) for w in words]


def test_engine_words_land_on_the_words_of_the_text_with_their_punctuation():
    spoken = (SpokenWord("Hello", 50, 350), SpokenWord("there", 400, 700), SpokenWord("friend", 900, 1300))
    words, timing = caption_words("Hello there, my - friend!", 1500, spoken)
    assert timing == "engine"
    # "my" and "-" were not reported: they share the time between "there," and "friend!".
    assert times(words) == [("Hello", 50, 350), ("there,", 400, 700), ("my", 700, 800), ("-", 800, 900),
                            ("friend!", 900, 1300)]


def test_words_the_engine_said_differently_take_the_time_before_the_next_one():
    spoken = (SpokenWord("five", 0, 200), SpokenWord("dollars", 200, 500), SpokenWord("from", 600, 800),
              SpokenWord("Bob", 850, 1100))
    words, timing = caption_words("$5 from Bob", 1200, spoken)
    assert timing == "engine" and times(words) == [("$5", 0, 600), ("from", 600, 800), ("Bob", 850, 1100)]


def test_escaped_words_and_case_still_match_and_times_never_pass_the_clip():
    spoken = (SpokenWord("ROCK", 0, 300), SpokenWord("&amp;", 300, 400), SpokenWord("roll", 400, 5000))
    words, _ = caption_words("rock & roll", 1000, spoken)
    assert times(words) == [("rock", 0, 300), ("&", 300, 400), ("roll", 400, 1000)]


def test_times_never_go_backwards_even_if_the_engine_says_so():
    spoken = (SpokenWord("a", 500, 600), SpokenWord("b", 100, 200), SpokenWord("c", 700, 800))
    words, _ = caption_words("a b c", 1000, spoken)
    starts = [w["start_ms"] for w in words]
    assert starts == sorted(starts) and all(w["end_ms"] >= w["start_ms"] for w in words)


def test_no_engine_words_or_none_found_is_an_even_estimate_by_length():
    words, timing = caption_words("hi everybody", 1400)
    # By length + 1: 3 to 10.
    assert timing == "estimate" and times(words) == [("hi", 0, 323), ("everybody", 323, 1400)]
    assert caption_words("hi everybody", 1400, (SpokenWord("zzz", 0, 10),))[1] == "estimate"
    assert caption_words("   ", 1000) == ([], "estimate")


def test_ticks_are_100_nanoseconds():
    assert from_ticks("hi", 500_000, 3_000_000) == SpokenWord("hi", 50, 350)


def test_a_clip_keeps_the_words_of_timed_audio():
    spoken = (SpokenWord("hi", 0, 100),)
    assert Clip.from_bytes(TimedAudio(silent_wav(200), spoken)).words == spoken
    assert Clip.from_bytes(silent_wav(200)).words == ()


def test_the_clip_cache_keeps_word_timings_and_reads_old_files_without_them(tmp_path):
    cache = ClipCache(tmp_path)
    audio = silent_wav(100)
    spoken = (SpokenWord("héllo", 0, 40), SpokenWord("you\nthere", 40, 90))
    cache.put("edge", None, None, None, "héllo you", TimedAudio(audio, spoken))
    cache.put("edge", None, None, None, "plain", audio)
    again = ClipCache(tmp_path)  # as after a restart
    hit = again.get("edge", None, None, None, "héllo you")
    assert hit == audio and getattr(hit, "words", None) == spoken
    plain = again.get("edge", None, None, None, "plain")
    assert plain == audio and not hasattr(plain, "words")


def test_an_engine_word_matches_a_whole_word_nearby_never_the_inside_of_another():
    # "a" is not the "a" inside "raid"; "known" follows "well" inside "well-known".
    spoken = (SpokenWord("raid", 0, 300), SpokenWord("a", 300, 400), SpokenWord("well", 400, 600),
              SpokenWord("known", 600, 900))
    words, _ = caption_words("raid a well-known", 1000, spoken)
    assert times(words) == [("raid", 0, 300), ("a", 300, 400), ("well-known", 400, 900)]
    far = (SpokenWord("one", 0, 100), SpokenWord("seven", 100, 200))  # seven is six words on: not it
    words, _ = caption_words("one two three four five six seven", 700, far)
    assert words[6]["start_ms"] > 200


def test_letters_that_fold_to_more_letters_keep_the_words_in_place():
    spoken = (SpokenWord("Straße", 0, 400), SpokenWord("frei", 400, 800))
    words, timing = caption_words("STRASSE frei", 1000, spoken)
    assert timing == "engine" and times(words) == [("STRASSE", 0, 400), ("frei", 400, 800)]
