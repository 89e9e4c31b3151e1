"""OBS TTS Queue: text-to-speech for your stream, played through an OBS media source.

Add this file in OBS with Tools > Scripts > +. It runs the TTS queue and its local
listener in background threads and plays each clip through a media source, so speech
is in your stream and recording and in the Audio Mixer. See docs/obs.md.

This is the only module that imports ``obspython``; it is glue between OBS's callbacks
and ``tts_core.obs`` (where the decisions are). obspython is only called here on OBS's
threads: script callbacks (UI thread) and the pump timer (graphics thread).
"""

from __future__ import annotations

import logging
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import obspython as obs

SCRIPT_DIR = Path(__file__).resolve().parent
if str(SCRIPT_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPT_DIR))

from tts_core.obs.script import packages  # noqa: E402 - needs SCRIPT_DIR on sys.path

log = logging.getLogger("obs_tts_queue")

HOTKEYS = (
    ("skip", "TTS Queue: Skip current message"),
    ("pause", "TTS Queue: Pause / Resume"),
    ("clear", "TTS Queue: Clear pending messages"),
    ("replay", "TTS Queue: Replay last message"),
)
HOTKEY_PREFIX = "obs_tts_queue."
# Our threads hold the GIL at most this long before an OBS thread that calls into Python
# (the pump every frame) gets it; Python's default is 5 ms.
GIL_SWITCH_SECONDS = 0.001
MEDIA_STATE_KEY = "media_source_state"  # internal: the created media source's mixer state
CONTROL_KEYS = {"paused": "tts_paused", "disabled": "tts_disabled"}  # internal: kept across OBS restarts
EVENT_LABELS = {"donation": "Donations", "subscription": "Subscriptions", "follow": "Follows",
                "raid": "Raids", "cheer": "Cheers (bits)", "chat": "Chat lines", "command": "Chat !tts",
                "tts": "Direct text (bots)", "gift_sub": "Gifted subs", "gift_bomb": "Gift bombs",
                "redemption": "Channel point rewards"}

# Module state: re-created when OBS re-executes this file on Reload (after script_unload).
_app: Any = None
_pump: Any = None
_log_handler: Any = None
_settings: Any = None
_hotkeys: dict[str, int] = {}
_switch_interval: float | None = None
_saved_clip: Any = None  # SavedClipFile: a clip OBS saved in the collection as it closed

# Before OBS asks for the description (it does so before script_load).
packages.add_package_folders(SCRIPT_DIR)
_missing: list[str] = packages.report(SCRIPT_DIR)


# -- OBS entry points ------------------------------------------------------------------------


def script_description() -> str:
    text = ("<b>OBS TTS Queue</b><br>Reads donations, subs, follows, raids, cheers and chat "
            "<code>!tts</code> aloud, one message at a time, through an OBS media source.")
    if _missing:
        text += "<br><span style='color:#e0a000'>" + "<br>".join(_escape(m) for m in _missing) + "</span>"
    return text


def script_defaults(settings: Any) -> None:
    from tts_core.obs.script.settings import SETTINGS

    for setting in SETTINGS:
        if setting.kind is bool:
            obs.obs_data_set_default_bool(settings, setting.key, setting.default)
        elif setting.kind is int:
            obs.obs_data_set_default_int(settings, setting.key, setting.default)
        elif setting.kind is float:
            obs.obs_data_set_default_double(settings, setting.key, setting.default)
        else:
            obs.obs_data_set_default_string(settings, setting.key, setting.default)


def script_load(settings: Any) -> None:
    global _app, _pump, _log_handler, _settings, _missing, _switch_interval
    _settings = settings
    _switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(_switch_interval, GIL_SWITCH_SECONDS))
    _log_handler = _install_logging()
    leftover = _our_threads()
    if leftover:
        log.warning("threads of an earlier load still running: %s", ", ".join(leftover))
    packages.add_package_folders(SCRIPT_DIR, obs.obs_data_get_string(settings, "packages_dir"))
    _missing = packages.report(SCRIPT_DIR)
    for line in _missing:
        log.log(logging.INFO if line.startswith("optional") else logging.WARNING, "%s", line)

    from tts_core.obs.script.api import ObsApi
    from tts_core.obs.script.app import ObsTTSApp
    from tts_core.obs.script.pump import Pump

    _pump = Pump()
    _pump.on_tick(_log_handler.flush_to_obs)
    api = ObsApi(obs)
    saved = obs.obs_data_get_string(settings, MEDIA_STATE_KEY) or None
    start_state = {state: obs.obs_data_get_bool(settings, key) for state, key in CONTROL_KEYS.items()}
    _app = ObsTTSApp(api, _pump, _read(settings), saved_state=saved, start_state=start_state)
    if api.frontend_loaded():  # added to a running OBS: no FINISHED_LOADING will come
        _app.media_source.frontend_ready()
        _app.media_source.scenes_changed()
    obs.obs_frontend_add_event_callback(_on_frontend_event)
    obs.timer_add(_on_frame, 1)
    _register_hotkeys(settings)
    _app.start()
    log.info("OBS TTS Queue loaded (Python %s)", sys.version.split()[0])


