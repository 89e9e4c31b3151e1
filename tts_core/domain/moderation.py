"""The words of the moderation config, declared once: the config validates them and
the moderation stages act on them.

The members are strings (``StrEnum``), so a value read from JSON compares equal to
its member (``"drop" == LinkAction.DROP``) and ``tuple(LinkAction)`` lists the words.
"""

from __future__ import annotations

from tts_core.domain.str_enum import StrEnum

LINK_WORD = "link"  # said instead of a link (moderation.link_word)
CENSOR_WORD = "bleep"  # said instead of a censored bad word (moderation.censor_word)


class LinkAction(StrEnum):
    """What ``moderation.links`` does with a link."""

    REPLACE = "replace"  # say the link word
    REMOVE = "remove"  # leave the link out
    DROP = "drop"  # refuse the whole message
    OFF = "off"  # read it as it is


class BadWordAction(StrEnum):
    """What a bad-word rule (or ``moderation.bad_word_action``) does with a match."""

    DROP = "drop"  # refuse the whole message
    CENSOR = "censor"  # say the censor word
    REPLACE = "replace"  # say the rule's own ``with`` text


class ApprovalRule(StrEnum):
    """The keys of a ``moderation.needs_approval`` rule."""

    ALWAYS = "always"  # every event of that type waits
    MIN_AMOUNT = "min_amount"  # from this amount (donation, bits, raid viewers)
    FIRST_TIME = "first_time"  # the platform says it is the chatter's first message

