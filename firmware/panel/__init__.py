"""The front panel: LED patterns derived from the box's state, and what the buttons do
(DESIGN.md: the panel reads engine state and drives the HAL's LEDs; the engine never
calls it). For office staff and installers: docs/panel.md.

    layout      the board config's LEDs and buttons, under the HAL panel's names
    patterns    each LED's pattern as a pure function of the box's state
    reading     the box's state, read from the engine, SIP, the apps and the HAL
    taps        the analog lines and the DECT base, telling the panel when to look again
    holds       how long a button is held: marks passed, releases (sans-I/O)
    actions     what the buttons do: night mode, DECT paging and pairing, factory reset
    front       `FrontPanel`, on the loop: looks again when poked, acts on gestures
"""

from __future__ import annotations

from firmware.panel.actions import ButtonActions
from firmware.panel.front import FrontPanel
from firmware.panel.layout import PanelLayout, panel_layout
from firmware.panel.reading import Sources
from firmware.panel.taps import TappedDectBase, TappedLine

__all__ = ["ButtonActions", "FrontPanel", "PanelLayout", "Sources", "TappedDectBase",
           "TappedLine", "panel_layout"]