def script_update(settings: Any) -> None:
    if _app is not None:
        _app.settings_changed(_read(settings))


def script_save(settings: Any) -> None:
    _save_hotkeys(settings)
    _save_control_state(settings)
    if _app is not None:
        _app.media_source.clear_clip()  # an ended clip's temporary path (OBS saves sources first)
        state = _app.media_source.save_state()
        if state:
            obs.obs_data_set_string(settings, MEDIA_STATE_KEY, state)


def script_unload() -> None:
    """OBS already removed our timer and callbacks; stop every thread we started."""
    global _app, _saved_clip
    started = time.monotonic()
    if _settings is not None:
        _save_hotkeys(_settings)  # Reload keeps bindings made since the last save
        _save_control_state(_settings)  # and Pause / disable
    app, _app = _app, None
    if app is not None and not app.shutdown():
        log.warning("TTS threads still running at unload")
    if _pump is not None:
        _pump.run_all()  # e.g. stop the clip that was cut, clear the caption
        log.info("timer pump: %s", _pump.timing_summary())
    if app is not None:
        app.media_source.clear_clip(force=True)  # no temporary path left for OBS to save
        app.media_source.forget()
        app.ducking.remove_all()  # our Compressor filters only (docs/obs.md, "Ducking")
    if _saved_clip is not None:
        _saved_clip.restore()
        _saved_clip = None
    if _switch_interval is not None:
        sys.setswitchinterval(_switch_interval)
    log.info("OBS TTS Queue unloaded in %d ms", (time.monotonic() - started) * 1000)
    if _log_handler is not None:
        _log_handler.flush_to_obs(limit=10_000)
        logging.getLogger("tts_core").removeHandler(_log_handler)
        log.removeHandler(_log_handler)


# -- callbacks (module-level functions: obspython ignores bound methods) --------------------


def _on_frame() -> None:
    if _pump is not None:
        _pump.run()


def _on_frontend_event(event: int) -> None:
    global _saved_clip
    if _app is None:
        return
    if event in _AFTER_SAVE_EVENTS:
        # OBS has saved the scene collection (exit, a collection switch) and unloads the
        # script next: a clip that was playing is in that file, so it must still exist at
        # OBS's next start (or OBS shows "Missing Files"): kept, written back at unload.
        cleared = _app.media_source.clear_clip(force=True)
        if cleared:
            from tts_core.obs.script.media_source import SavedClipFile

            _saved_clip = SavedClipFile(cleared)
    if event in (obs.OBS_FRONTEND_EVENT_FINISHED_LOADING, obs.OBS_FRONTEND_EVENT_SCENE_COLLECTION_CHANGED):
        _app.media_source.frontend_ready()
    if event in (obs.OBS_FRONTEND_EVENT_FINISHED_LOADING, obs.OBS_FRONTEND_EVENT_SCENE_COLLECTION_CHANGED,
                 obs.OBS_FRONTEND_EVENT_SCENE_LIST_CHANGED, obs.OBS_FRONTEND_EVENT_SCENE_CHANGED):
        _app.media_source.scenes_changed()  # the scenes where the media source must stay hidden


_AFTER_SAVE_EVENTS = frozenset(getattr(obs, f"OBS_FRONTEND_EVENT_{name}") for name in (
    "SCRIPTING_SHUTDOWN", "EXIT", "SCENE_COLLECTION_CHANGING") if hasattr(obs, f"OBS_FRONTEND_EVENT_{name}"))


def _on_hotkey_skip(pressed: bool) -> None:
    if pressed and _app is not None:
        _app.skip()


def _on_hotkey_pause(pressed: bool) -> None:
    if pressed and _app is not None:
        log.info("TTS %s", "paused" if _app.toggle_pause() else "resumed")


def _on_hotkey_clear(pressed: bool) -> None:
    if pressed and _app is not None:
        log.info("TTS cleared %d pending message(s)", _app.clear())


def _on_hotkey_replay(pressed: bool) -> None:
    if pressed and _app is not None:
        _app.replay()


_HOTKEY_CALLBACKS = {"skip": _on_hotkey_skip, "pause": _on_hotkey_pause, "clear": _on_hotkey_clear,
                     "replay": _on_hotkey_replay}


def _register_hotkeys(settings: Any) -> None:
    _hotkeys.clear()
    for name, description in HOTKEYS:
        callback = _HOTKEY_CALLBACKS[name]
        hotkey_id = obs.obs_hotkey_register_frontend(HOTKEY_PREFIX + name, description, callback)
        _hotkeys[name] = hotkey_id
        bindings = obs.obs_data_get_array(settings, f"hotkey_{name}")
        obs.obs_hotkey_load(hotkey_id, bindings)
        obs.obs_data_array_release(bindings)


