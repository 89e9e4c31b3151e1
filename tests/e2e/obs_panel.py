"""Edit a field of a script's properties panel in OBS (Tools > Scripts), found by its label.

OBS's properties panel is a Qt form inside a scroll area: its widgets have no stable
coordinates and are not X windows that xdotool could find. Qt describes them to screen
readers over AT-SPI, though (a D-Bus protocol): role, name, position on the screen and
the text of edit fields. So the test runs OBS on a private D-Bus session bus
(``AccessibilityBus``) with Qt's accessibility bridge switched on, finds the field and
the panel's scroll bar through AT-SPI (``ScriptPanel``), and then edits the field as a
streamer does, with xdotool: wheel, click, keys. OBS calls the script's
``script_update`` itself, once per keystroke.

Facts this relies on (Qt 5.15 in Debian's OBS 29):

- Qt registers OBS on the AT-SPI bus when ``org.a11y.Bus`` appears on the session bus
  while OBS runs; when the AT-SPI bus is already there as OBS starts, Qt connects to it
  but never registers. So the session bus starts before OBS, and the AT-SPI bus
  (``AccessibilityBus.connect``) only once OBS runs.
- ``org.freedesktop.DBus.Properties.GetAll`` on a Qt accessible crashes OBS (SIGSEGV in
  Qt's AT-SPI adaptor): properties are read one at a time with ``Get``.
- A form row's field carries its group's title as its name; its label is a separate
  accessible, the field's previous sibling.

D-Bus calls go through jeepney (pure Python, blocking I/O; a dev dependency); the test
also needs the dbus-daemon and at-spi2-core packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jeepney import DBusAddress, HeaderFields, Message, Properties, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse, unwrap_msg
from obs_harness import HarnessError
from obs_ui import POLL_SECONDS, ObsUi

AT_SPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
ACCESSIBLE = "org.a11y.atspi.Accessible"
ROOT = "/org/a11y/atspi/accessible/root"
STATE_FOCUSED = 12  # AtspiStateType
STATE_CHECKED = 4
WHEEL_UP, WHEEL_DOWN = "4", "5"

# -- D-Bus: blocking method calls through jeepney ---------------------------------------------------

CALL_TIMEOUT = 10.0  # seconds a D-Bus call (or signing in to a bus) may take


class DBusError(HarnessError):
    """A D-Bus call was answered with an error, got no answer in time, or the bus went away."""


def _reply(bus: DBusConnection, message: Message) -> tuple[Any, ...]:
    """Send the method call ``message`` on ``bus``; the reply's values, or DBusError."""
    header = message.header.fields
    what = f"{header[HeaderFields.interface]}.{header[HeaderFields.member]} on " \
           f"{header[HeaderFields.destination]} {header[HeaderFields.path]}"
    try:
        return tuple(unwrap_msg(bus.send_and_get_reply(message, timeout=CALL_TIMEOUT)))
    except DBusErrorResponse as exc:
        raise DBusError(f"{what}: {exc}") from exc
    except (TimeoutError, ConnectionError) as exc:
        raise DBusError(f"{what}: no answer on the D-Bus connection ({exc!r})") from exc


# -- the private session bus -----------------------------------------------------------------------


def missing_for_panel() -> list[str]:
    """What the panel tests need that is not installed."""
    missing = [] if shutil.which("dbus-daemon") else ["dbus-daemon"]
    return missing + ([] if Path(AT_SPI_LAUNCHER).exists() else ["at-spi2-core"])


