"""Checks every config section shares: types, numbers, hosts, templates; errors name the key."""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import fields, is_dataclass
from typing import Any

from tts_core.domain.moderation import BadWordAction


class ConfigError(ValueError):
    """A configuration key is unknown, of the wrong type, or out of range."""


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """" (did you mean X?)" when ``word`` is a near miss of one of ``options``, else ""."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def check_section(values: dict[str, Any], keys: dict[str, tuple[type, ...]], prefix: str) -> None:
    for key, value in values.items():
        if key not in keys:
            raise ConfigError(f"unknown key {prefix}.{key}{did_you_mean(key, keys)}; "
                              f"expected one of {', '.join(sorted(keys))}")
        types_ = keys[key]
        if value is None:
            continue
        ok = isinstance(value, types_) and (bool in types_ or not isinstance(value, bool))
        if not ok:
            wanted = " or ".join(t.__name__ for t in types_)
            # an API key is never shown, not even a wrong one
            got = type(value).__name__ if key == "key" else f"{type(value).__name__} {value!r}"
            raise ConfigError(f"{prefix}.{key} must be {wanted} or null, got {got}")


def at_least(value: float, low: float, key: str) -> None:
    if value < low:
        raise ConfigError(f"tts_queue.{key} must be >= {low}, got {value}")


def one_of(value: str, allowed: tuple[str, ...], key: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}, got {value!r}")


def check_bad_words(rules: Sequence[str | dict[str, str]], default_action: str, key: str) -> None:
    """Each entry a word (``*`` wildcards) or a rule ``{"pattern", "action", "with"}``."""
    for i, rule in enumerate(rules):
        where = f"{key}[{i}]"
        pattern = rule if isinstance(rule, str) else rule.get("pattern", "")
        if not pattern.strip("* "):
            raise ConfigError(f"{where}: empty entry (a word, optionally with * wildcards)")
        if isinstance(rule, dict):
            unknown = set(rule) - {"pattern", "action", "with"}
            if unknown:
                raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}; "
                                  "expected pattern, action, with")
            one_of(rule.get("action", default_action), tuple(BadWordAction), f"{where}.action")


def at_most(value: float, high: float, key: str) -> None:
    if value > high:
        raise ConfigError(f"tts_queue.{key} must be <= {high}, got {value}")


def build_section(cls: type, data: object, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix} must be an object, got {type(data).__name__}")
    obj = cls(**section_kwargs(cls, data, prefix))
    check_types(obj, prefix)
    obj.validate(prefix)
    return obj


def section_kwargs(
    cls: type, data: dict[str, Any], prefix: str, skip: set[str] | None = None
) -> dict[str, Any]:
    allowed = {f.name for f in fields(cls)} - (skip or set())
    for key in data:
        if key not in allowed:
            raise ConfigError(f"unknown key {prefix}.{key}{did_you_mean(key, allowed)}; "
                              f"expected one of {', '.join(sorted(allowed))}")
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        check_value(value, hints[key], f"{prefix}.{key}")
    return dict(data)


def check_types(obj: Any, prefix: str) -> None:
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        value = getattr(obj, f.name)
        if not is_dataclass(value):
            check_value(value, hints[f.name], f"{prefix}.{f.name}")
            check_numbers(value, f"{prefix}.{f.name}", bool(f.metadata.get("negative")))


def check_numbers(value: Any, key: str, negative_ok: bool) -> None:
    """Every number finite, and >= 0 unless ``negative_ok`` (also inside lists and objects)."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}")
        if value < 0 and not negative_ok:
            raise ConfigError(f"{key} must be >= 0, got {value}")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_numbers(v, f"{key}.{k}", negative_ok)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_numbers(v, f"{key}[{i}]", negative_ok)


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def check_host(host: object, key: str) -> None:
    """A listener address must be an IP address or a host name (``localhost``, ``my-pc.lan``)."""
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{key} must be an IP address or host name such as 127.0.0.1, got {host!r}")
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if ":" in host:
        raise ConfigError(f"{key} must be an IP address or host name; the port goes in listener.port; "
                          f"got {host!r}")
    labels = host.rstrip(".").split(".")
    numeric = all(label.isdigit() for label in labels)
    if numeric or len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ConfigError(
            f"{key} must be an IP address (127.0.0.1, 0.0.0.0, ::1) or a host name (localhost), got {host!r}"
        )


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def check_value(value: Any, tp: Any, key: str) -> None:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        errors = []
        for option in options:
            try:
                check_value(value, option, key)
                return
            except ConfigError as exc:
                errors.append(exc)
        wanted = " or ".join("null" if o is type(None) else _type_name(o) for o in options)
        raise ConfigError(f"{key} must be {wanted}, got {type(value).__name__} {value!r}")
    if tp is type(None):
        if value is not None:
            raise ConfigError(f"{key} must be null")
        return
    if origin is dict:
        key_type, value_type = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be an object, got {type(value).__name__}")
        for k, v in value.items():
            check_value(k, key_type, f"{key} key")
            check_value(v, value_type, f"{key}.{k}")
        return
    if origin is list:
        (item_type,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {type(value).__name__}")
        for i, v in enumerate(value):
            check_value(v, item_type, f"{key}[{i}]")
        return
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }[tp](value)
    if not ok:
        raise ConfigError(f"{key} must be {_type_name(tp)}, got {type(value).__name__} {value!r}")