def _save_control_state(settings: Any) -> None:
    if _app is not None:
        for state, on in _app.control_state().items():
            obs.obs_data_set_bool(settings, CONTROL_KEYS[state], on)


def _save_hotkeys(settings: Any) -> None:
    for name, hotkey_id in _hotkeys.items():
        bindings = obs.obs_hotkey_save(hotkey_id)
        if bindings is not None:
            obs.obs_data_set_array(settings, f"hotkey_{name}", bindings)
            obs.obs_data_array_release(bindings)


# -- properties panel --------------------------------------------------------------------------


def script_properties() -> Any:
    from tts_core.obs.script.app import engine_names
    from tts_core.obs.script.settings import PRIORITY_NAMES

    props = obs.obs_properties_create()
    # The status sits with the controls. OBS 29 cannot redraw a shown panel from a script:
    # it is read each time the panel is built (opened, a button pressed, Refresh).
    controls = obs.obs_properties_create()
    _add_info(controls, "status", _status())
    _add_info(controls, "status_note", STATUS_NOTE)
    setup_warning = _app.setup_warning() if _app is not None else ""
    if setup_warning:
        _add_info(controls, "setup_warning", setup_warning, warning=True)
    if _missing:
        _add_info(controls, "packages_info", "\n".join(_missing), warning=True)
    obs.obs_properties_add_button(controls, "refresh_status", "Refresh status", _on_refresh_clicked)
    obs.obs_properties_add_button(controls, "skip_button", "Skip", _on_skip_clicked)
    obs.obs_properties_add_button(controls, "pause_button", "Pause / Resume", _on_pause_clicked)
    obs.obs_properties_add_button(controls, "clear_button", "Clear queue", _on_clear_clicked)
    obs.obs_properties_add_button(controls, "replay_button", "Replay last", _on_replay_clicked)
    obs.obs_properties_add_group(props, "controls", "Status and controls", obs.OBS_GROUP_NORMAL, controls)

    voice = obs.obs_properties_create()
    engine = obs.obs_properties_add_list(voice, "engine", "Engine", obs.OBS_COMBO_TYPE_LIST,
                                         obs.OBS_COMBO_FORMAT_STRING)
    for name in engine_names():
        obs.obs_property_list_add_string(engine, name, name)
    obs.obs_property_set_modified_callback(engine, _on_engine_modified)
    voices = obs.obs_properties_add_list(voice, "voice", "Voice", obs.OBS_COMBO_TYPE_LIST,
                                         obs.OBS_COMBO_FORMAT_STRING)
    _fill_voices(voices, obs.obs_data_get_string(_settings, "engine") if _settings else "espeak")
    obs.obs_properties_add_button(voice, "refresh_voices", "Refresh voice list", _on_refresh_voices)
    obs.obs_properties_add_int_slider(voice, "speaking_rate", "Speaking rate (words/min, 0 = default)",
                                      0, 400, 5)
    obs.obs_properties_add_int_slider(voice, "volume", "Voice volume (%)", 0, 100, 1)
    obs.obs_properties_add_bool(voice, "loudness_enabled", "Every voice equally loud")
    obs.obs_properties_add_float_slider(voice, "loudness_target_lufs", "Loudness target (LUFS)", -30, -10, 1)
    obs.obs_properties_add_button(voice, "test_voice", "Test voice", _on_test_voice_clicked)
    obs.obs_properties_add_group(props, "voice_group", "Voice", obs.OBS_GROUP_NORMAL, voice)
    _add_engine_fields(props)

    playback = obs.obs_properties_create()
    obs.obs_properties_add_list(playback, "media_source", "Media source", obs.OBS_COMBO_TYPE_EDITABLE,
                                obs.OBS_COMBO_FORMAT_STRING)
    obs.obs_properties_add_list(playback, "caption_source", "Caption text source", obs.OBS_COMBO_TYPE_LIST,
                                obs.OBS_COMBO_FORMAT_STRING)
    _fill_source_lists(props)
    obs.obs_properties_add_int(playback, "pause_between_clips_ms", "Pause between clips (ms)", 0, 10000, 100)
    obs.obs_properties_add_group(props, "playback", "Playback", obs.OBS_GROUP_NORMAL, playback)

    listener = obs.obs_properties_create()
    obs.obs_properties_add_text(listener, "listener_host", "Host", obs.OBS_TEXT_DEFAULT)
    obs.obs_properties_add_int(listener, "listener_port", "Port", 1, 65535, 1)
    obs.obs_properties_add_text(listener, "listener_token", "Token (optional)", obs.OBS_TEXT_PASSWORD)
    obs.obs_properties_add_group(props, "listener", "Listener (Streamer.bot, bots)", obs.OBS_GROUP_NORMAL,
                                 listener)

    queue = obs.obs_properties_create()
    obs.obs_properties_add_int(queue, "rate_limit_per_minute", "Voice requests per minute (0 = no limit)",
                               0, 10000, 1)
    obs.obs_properties_add_int(queue, "max_queue_size", "Max pending messages", 1, 100000, 1)
    obs.obs_properties_add_int(queue, "max_concurrent_workers", "Workers (clips prepared ahead)", 1, 16, 1)
    obs.obs_properties_add_int(queue, "max_retries", "Retries per message", 0, 10, 1)
    obs.obs_properties_add_bool(queue, "persist", "Keep the queue across OBS restarts")
    obs.obs_properties_add_group(props, "queue", "Queue", obs.OBS_GROUP_NORMAL, queue)

    priorities = obs.obs_properties_create()
    for event_type, label in EVENT_LABELS.items():
        p = obs.obs_properties_add_list(priorities, f"priority_{event_type}", label, obs.OBS_COMBO_TYPE_LIST,
                                        obs.OBS_COMBO_FORMAT_STRING)
        for name in PRIORITY_NAMES:
            obs.obs_property_list_add_string(p, name.title(), name)
    obs.obs_properties_add_float(priorities, "urgent_donation_amount",
                                 "Donations from this amount are URGENT (0 = never)", 0, 1_000_000, 1)
    obs.obs_properties_add_group(props, "priorities", "Priorities", obs.OBS_GROUP_NORMAL, priorities)

    _add_moderation_groups(props)
    _add_ducking_group(props)
    _add_alert_sounds_group(props)
    _add_connections_group(props)
    python = obs.obs_properties_create()
    obs.obs_properties_add_path(python, "packages_dir", "Python packages folder (optional)",
                                obs.OBS_PATH_DIRECTORY, "", str(SCRIPT_DIR))
    obs.obs_properties_add_group(props, "python_group", "Python", obs.OBS_GROUP_NORMAL, python)
    return props


