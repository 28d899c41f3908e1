"""Schema and validation of the board config and the office config.

Both files are TOML checked by frozen pydantic models that forbid unknown keys. An installer
with a typo never sees a traceback: every problem becomes a `ConfigProblem` naming the file,
the key (e.g. `extension[2].devices[0]`), the line, what is wrong and how to fix it, and all
problems of a file are raised together in one `ConfigError`.

- `tomlkeys`: key paths, the line each is written on, values written as TOML
- `problems`: ConfigProblem, ConfigError, and issues located in the file
- `reading`: a file's text and its TOML syntax errors
- `explain`: pydantic's errors reworded for an installer
- `model`: the shared model base and the two-layer validation
- `board`: the board config (board-configs/*.toml)
- `office`: the office config (office.toml), its defaults and writing it back
- `sip`, `trunk`, `patterns`: [sip], [[trunk]] and [[route]], and routes' dial patterns
- `callflow`: [[menu]] (`menus`), [[group]] (`groups`), [hours] and [[schedule]] (`hours`),
  the phone lines [fxo."fxo:N"] (`lines`)
"""

from firmware.config.board import (
    AudioConfig,
    BoardConfig,
    ButtonConfig,
    DectConfig,
    FxoPortConfig,
    FxsPortConfig,
    LedConfig,
    load_board,
    parse_board,
)
from firmware.config.features import FeaturesConfig
from firmware.config.groups import GroupConfig
from firmware.config.hours import HoursConfig, OpeningHours, ScheduleConfig
from firmware.config.lines import FxoLineConfig
from firmware.config.menus import MenuConfig
from firmware.config.model import Pin, PortNumber
from firmware.config.office import (
    COUNTRIES,
    AnalogConfig,
    Country,
    DebounceMs,
    Device,
    ExtensionConfig,
    LineOverride,
    LineSettings,
    Ms,
    OfficeConfig,
    PortKey,
    Seconds,
    SiteConfig,
    default_office,
    load_office,
    office_to_toml,
    parse_office,
)
from firmware.config.patterns import DialPattern
from firmware.config.problems import ConfigError, ConfigProblem, format_problems
from firmware.config.sip import SipConfig
from firmware.config.tomlkeys import KeyPath, find_line, format_key, parse_key
from firmware.config.trunk import INTERNATIONAL_PREFIX, RouteConfig, TrunkConfig

__all__ = [
    "COUNTRIES",
    "INTERNATIONAL_PREFIX",
    "AnalogConfig",
    "AudioConfig",
    "BoardConfig",
    "ButtonConfig",
    "ConfigError",
    "ConfigProblem",
    "Country",
    "DebounceMs",
    "DectConfig",
    "Device",
    "DialPattern",
    "ExtensionConfig",
    "FeaturesConfig",
    "FxoLineConfig",
    "FxoPortConfig",
    "FxsPortConfig",
    "GroupConfig",
    "HoursConfig",
    "KeyPath",
    "LedConfig",
    "LineOverride",
    "LineSettings",
    "MenuConfig",
    "Ms",
    "OfficeConfig",
    "OpeningHours",
    "Pin",
    "PortKey",
    "PortNumber",
    "RouteConfig",
    "ScheduleConfig",
    "Seconds",
    "SipConfig",
    "SiteConfig",
    "TrunkConfig",
    "default_office",
    "find_line",
    "format_key",
    "format_problems",
    "load_board",
    "load_office",
    "office_to_toml",
    "parse_board",
    "parse_key",
    "parse_office",
]
