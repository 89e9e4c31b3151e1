"""Numbers in frames, sans-I/O: out-of-range values are invalid_field errors naming the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tts_core.listener.protocol import (
    MAX_AMOUNT,
    MAX_COUNT,
    MAX_HOLD_SECONDS,
    ErrorCode,
    ProtocolError,
    parse_frame,
)


def _frame(**fields: object) -> str:
    import json

    return json.dumps(fields)


@pytest.mark.parametrize(("fields", "name"), [
    ({"type": "donation", "donor_name": "a", "amount": 10**400}, "amount"),
    ({"type": "donation", "donor_name": "a", "amount": -1}, "amount"),
    ({"type": "donation", "donor_name": "a", "amount": 1e307}, "amount"),
    ({"type": "donation", "donor_name": "a", "amount": "1e400"}, "amount"),
    ({"type": "tts", "text": "x", "hold_seconds": MAX_HOLD_SECONDS + 1}, "hold_seconds"),
    ({"type": "subscription", "username": "a", "months": "9" * 30}, "months"),
    ({"type": "raid", "username": "a", "viewers": MAX_COUNT + 1}, "viewers"),
    ({"type": "cheer", "username": "a", "bits": 1e300}, "bits"),
])
def test_out_of_range(fields, name):
    with pytest.raises(ProtocolError) as refused:
        parse_frame(_frame(**fields))
    assert refused.value.code == ErrorCode.INVALID_FIELD and refused.value.message.startswith(name + " ")
    assert len(refused.value.message) < 200


def test_limits_themselves_are_accepted():
    frame = parse_frame(_frame(type="donation", donor_name="a", amount=MAX_AMOUNT, hold_seconds="86400"))
    assert frame.fields["amount"] == MAX_AMOUNT and frame.fields["hold_seconds"] == MAX_HOLD_SECONDS
    raid = parse_frame(_frame(type="raid", username="a", viewers=str(MAX_COUNT)))
    assert raid.fields["viewers"] == MAX_COUNT


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30)))
def test_any_amount_is_a_value_or_invalid_field(value):
    try:
        amount = parse_frame(_frame(type="donation", donor_name="a", amount=value)).fields["amount"]
    except ProtocolError as exc:
        assert exc.code == ErrorCode.INVALID_FIELD
    else:
        assert 0 <= amount <= MAX_AMOUNT