DUCKING_CHECK_PREFIX = "ducking_source:"  # a checkbox per audio source; the setting is ducking_sources


def _add_ducking_group(props: Any) -> None:
    """Group "Ducking": a checkbox per audio source (they write the setting ducking_sources),
    by how many dB, attack and release (docs/obs.md, "Ducking")."""
    group = obs.obs_properties_create()
    _add_info(group, "ducking_info", "Lower these sources while TTS speaks:")
    obs.obs_properties_add_int_slider(group, "ducking_db", "Lower by (dB)", 1, 20, 1)
    _explain(obs.obs_properties_add_int(group, "ducking_attack_ms", "Attack (ms)", 1, 500, 1),
             "How fast the sources go down when speech starts")
    _explain(obs.obs_properties_add_int(group, "ducking_release_ms", "Release (ms)", 1, 1000, 10),
             "How fast they come back after speech; they are back about 4 times this after it")
    obs.obs_properties_add_group(props, "ducking", "Ducking (lower music and game while TTS speaks)",
                                 obs.OBS_GROUP_NORMAL, group)
    _fill_ducking_sources(props)


def _fill_ducking_sources(props: Any) -> None:
    """One checkbox per source with audio (not the TTS media source), plus the chosen ones
    OBS does not have now (renamed or deleted), ticked as the setting ducking_sources says."""
    from tts_core.obs.ducking import parse_sources
    from tts_core.obs.script.ducking import audio_source_names

    group_prop = obs.obs_properties_get(props, "ducking")
    if group_prop is None:
        return
    group = obs.obs_property_group_content(group_prop)
    chosen = parse_sources(obs.obs_data_get_string(_settings, "ducking_sources")) if _settings else []
    media = obs.obs_data_get_string(_settings, "media_source") if _settings else ""
    names = audio_source_names(_app.api, excluding=media) if _app is not None else []
    for name in [*names, *(c for c in chosen if c not in names)]:
        key = DUCKING_CHECK_PREFIX + name
        if _settings is not None:
            obs.obs_data_set_bool(_settings, key, name in chosen)
        if obs.obs_properties_get(group, key) is None:
            label = name if name in names else f"{name} (not in OBS now)"
            box = obs.obs_properties_add_bool(group, key, label)
            obs.obs_property_set_modified_callback(box, _on_ducking_ticked)


def _on_ducking_ticked(_props: Any, prop: Any, settings: Any) -> bool:
    """A source's checkbox: add or take its name in the setting ducking_sources."""
    from tts_core.obs.ducking import join_sources, parse_sources

    name = obs.obs_property_name(prop).removeprefix(DUCKING_CHECK_PREFIX)
    chosen = parse_sources(obs.obs_data_get_string(settings, "ducking_sources"))
    ticked = obs.obs_data_get_bool(settings, obs.obs_property_name(prop))
    if ticked != (name in chosen):
        updated = [*chosen, name] if ticked else [c for c in chosen if c != name]
        obs.obs_data_set_string(settings, "ducking_sources", join_sources(updated))
        script_update(settings)  # OBS 29 calls script_update before this callback, not after
    return False