class AccessibilityBus:
    """A private D-Bus session bus (its socket, log and runtime folder in ``workdir``)
    that activates the AT-SPI bus launcher of at-spi2-core on demand. OBS gets
    ``env()``; once OBS runs, ``connect()`` starts the launcher and returns a
    connection to the AT-SPI bus. Stopping the session bus ends the launcher, its bus
    and the registry daemon (they exit when their session bus goes)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.address = ""
        self._daemon: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> AccessibilityBus:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        runtime = self.workdir / "runtime"
        runtime.mkdir(parents=True, mode=0o700, exist_ok=True)
        env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}  # where the launcher puts the AT-SPI bus
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        read_fd, write_fd = os.pipe()
        log = (self.workdir / "dbus.log").open("wb")
        try:
            self._daemon = subprocess.Popen(
                ["dbus-daemon", "--session", "--nofork", f"--address=unix:path={self.workdir / 'bus'}",
                 f"--print-address={write_fd}"],
                pass_fds=(write_fd,), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            os.close(write_fd)
            log.close()
        with os.fdopen(read_fd, "rb") as pipe:  # one line once it listens; EOF if it died
            self.address = pipe.readline().decode().strip()
        if not self.address:
            self.stop()
            raise HarnessError(f"dbus-daemon did not start; see {self.workdir / 'dbus.log'}")

    def env(self) -> dict[str, str]:
        """OBS's environment: this session bus, and Qt's AT-SPI bridge on without a screen reader."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.address, "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1"}

    def connect(self) -> DBusConnection:
        """A connection to the AT-SPI bus; the first call starts its launcher."""
        a11y_bus = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
        with open_dbus_connection(bus=self.address, auth_timeout=CALL_TIMEOUT) as session:
            (address,) = _reply(session, new_method_call(a11y_bus, "GetAddress"))
        return open_dbus_connection(bus=str(address), auth_timeout=CALL_TIMEOUT)

    def stop(self) -> None:
        if self._daemon is None:
            return
        self._daemon.terminate()
        try:
            self._daemon.wait(10)
        except subprocess.TimeoutExpired:
            self._daemon.kill()
            self._daemon.wait(10)
        self._daemon = None


# -- AT-SPI ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One accessible object: ``app`` (its application's bus name) and ``path``."""

    bus: DBusConnection
    app: str
    path: str

    def _address(self, interface: str) -> DBusAddress:
        return DBusAddress(self.path, bus_name=self.app, interface=interface)

    def _call(self, interface: str, member: str, signature: str | None = None, *args: Any) -> tuple[Any, ...]:
        return _reply(self.bus, new_method_call(self._address(interface), member, signature, args))

    def _get(self, interface: str, name: str) -> Any:
        """One property, read with ``Get`` (``GetAll`` crashes OBS)."""
        ((_signature, value),) = _reply(self.bus, Properties(self._address(interface)).get(name))
        return value

    @property
    def name(self) -> str:
        return str(self._get(ACCESSIBLE, "Name"))

    @property
    def role(self) -> str:
        """AT-SPI's role name: "label", "text", "scroll bar", "dialog", ..."""
        return str(self._call(ACCESSIBLE, "GetRoleName")[0])

    def children(self) -> list[Node]:
        return [Node(self.bus, app, path) for app, path in self._call(ACCESSIBLE, "GetChildren")[0]]

    def states(self) -> set[int]:
        """AtspiStateType numbers set for this object (e.g. STATE_FOCUSED)."""
        words = self._call(ACCESSIBLE, "GetState")[0]
        return {32 * n + bit for n, word in enumerate(words) for bit in range(32) if word >> bit & 1}

    def extents(self) -> tuple[int, int, int, int]:
        """(x, y, width, height) on the screen (also for a part scrolled out of view)."""
        x, y, width, height = self._call("org.a11y.atspi.Component", "GetExtents", "u", 0)[0]
        return int(x), int(y), int(width), int(height)

    def text(self) -> str:
        """The whole text of an edit field."""
        count = int(self._get("org.a11y.atspi.Text", "CharacterCount"))
        return str(self._call("org.a11y.atspi.Text", "GetText", "ii", 0, count)[0])

    def walk(self) -> Iterator[tuple[Node, Node | None]]:
        """(node, its parent) for this node (parent None) and everything under it, depth first."""
        stack: list[tuple[Node, Node | None]] = [(self, None)]
        while stack:
            node, parent = stack.pop()
            yield node, parent
            stack.extend((child, node) for child in reversed(node.children()))


