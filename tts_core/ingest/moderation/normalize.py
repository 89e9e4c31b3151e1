"""Unicode normalization, so that look-alike letters cannot dodge the word lists.

What a voice says keeps the viewer's letters: NFKC (full-width and "math bold" letters
become plain ones), zero-width and bidi control characters removed, decorative
combining marks removed ("s̷c̷a̷m̷"), and a word that mixes Latin with look-alike
letters of another script ("ѕсаm": Cyrillic ѕ, с, а) folded to Latin. A word written
wholly in another script (Russian, Greek) is left as it is. ``matching_view`` folds
leetspeak digits one character for one, so matches found in it are at the same
positions in the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from tts_core.ingest.moderation.base import TextStage

# Look-alikes -> Latin (Cyrillic, Greek, small capitals, IPA). One character each.
_LOOKALIKES = {
    **dict(zip("асеорхуѕіјԁһӏԛԝкмтпгвнѵьӕ", "aceopxysijdhlqwkmtnrbhvbæ", strict=True)),
    **dict(zip("АВСЕНІЈКМОРЅТХУԀԌԜ", "ABCEHIJKMOPSTXYDGW", strict=True)),
    **dict(zip("αβοριτκυχενγωΑΒΕΗΙΚΜΝΟΡΤΧΥΖ", "aboriwkuxevywABEHIKMNOPTXYZ", strict=True)),
    **dict(zip("ıɑɡᴀʙᴄᴅᴇɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", "iagabcdeghijklmnoprstuvwyz", strict=True)),
}
_LEET = dict(zip("0134578@$", "oieastbas", strict=True))
FOLD = str.maketrans(_LOOKALIKES)
LEET = str.maketrans(_LEET)

# Invisible characters that join what they separate (a dodge, "sc\u200bam").
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u206f\ufeff\U000e0000-\U000e007f]")
_LATINISH_END = 0x0530  # Latin, IPA, Greek, Cyrillic: combining marks there are decoration
_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """The text a voice should read (see the module docstring)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    text = _drop_decorative_marks(text)
    # In a Russian or Greek message a word of look-alikes only ("сос") is genuine.
    genuine = any(0x0370 <= ord(c) < _LATINISH_END and c.isalpha() and c not in _LOOKALIKES for c in text)
    return _WORD.sub(_fold_mixed_word_in(genuine), text)


def matching_view(text: str, leet: bool = False) -> str:
    """For matching, one character for one (positions are kept): with ``leet``, digits
    and symbols that stand for letters ("sc4m") become those letters. Look-alike letters
    are already folded by ``normalize`` where they are a dodge (it runs first)."""
    return text.translate(LEET) if leet else text


def _drop_decorative_marks(text: str) -> str:
    if not any(unicodedata.category(ch) == "Mn" for ch in text):
        return text
    out: list[str] = []
    base = " "
    run = 0
    for ch in text:
        if unicodedata.category(ch) == "Mn":
            run += 1
            # Marks on Latin/Greek/Cyrillic letters that NFKC could not compose are
            # decoration; elsewhere (Devanagari, Arabic, Thai) they are spelling, but a
            # pile of three or more is "zalgo" noise in any script.
            if ord(base) < _LATINISH_END or run > 2:
                continue
        else:
            base, run = ch, 0
        out.append(ch)
    return "".join(out)


def _fold_mixed_word_in(genuine_script: bool) -> Callable[[re.Match[str]], str]:
    def fold(match: re.Match[str]) -> str:
        word = match.group()
        if word.isascii():
            return word
        folded = word.translate(FOLD)
        if folded == word or not folded.isascii():
            return word
        mixed = any("a" <= c <= "z" or "A" <= c <= "Z" for c in word)
        return folded if mixed or not genuine_script else word

    return fold


def normalize_stage() -> TextStage:
    return TextStage("normalize", normalize)