def _add_alert_sounds_group(props: Any) -> None:
    """The Alert sounds group (keys in tts_core.obs.script.alert_settings; docs/obs.md#alert-sounds)."""
    from tts_core.obs.script.alert_settings import ALERT_EVENTS, DONATION_TIERS

    group = obs.obs_properties_create()
    _add_info(group, "alert_sounds_info", "A WAV, MP3, OGG (Vorbis) or FLAC file plays right before the "
              "message is spoken, on the same media source. Volume below 100 % needs a file that is not MP3, "
              "unless every voice is equally loud. Empty = no sound.")

    def sound(key: str, label: str) -> None:
        obs.obs_properties_add_path(group, f"{key}_file", label, obs.OBS_PATH_FILE,
                                    "Sounds (*.wav *.mp3 *.ogg *.flac);;All files (*.*)", "")
        obs.obs_properties_add_int_slider(group, f"{key}_volume", "Volume (%)", 0, 100, 1)

    sound("alert_donation", "Donation")
    for tier in range(2, DONATION_TIERS + 1):
        label = f"Donation sound {tier} from amount (0 = off)"
        _explain(obs.obs_properties_add_float(group, f"alert_donation_{tier}_from", label, 0, 1_000_000, 1),
                 "Donations of at least this amount play this sound instead")
        sound(f"alert_donation_{tier}", f"Donation sound {tier}")
    for event_type, label in ALERT_EVENTS:
        sound(f"alert_{event_type}", label)
    obs.obs_properties_add_bool(group, "alert_follow_only", "Follows: play the sound only (say nothing)")
    obs.obs_properties_add_group(props, "alert_sounds", "Alert sounds", obs.OBS_GROUP_NORMAL, group)


def _add_connections_group(props: Any) -> None:
    """The Connections group (keys in tts_core.obs.script.settings.CONNECTION_SETTINGS)."""
    group = obs.obs_properties_create()
    obs.obs_properties_add_bool(group, "streamerbot_enabled", "Streamer.bot: take its events")
    obs.obs_properties_add_text(group, "streamerbot_url", "Streamer.bot WebSocket Server",
                                obs.OBS_TEXT_DEFAULT)
    obs.obs_properties_add_text(group, "streamerbot_password", "Password (if authentication is on)",
                                obs.OBS_TEXT_PASSWORD)
    obs.obs_properties_add_text(group, "streamerbot_reward_titles",
                                "Rewards read aloud (comma separated)", obs.OBS_TEXT_DEFAULT)
    obs.obs_properties_add_bool(group, "speakerbot_enabled", "Speaker.bot server (for Streamer.bot)")
    obs.obs_properties_add_int(group, "speakerbot_port", "Speaker.bot WebSocket port", 1, 65535, 1)
    obs.obs_properties_add_int(group, "speakerbot_udp_port", "Speaker.bot UDP port (0 = off)", 0, 65535, 1)
    _add_twitch_fields(group)
    _add_streamelements_fields(group)
    obs.obs_properties_add_bool(group, "streamlabs_enabled", "Streamlabs: take its alerts")
    _explain(obs.obs_properties_add_text(group, "streamlabs_socket_token", "Streamlabs Socket API Token",
                                         obs.OBS_TEXT_PASSWORD),
             "Streamlabs > Account Settings > API Settings > API Tokens > Your Socket API Token")
    _explain(obs.obs_properties_add_text(group, "streamlabs_reward_titles",
                                         "Streamlabs loyalty store items read aloud", obs.OBS_TEXT_DEFAULT),
             "Comma separated names of the Cloudbot loyalty store items whose viewer message is read")
    obs.obs_properties_add_group(props, "connections", "Connections", obs.OBS_GROUP_NORMAL, group)


def _add_streamelements_fields(group: Any) -> None:
    """StreamElements straight from its Astro gateway (docs/connectors.md, StreamElements)."""
    obs.obs_properties_add_bool(group, "streamelements_enabled", "StreamElements: take its events directly")
    _explain(obs.obs_properties_add_text(group, "streamelements_token", "StreamElements token",
                                         obs.OBS_TEXT_PASSWORD),
             "Your JWT Token: StreamElements dashboard > your avatar > Account > Channels > Show secrets")
    kinds = obs.obs_properties_add_list(group, "streamelements_token_type", "StreamElements token type",
                                        obs.OBS_COMBO_TYPE_LIST, obs.OBS_COMBO_FORMAT_STRING)
    for label, value in (("JWT Token", "jwt"), ("OAuth2 access token", "oauth2"),
                         ("Overlay token (apikey)", "apikey")):
        obs.obs_property_list_add_string(kinds, label, value)
    _explain(obs.obs_properties_add_text(group, "streamelements_channel_id", "StreamElements account ID",
                                         obs.OBS_TEXT_DEFAULT),
             "Shown next to the JWT Token; empty: the token's own channel")
    _explain(obs.obs_properties_add_text(group, "streamelements_reward_titles",
                                         "StreamElements rewards read aloud", obs.OBS_TEXT_DEFAULT),
             "Comma separated titles of the channel point rewards whose viewer input is read")