def _poll(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def _first(found: Callable[[], list[Node]], timeout: float) -> Node | None:
    """The first of what ``found()`` returns, polled until it returns something."""
    deadline = time.monotonic() + timeout
    while not (nodes := found()):
        if time.monotonic() > deadline:
            return None
        time.sleep(POLL_SECONDS)
    return nodes[0]


class ScriptPanel:
    """The properties panel of the script selected in Tools > Scripts: fields found by
    their label through AT-SPI, edited with xdotool.

    Parameters: ``ui`` (the ObsUi of the running OBS), ``a11y`` (a connection to its
    AT-SPI bus, ``AccessibilityBus.connect``). Every step waits on what AT-SPI reports
    (the dialog exists, the field moved into view, has the focus, holds the text) and
    repeats an input that did not take."""

    def __init__(self, ui: ObsUi, a11y: DBusConnection) -> None:
        self.ui = ui
        self.a11y = a11y
        self._app: Node | None = None

    # -- finding ---------------------------------------------------------------------------------------

    def app(self, timeout: float = 20.0) -> Node:
        """OBS's application object (the registry lists the applications that registered)."""
        if self._app is None:
            registry = Node(self.a11y, "org.a11y.atspi.Registry", ROOT)
            app = _first(registry.children, timeout)
            if app is None:
                raise HarnessError(f"OBS did not register on the AT-SPI bus within {timeout} s")
            self._app = Node(self.a11y, app.app, ROOT)
        return self._app

    def dialog(self, timeout: float = 10.0) -> Node:
        """The Scripts dialog (an application's top-level windows are its children)."""
        dialog = _first(lambda: [w for w in self.app().children() if w.name == "Scripts"], timeout)
        if dialog is None:
            raise HarnessError(f"no Scripts dialog on the AT-SPI bus within {timeout} s")
        return dialog

    def open(self, script: str, label: str, attempts: int = 4) -> None:
        """Tools > Scripts, click the script called ``script`` in its list, wait until its
        panel shows a row labelled ``label``."""
        for _ in range(attempts):
            self.ui.open_scripts()
            item = _first(lambda: [n for n, _ in self.dialog().walk() if n.role == "list item"
                                   and n.name == script], 10.0)
            if item is None:
                raise HarnessError(f"{script} is not in the list of Tools > Scripts")
            x, y, width, height = item.extents()
            self.ui.focus(self.ui.wait_window("Scripts"))
            self._click(x + width // 2, y + height // 2)
            if _poll(lambda: self._find(label) is not None, 5.0):
                return
        raise HarnessError(f"the panel of {script} never showed a row labelled {label!r} "
                           f"(see {self.screenshot('panel-open-failed')})")

    def field(self, label: str) -> Node:
        """The field of the row labelled ``label`` (the label's text starts with it)."""
        found = self._find(label)
        if found is None:
            raise HarnessError(f"no field labelled {label!r} in the script's panel")
        return found[0]

    def _find(self, label: str) -> tuple[Node, list[Node]] | None:
        """(field, its ancestors nearest first) of the row labelled ``label``, or None."""
        parents: dict[str, Node | None] = {}
        for node, parent in self.dialog().walk():
            parents[node.path] = parent
            if parent is None or node.role != "label" or not node.name.startswith(label):
                continue
            siblings = parent.children()
            after = siblings.index(node) + 1  # a form row: the label, then its field
            if after == len(siblings):
                continue
            field = siblings[after]
            ancestors: list[Node] = []
            up: Node | None = parent
            while up is not None:
                ancestors.append(up)
                up = parents[up.path]
            return field, ancestors
        return None

    def scroll_bar(self, label: str) -> Node:
        """The vertical scroll bar of the panel that holds the row labelled ``label``: the
        scroll area is the nearest ancestor with a visible vertical scroll bar beside
        the part that holds the field."""
        found = self._find(label)
        if found is None:
            raise HarnessError(f"no field labelled {label!r} in the script's panel")
        _, ancestors = found
        for ancestor in ancestors:
            for child in ancestor.children():
                if child in ancestors:
                    continue
                for bar in child.children():
                    _, _, width, height = bar.extents()
                    if bar.role == "scroll bar" and 0 < width < height:
                        return bar
        raise HarnessError(f"no scroll bar around the field labelled {label!r}")

    # -- editing ---------------------------------------------------------------------------------------

    def focus_field(self, label: str, attempts: int = 4) -> Node:
        """Scroll the row labelled ``label`` into view (mouse wheel over the panel's scroll
        bar), click into its field and wait until the field has the keyboard focus."""
        field = self.field(label)
        for _ in range(attempts):
            x, y = self._scroll_into_view(field, self.scroll_bar(label))
            self.ui.focus(self.ui.wait_window("Scripts"))
            self._click(x, y)
            if _poll(lambda: STATE_FOCUSED in field.states(), 3.0):
                return field
        raise HarnessError(f"the field labelled {label!r} never got the focus "
                           f"(see {self.screenshot('panel-focus-failed')})")

    def type_into(self, field: Node, text: str, settled: Callable[[str], None], attempts: int = 3) -> None:
        """Type ``text`` into the focused ``field`` one key at a time: after each key, wait
        until the field holds the text so far (press the key again if it did not arrive),
        then call ``settled(text so far)``, which waits for what that edit causes."""
        for n, char in enumerate(text, 1):
            before, expected = text[:n - 1], text[:n]
            for _ in range(attempts):
                self.ui.xdotool("type", "--delay", "0", "--", char)
                if _poll(lambda e=expected: field.text() == e, 3.0):
                    break
                if field.text() != before:
                    raise HarnessError(f"typed {char!r} after {before!r}; the field holds {field.text()!r}")
            else:
                raise HarnessError(f"the key {char!r} never reached the field "
                                   f"(see {self.screenshot('panel-typing-failed')})")
            settled(expected)

    def click_check_box(self, text: str, near_label: str, attempts: int = 4) -> bool:
        """Click the checkbox showing ``text`` (in the part of the panel that scrolls with the
        row labelled ``near_label``) and wait until its tick flips; returns it ticked now."""
        box = _first(lambda: [n for n, _ in self.dialog().walk() if n.role == "check box" and n.name == text],
                     5.0)
        if box is None:
            raise HarnessError(f"no checkbox {text!r} in the script's panel")
        ticked = STATE_CHECKED in box.states()
        for _ in range(attempts):
            x, y = self._scroll_into_view(box, self.scroll_bar(near_label))
            self.ui.focus(self.ui.wait_window("Scripts"))
            _, _, width, _ = box.extents()
            self._click(x - width // 2 + 8, y)  # the box itself, at the row's left
            if _poll(lambda: (STATE_CHECKED in box.states()) != ticked, 3.0):
                return not ticked
        shot = self.screenshot("panel-check-failed")
        raise HarnessError(f"the checkbox {text!r} did not change (see {shot})")

    def _scroll_into_view(self, field: Node, bar: Node, steps: int = 200) -> tuple[int, int]:
        """Wheel over the scroll bar until a point near the field's top is in the scroll
        area (the bar spans exactly its height); that point on the screen."""
        bx, by, bw, bh = bar.extents()
        self.ui.move(bx + bw // 2, by + bh // 2)
        for _ in range(steps):
            fx, fy, fw, fh = field.extents()
            x, y = fx + fw // 2, fy + min(fh // 2, 16)
            if by + 4 <= y <= by + bh - 4:
                return x, y
            self.ui.xdotool("click", WHEEL_UP if y < by else WHEEL_DOWN)
            _poll(lambda old=fy: field.extents()[1] != old, 1.0)  # else wheel again
        shot = self.screenshot("panel-scroll-failed")
        raise HarnessError(f"could not scroll the field into view (see {shot})")

    def _click(self, x: int, y: int) -> None:
        self.ui.click(x, y)

    def screenshot(self, name: str) -> Path:
        """The screen as ``name``.png in OBS's working folder."""
        return self.ui.screenshot(self.ui.obs.workdir / f"{name}.png")
