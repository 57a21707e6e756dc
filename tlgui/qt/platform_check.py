"""Plain advice, before Qt aborts, when a Linux desktop lacks what Qt's xcb plugin needs."""

import ctypes.util
import os
import sys

# Libraries Qt 6's xcb platform plugin loads that minimal Linux installs often lack.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
}


def display_problem() -> str | None:
    """Why the app cannot open a window here, with the fix; None when it can."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return ("no display found (DISPLAY and WAYLAND_DISPLAY are unset). Run tlgui on a "
                "desktop, under xvfb-run, or use the command-line subcommands (tlgui --help).")
    if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return None
    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    if missing:
        return ("Qt's X11 plugin needs system libraries that are missing. On Debian or Ubuntu: "
                f"sudo apt-get install {' '.join(missing)}")
    return None