def _add_twitch_fields(group: Any) -> None:
    """Twitch straight from EventSub (docs/connectors.md, Twitch); the login button runs
    Twitch's device login on a thread of its own (tts_core/obs/script/twitch_login.py)."""
    try:
        from tts_core.obs.script import twitch_login

        shown = twitch_login.message() or "Twitch: log in once with the button"
    except ImportError as exc:  # a package missing in OBS's Python: the rest of the panel still shows
        shown = f"Twitch login unavailable: {exc}"
    obs.obs_properties_add_bool(group, "twitch_enabled", "Twitch: take its events directly")
    _explain(obs.obs_properties_add_text(group, "twitch_client_id", "Twitch Client ID", obs.OBS_TEXT_DEFAULT),
             "The Client ID of the application you registered at dev.twitch.tv (docs/connectors.md, Twitch)")
    _explain(obs.obs_properties_add_text(group, "twitch_channel", "Twitch channel", obs.OBS_TEXT_DEFAULT),
             "Its login name; empty: the account you log in with")
    _explain(obs.obs_properties_add_text(group, "twitch_reward_titles", "Twitch rewards read aloud",
                                         obs.OBS_TEXT_DEFAULT),
             "Comma separated titles of the channel point rewards whose viewer input is read")
    login = obs.obs_properties_add_button(group, "twitch_login", "Log in to Twitch", _on_twitch_login_clicked)
    _explain(login,
             "Opens your browser at Twitch's page with the code filled in; the login is kept for your user")
    _add_info(group, "twitch_login_status", shown)


def _on_twitch_login_clicked(props: Any, _prop: Any) -> bool:
    if _app is None:
        return False
    try:
        from tts_core.obs.script import twitch_login
    except ImportError as exc:
        log.error("Twitch login unavailable: %s", exc)
        return False
    shown = twitch_login.wait_for_code(twitch_login.start(_app))  # a moment at most: Twitch's code
    obs.obs_property_set_description(obs.obs_properties_get(props, "twitch_login_status"), _wrapped(shown))
    return True


STATUS_NOTE = ("OBS does not redraw this panel by itself: the status is as it was when the panel "
               "was shown. Press Refresh status (or any button) to see it now.")
INFO_LINE_CHARS = 40  # fits the panel at its narrowest (Tools > Scripts at 1280x720)


def _fill_source_lists(props: Any) -> None:
    """The Media source and Caption text source lists, as OBS's sources are now."""
    from tts_core.obs.script.settings import DEFAULT_MEDIA_SOURCE

    media = obs.obs_properties_get(props, "media_source")
    caption = obs.obs_properties_get(props, "caption_source")
    obs.obs_property_list_clear(media)
    obs.obs_property_list_clear(caption)
    obs.obs_property_list_add_string(media, f"{DEFAULT_MEDIA_SOURCE} (created by the script)",
                                     DEFAULT_MEDIA_SOURCE)
    obs.obs_property_list_add_string(caption, "(none)", "")
    if _app is not None:
        for name in _app.api.media_source_names():
            if name != DEFAULT_MEDIA_SOURCE:
                obs.obs_property_list_add_string(media, name, name)
        for name in _app.api.text_source_names():
            obs.obs_property_list_add_string(caption, name, name)


def _wrapped(text: str) -> str:
    """OBS 29's info label grows wider than the panel rather than wrap a long line: break
    the lines here too (never inside a word, a URL or a path)."""
    return "\n".join(textwrap.fill(line, INFO_LINE_CHARS, break_long_words=False, break_on_hyphens=False)
                     for line in text.splitlines())


def _add_info(props: Any, key: str, text: str, warning: bool = False) -> Any:
    """A read-only text row whose long lines wrap inside the panel."""
    prop = obs.obs_properties_add_text(props, key, _wrapped(text), obs.OBS_TEXT_INFO)
    if hasattr(obs, "obs_property_text_set_info_word_wrap"):
        obs.obs_property_text_set_info_word_wrap(prop, True)
    if warning:
        obs.obs_property_text_set_info_type(prop, obs.OBS_TEXT_INFO_WARNING)
    return prop


