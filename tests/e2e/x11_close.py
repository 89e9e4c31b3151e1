"""Close an X11 window as a streamer does when they click its close button: a
WM_DELETE_WINDOW client message (ICCCM), sent with libX11 through ctypes.

Why not SIGINT: OBS 29's SIGINT handler closes the main window from inside the signal
handler, which deadlocks when the signal lands while the main thread holds a lock
(obs_harness._sigint_deadlock). The client message reaches Qt's event loop like a click
on the title bar's X, so OBS runs the same close (save the collection, unload scripts,
exit) from its main loop. There is no window manager under Xvfb; Qt handles the message
itself. xdotool has no command for it (``windowclose`` destroys the window).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import subprocess

CLIENT_MESSAGE = 33  # X.h
NO_EVENT_MASK = 0
CURRENT_TIME = 0


class _ClientMessageData(ctypes.Union):
    _fields_ = [("b", ctypes.c_char * 20), ("s", ctypes.c_short * 10), ("l", ctypes.c_long * 5)]


class _XClientMessageEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("message_type", ctypes.c_ulong),
        ("format", ctypes.c_int),
        ("data", _ClientMessageData),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _XClientMessageEvent), ("pad", ctypes.c_long * 24)]


def _libx11() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        x11 = ctypes.CDLL(name)
    except OSError:
        return None
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.restype = ctypes.c_int
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                               ctypes.POINTER(_XEvent)]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    return x11


def find_window(display: int, title_pattern: str) -> int | None:
    """The id of the mapped window whose name matches ``title_pattern`` (xdotool), or None."""
    try:
        done = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title_pattern],
                              env={"DISPLAY": f":{display}"}, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    ids = done.stdout.split()
    return int(ids[0]) if ids else None


def request_close(display: int, window: int) -> bool:
    """Send WM_DELETE_WINDOW to ``window`` on ``:display``; False if it could not be sent."""
    x11 = _libx11()
    if x11 is None:
        return False
    dpy = x11.XOpenDisplay(f":{display}".encode())
    if not dpy:
        return False
    try:
        event = _XEvent()
        event.xclient.type = CLIENT_MESSAGE
        event.xclient.window = window
        event.xclient.message_type = x11.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data.l[0] = x11.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
        event.xclient.data.l[1] = CURRENT_TIME
        sent = x11.XSendEvent(dpy, window, 0, NO_EVENT_MASK, ctypes.byref(event))
        x11.XFlush(dpy)
        return bool(sent)
    finally:
        x11.XCloseDisplay(dpy)