def _add_moderation_groups(props: Any) -> None:
    """The Moderation and Voices groups (keys in tts_core.obs.script.settings.MODERATION_SETTINGS)."""
    mod = obs.obs_properties_create()
    links = obs.obs_properties_add_list(mod, "moderation_links", "Links in messages", obs.OBS_COMBO_TYPE_LIST,
                                        obs.OBS_COMBO_FORMAT_STRING)
    for label, value in (("Say \"link\"", "replace"), ("Leave them out", "remove"),
                         ("Drop the message", "drop"), ("Read them (off)", "off")):
        obs.obs_property_list_add_string(links, label, value)
    # Short labels: a long one widens the group's label column and cuts its checkboxes' text.
    _explain(obs.obs_properties_add_text(mod, "moderation_bad_words", "Bad words", obs.OBS_TEXT_MULTILINE),
             "Comma or line separated; * is a wildcard (scam*)")
    action = obs.obs_properties_add_list(mod, "moderation_bad_word_action", "When a bad word is found",
                                         obs.OBS_COMBO_TYPE_LIST, obs.OBS_COMBO_FORMAT_STRING)
    obs.obs_property_list_add_string(action, "Say \"bleep\" instead", "censor")
    obs.obs_property_list_add_string(action, "Drop the message", "drop")
    obs.obs_properties_add_int(mod, "moderation_max_chars", "Max characters (0 = no limit)", 0, 5000, 10)
    obs.obs_properties_add_int(mod, "moderation_max_words", "Max words (0 = no limit)", 0, 1000, 1)
    _explain(obs.obs_properties_add_float(mod, "hold_seconds", "Hold each message (s)", 0, 600, 1),
             "Every message waits this long before it is spoken, so mods can remove it")
    obs.obs_properties_add_float(mod, "approve_donations_from", "Approve donations from (0 = never)",
                                 0, 1_000_000, 1)
    obs.obs_properties_add_bool(mod, "approve_first_time_chatters", "First-time chatters need approval")
    _explain(obs.obs_properties_add_text(mod, "approve_event_types", "Event types needing approval",
                                         obs.OBS_TEXT_DEFAULT),
             "Comma separated, e.g. raid, chat: these always wait for Approve")
    ban = obs.obs_properties_add_bool(mod, "remove_on_ban", "Remove banned and deleted messages")
    obs.obs_property_set_long_description(ban, "Remove the pending messages of a viewer who is banned, "
                                          "and a message whose chat line a moderator deleted")
    obs.obs_properties_add_group(props, "moderation", "Moderation", obs.OBS_GROUP_NORMAL, mod)

    voices = obs.obs_properties_create()
    obs.obs_properties_add_text(voices, "voice_aliases", "Voice aliases (alias=voice, one per line)",
                                obs.OBS_TEXT_MULTILINE)
    inline = obs.obs_properties_add_bool(voices, "voice_inline", "Viewers may pick an alias (\"brian: hi\")")
    obs.obs_property_set_long_description(inline, "A chat line that starts with an alias and a colon "
                                          "(\"brian: hello\") is read with that alias's voice")
    _explain(obs.obs_properties_add_bool(voices, "speakable_names", "Say names like a person would"),
             "xX_Gamer_1337_Xx is read as \"Gamer\", DarkLord_99 as \"Dark Lord\"")
    _explain(obs.obs_properties_add_text(voices, "nicknames", "Nicknames (viewer=name)",
                                         obs.OBS_TEXT_MULTILINE),
             "One per line: how a viewer's name is said, e.g. xX_Gamer_1337_Xx=the champion")
    _explain(obs.obs_properties_add_float(voices, "repeat_name_after_seconds",
                                          "Say \"X says\" again after (s)", 0, 3600, 5),
             "Chat lines of the same viewer leave out \"X says\" until someone else speaks or "
             "this many seconds pass (0 = always say the name)")
    obs.obs_properties_add_group(props, "voices", "Voices", obs.OBS_GROUP_NORMAL, voices)


def _explain(prop: Any, text: str) -> None:
    """The row's tooltip (OBS shows a (?) next to its label)."""
    obs.obs_property_set_long_description(prop, text)


def _fill_voices(prop: Any, engine_name: str, refresh: bool = False) -> None:
    obs.obs_property_list_clear(prop)
    obs.obs_property_list_add_string(prop, "(engine default)", "")
    if _app is not None:
        for voice_id, label in _app.voices(engine_name or "espeak", refresh):
            obs.obs_property_list_add_string(prop, label, voice_id)


def _on_engine_modified(props: Any, _prop: Any, settings: Any) -> bool:
    engine = obs.obs_data_get_string(settings, "engine")
    _fill_voices(obs.obs_properties_get(props, "voice"), engine)
    if _app is not None:  # keep the voice if the new engine has it; else its default, said in the status
        voice = obs.obs_data_get_string(settings, "voice")
        kept = _app.voice_for_engine(engine or "espeak", voice)
        if kept != voice:
            obs.obs_data_set_string(settings, "voice", kept)
    _show_engine_fields(props, engine)
    return True


# -- engine settings group (the chosen engine's own fields) ------------------------------------


ENGINE_FIELD_LABELS = {
    "azure_key": "Azure key", "azure_region": "Azure region (e.g. westeurope)",
    "azure_host": "Azure container host (ws://host:port, optional)", "gtts_lang": "Google language (e.g. en)",
    "gtts_tld": "Google accent domain (com, co.uk, com.au, ...)",
    "openai_base_url": "Server URL (empty = OpenAI; e.g. http://localhost:8880/v1)",
    "openai_key": "API key (optional for local servers)", "openai_model": "Model (e.g. tts-1, kokoro)",
    "elevenlabs_key": "ElevenLabs key", "elevenlabs_model": "Model (e.g. eleven_multilingual_v2)",
}


def _add_engine_fields(props: Any) -> None:
    """Group "Engine settings": the fallback engine and the fields of the chosen engine."""
    from tts_core.obs.script.app import engine_names
    from tts_core.obs.script.settings import ENGINE_FIELDS, SECRET_SETTINGS

    group = obs.obs_properties_create()
    fallback = obs.obs_properties_add_list(group, "fallback_engine", "Fallback engine (when the voice fails)",
                                           obs.OBS_COMBO_TYPE_LIST, obs.OBS_COMBO_FORMAT_STRING)
    obs.obs_property_list_add_string(fallback, "(none)", "")
    for name in engine_names():
        obs.obs_property_list_add_string(fallback, name, name)
    for key in ENGINE_FIELDS:
        if key == "piper_model":
            obs.obs_properties_add_path(group, key, "Piper voice model (.onnx; empty = installed voice)",
                                        obs.OBS_PATH_FILE, "Piper voice (*.onnx)", str(SCRIPT_DIR))
        else:
            kind = obs.OBS_TEXT_PASSWORD if key in SECRET_SETTINGS else obs.OBS_TEXT_DEFAULT
            obs.obs_properties_add_text(group, key, ENGINE_FIELD_LABELS[key], kind)
    obs.obs_properties_add_group(props, "engine_group", "Engine settings", obs.OBS_GROUP_NORMAL, group)
    _show_engine_fields(props, obs.obs_data_get_string(_settings, "engine") if _settings else "espeak")


def _show_engine_fields(props: Any, engine_name: str) -> None:
    from tts_core.obs.script.settings import ENGINE_FIELDS, engine_fields_for

    shown = set(engine_fields_for(engine_name or "espeak"))
    for key in ENGINE_FIELDS:
        prop = obs.obs_properties_get(props, key)
        if prop is not None:
            obs.obs_property_set_visible(prop, key in shown)


def _on_refresh_voices(props: Any, _prop: Any) -> bool:
    engine = obs.obs_data_get_string(_settings, "engine") if _settings else "espeak"
    _fill_voices(obs.obs_properties_get(props, "voice"), engine, refresh=True)
    return _refresh_status(props)


def _on_test_voice_clicked(props: Any, _prop: Any) -> bool:
    if _app is not None:
        _app.test_voice()
    return _refresh_status(props)


def _on_refresh_clicked(props: Any, _prop: Any) -> bool:
    return _refresh_status(props)  # True: OBS builds the panel again (status, source lists)


def _on_skip_clicked(props: Any, _prop: Any) -> bool:
    if _app is not None:
        _app.skip()
    return _refresh_status(props)


def _on_pause_clicked(props: Any, _prop: Any) -> bool:
    if _app is not None:
        _app.toggle_pause()
    return _refresh_status(props)


def _on_clear_clicked(props: Any, _prop: Any) -> bool:
    if _app is not None:
        _app.clear()
    return _refresh_status(props)


def _on_replay_clicked(props: Any, _prop: Any) -> bool:
    if _app is not None:
        _app.replay()
    return _refresh_status(props)


def _refresh_status(props: Any) -> bool:
    """The shown panel's status, notes and source lists, now. True: OBS 29 redraws the
    panel from these same properties (it does not call script_properties again)."""
    obs.obs_property_set_description(obs.obs_properties_get(props, "status"), _wrapped(_status()))
    warning = obs.obs_properties_get(props, "setup_warning")
    if warning is not None and _app is not None:
        obs.obs_property_set_description(warning, _wrapped(_app.setup_warning()))
    _fill_source_lists(props)
    _fill_ducking_sources(props)
    return True


def _status() -> str:
    return _app.status_text() if _app is not None else "Not running"


# -- helpers ------------------------------------------------------------------------------------


def _read(settings: Any) -> dict[str, Any]:
    """The script's settings as a plain dict (typed as tts_core.obs.script.settings says)."""
    from tts_core.obs.script.settings import SETTINGS

    getters = {bool: obs.obs_data_get_bool, int: obs.obs_data_get_int, float: obs.obs_data_get_double,
               str: obs.obs_data_get_string}
    return {s.key: getters[s.kind](settings, s.key) for s in SETTINGS}


def _install_logging() -> Any:
    from tts_core.obs.script.logs import QueuedLogHandler, WarnOnce

    handler = QueuedLogHandler(obs.script_log, policy=WarnOnce())
    for name in ("tts_core", "obs_tts_queue"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if type(h).__name__ == "QueuedLogHandler"]:
            logger.removeHandler(old)  # left by an earlier load that failed half way
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return handler


def _our_threads() -> list[str]:
    """Threads the queue starts (the pyttsx3 engine thread lives as long as OBS, by design)."""
    return [t.name for t in threading.enumerate() if t.name.startswith("tts-") and t.name != "tts-pyttsx3"]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
