"""The office config: site, analog line settings and extensions (office.toml).

The schema checks each value (with a board in the validation context, that each device and
port exists on it); `_office_checks` checks what involves several: the order of the hook
timings, duplicate extension numbers and numbers that are the start of others, a device in
two extensions. `office_to_toml` writes an office back as TOML that reads back equal.
"""

from __future__ import annotations

import difflib
import itertools
import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from firmware.config.board import BoardConfig, sorted_devices
from firmware.config.callflow import call_flow_checks, call_flow_toml
from firmware.config.destinations import target_checks
from firmware.config.features import FeaturesConfig, feature_checks
from firmware.config.files import with_office_files
from firmware.config.groups import GroupConfig
from firmware.config.hours import HoursConfig, ScheduleConfig
from firmware.config.lines import FxoLineConfig, FxoPort
from firmware.config.menus import MenuConfig
from firmware.config.model import Model, context_of, run_checks, validate
from firmware.config.problems import ConfigError, Issue, fail, reject
from firmware.config.queues import (
    EscalationConfig,
    QueueConfig,
    escalation_to_toml,
    queue_checks,
    queues_to_toml,
)
from firmware.config.reading import parse_toml, read_text
from firmware.config.sip import Secret, SipConfig
from firmware.config.tomlkeys import KeyPath, format_key, lookup, tables, toml_value
from firmware.config.trunk import RouteConfig, TrunkConfig, trunk_checks
from firmware.config.voicemail import Pin, VoicemailConfig, voicemail_checks

__all__ = [
    "COUNTRIES",
    "AnalogConfig",
    "Country",
    "DebounceMs",
    "Device",
    "ExtensionConfig",
    "LineOverride",
    "LineSettings",
    "Ms",
    "OfficeConfig",
    "PortKey",
    "Seconds",
    "SiteConfig",
    "default_office",
    "load_office",
    "office_to_toml",
    "parse_office",
]

COUNTRIES = ("us", "uk", "de", "fr")  # the tone plans the firmware has
Country = Literal["us", "uk", "de", "fr"]


_NUMBER = re.compile(r"[0-9]{2,6}")
_DEVICE = re.compile(r"(fxs|dect):([1-9][0-9]*)|sip")


def _check_number(value: str) -> str:
    example = 'number = "102"'
    if value[:1] in ("*", "#"):
        raise fail(f"{value!r} starts with {value[0]!r}: numbers starting with * or # are "
                   "feature codes (*72 forward, ## transfer)", f"use digits only, e.g. {example}")
    if not value.isascii() or not value.isdigit():
        raise fail(f"{value!r} is not a number", f"use digits only, e.g. {example}")
    if not _NUMBER.fullmatch(value):
        raise fail(f"{value!r} has {len(value)} digits; extension numbers have 2 to 6",
                   f"use 2 to 6 digits, e.g. {example}")
    return value


def _check_name(value: str) -> str:
    if not value.isprintable():
        raise fail(f"{value!r} contains a control character (tab, newline ...)",
                   'use plain text, e.g. name = "Front desk"')
    return value


def _check_device(value: str, info: ValidationInfo) -> str:
    if _DEVICE.fullmatch(value) is None:
        guess = re.sub(r"^([a-z]+)[\s:_-]*(\d+)$", r"\1:\2", value.strip().lower())
        hint = f'did you mean "{guess}"? ' if _DEVICE.fullmatch(guess) else ""
        if guess.startswith("fxo"):
            reject(f"{value!r} is the phone line (trunk) port, not a phone",
                   'give extensions phones: "fxs:N", "dect:N" or "sip"')
        reject(f"{value!r} is not a device",
               f'{hint}devices are "fxs:N" (analog port), "dect:N" (DECT handset slot) '
               'or "sip"')
    board = context_of(info).get("board")
    if isinstance(board, BoardConfig) and value != "sip" and value not in board.device_names():
        have = ", ".join(n for n in sorted_devices(board.device_names()) if n[:3] != "fxo")
        reject(f"the board has no {value} ({board.source} has {have or 'no phone ports'})",
               f"use one of: {have}, sip" if have else 'use "sip" or fix the board config')
    return value


def _check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(value, sorted(zoneinfo.available_timezones()), n=1)
        fix = 'use an IANA time zone name, e.g. timezone = "Europe/Berlin"'
        if close:
            fix = f'did you mean timezone = "{close[0]}"? ({fix})'
        raise fail(f"{value!r} is not a known time zone", fix) from None
    return value


def _check_port_key(value: str, info: ValidationInfo) -> str:
    if not re.fullmatch(r"fxs:[1-9][0-9]*", value):
        reject(f"{value!r} is not an FXS port name; overrides are for analog phone ports",
               'name the port like [analog.port."fxs:2"] (with the quotes)')
    board = context_of(info).get("board")
    if isinstance(board, BoardConfig) and value not in board.device_names():
        ports = [n for n in sorted_devices(board.device_names()) if n.startswith("fxs")]
        reject(f"the board has no {value} ({board.source} has {', '.join(ports) or 'none'})",
               "override one of the board's FXS ports, or remove this table")
    return value


Ms = Annotated[StrictInt, Field(gt=0, le=5000)]
Seconds = Annotated[float, Field(strict=True, gt=0, le=3600)]
DebounceMs = Annotated[StrictInt, Field(ge=0, le=1000)]
# The hook timings, in the order they must be (see REFERENCE.md, "Hook switch at an FXS port").
_HOOK_ORDER = ("debounce_ms", "pulse_max_ms", "flash_min_ms", "flash_max_ms")


class LineSettings(Model):
    """The settings of one FXS line (the [analog] defaults merged with its override)."""

    debounce_ms: DebounceMs = Field(15, description="on-hook shorter than this is bounce")
    pulse_max_ms: Ms = Field(100, description="on-hook shorter than this is a dial pulse")
    flash_min_ms: Ms = Field(100, description="on-hook from this long is a hook-flash")
    flash_max_ms: Ms = Field(900, description="on-hook from this long is a hang-up")
    pulse_digit_gap_ms: Ms = Field(250, description="off-hook this long ends a pulse digit")
    first_digit_timeout_s: Seconds = Field(15.0, description="no digit this long -> reorder")
    interdigit_timeout_s: Seconds = Field(4.0, description="after the last digit, dial it")
    reorder_s: Seconds = Field(30.0, description="reorder this long, then the howler")
    ring_timeout_s: Seconds = Field(30.0, description="an unanswered call stops ringing")
    callerid: bool = Field(True, strict=True, description="send caller ID to this line")
    call_waiting: bool = Field(True, strict=True,
                               description="a second call beeps instead of getting busy")
    flash_style: Literal["us", "r-key"] = Field(
        "us", description='"r-key": R then 1-4 picks what to do with two calls')


class LineOverride(Model):
    """[analog.port."fxs:N"]: any key of [analog], for one port."""

    debounce_ms: DebounceMs | None = None
    pulse_max_ms: Ms | None = None
    flash_min_ms: Ms | None = None
    flash_max_ms: Ms | None = None
    pulse_digit_gap_ms: Ms | None = None
    first_digit_timeout_s: Seconds | None = None
    interdigit_timeout_s: Seconds | None = None
    reorder_s: Seconds | None = None
    ring_timeout_s: Seconds | None = None
    callerid: Annotated[bool, Field(strict=True)] | None = None
    call_waiting: Annotated[bool, Field(strict=True)] | None = None
    flash_style: Literal["us", "r-key"] | None = None


PortKey = Annotated[StrictStr, AfterValidator(_check_port_key)]
Device = Annotated[StrictStr, AfterValidator(_check_device)]


class AnalogConfig(LineSettings):
    """[analog]: defaults for every FXS line, and per-port overrides."""

    port: dict[PortKey, LineOverride] = Field(default_factory=dict)


class SiteConfig(Model):
    country: Country = "us"
    timezone: Annotated[StrictStr, AfterValidator(_check_timezone)] = "UTC"
    name: Annotated[StrictStr, Field(min_length=1, max_length=80),
                    AfterValidator(_check_name)] | None = None


class ExtensionConfig(Model):
    number: Annotated[StrictStr, AfterValidator(_check_number)]
    name: Annotated[StrictStr, Field(min_length=1, max_length=40), AfterValidator(_check_name)]
    devices: Annotated[tuple[Device, ...], Field(min_length=1)]
    secret: Secret | None = None  # SIP password; generated at first boot when left out
    # *8 answers a phone ringing at an extension of the same group (everyone, by default).
    pickup_group: Annotated[StrictStr, Field(pattern=r"^[a-z0-9_-]{1,32}$")] = "office"
    # A mailbox: unanswered and busy calls leave a message (firmware.apps.voicemail).
    voicemail: bool = Field(False, strict=True)
    pin: Pin | None = None  # the mailbox's; without one, only the extension's own phones


class OfficeConfig(Model):
    """The office: site, analog line settings and extensions (office.toml)."""

    site: SiteConfig = Field(default_factory=SiteConfig)
    analog: AnalogConfig = Field(default_factory=AnalogConfig)
    sip: SipConfig = Field(default_factory=SipConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    extensions: tuple[ExtensionConfig, ...] = Field(default=(), alias="extension")
    trunks: tuple[TrunkConfig, ...] = Field(default=(), alias="trunk")
    routes: tuple[RouteConfig, ...] = Field(default=(), alias="route")
    # Call flows (firmware.config.callflow): menus, ring groups, hours, phone lines.
    menus: tuple[MenuConfig, ...] = Field(default=(), alias="menu")
    groups: tuple[GroupConfig, ...] = Field(default=(), alias="group")
    hours: HoursConfig = Field(default_factory=HoursConfig)
    schedules: tuple[ScheduleConfig, ...] = Field(default=(), alias="schedule")
    fxo: dict[FxoPort, FxoLineConfig] = Field(default_factory=dict)
    voicemail: VoicemailConfig = Field(default_factory=VoicemailConfig)
    queues: tuple[QueueConfig, ...] = Field(default=(), alias="queue")
    escalation: EscalationConfig | None = None  # manager-callback promises

    def extension(self, number: str) -> ExtensionConfig | None:
        return next((e for e in self.extensions if e.number == number), None)

    def trunk(self, name: str) -> TrunkConfig | None:
        return next((t for t in self.trunks if t.name == name), None)

    def line_settings(self, port: str) -> LineSettings:
        """The [analog] defaults merged with the override for `port` (e.g. 'fxs:2')."""
        merged = self.analog.model_dump(exclude={"port"})
        override = self.analog.port.get(port)
        if override is not None:
            merged.update(override.model_dump(exclude_none=True))
        return LineSettings.model_validate(merged)

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> OfficeConfig:
        run_checks(self, info, _office_checks)
        return self


def _office_checks(data: Mapping[str, Any]) -> list[Issue]:
    """Checks that involve more than one value of an office config."""
    return _hook_order(data) + _number_checks(data) + _device_checks(data) + trunk_checks(data) \
        + feature_checks(data) + target_checks(data) + call_flow_checks(data) \
        + voicemail_checks(data) + queue_checks(data)


def _valid(model: type[BaseModel], key: str, value: object) -> bool:
    try:
        model.model_validate({key: value})
    except ValidationError:
        return False
    return True


def _hook_order(data: Mapping[str, Any]) -> list[Issue]:
    analog = data.get("analog")
    if not isinstance(analog, Mapping):
        return []
    defaults = {k: LineSettings.model_fields[k].default for k in _HOOK_ORDER}
    base = {k: analog[k] for k in _HOOK_ORDER if k in analog}
    issues = _order_issues(("analog",), defaults | base, set(base))
    ports = analog.get("port")
    for name, table in ports.items() if isinstance(ports, Mapping) else ():
        if isinstance(table, Mapping):
            own = {k: table[k] for k in _HOOK_ORDER if k in table}
            issues += _order_issues(("analog", "port", name), defaults | base | own, set(own))
    return issues


def _order_issues(path: KeyPath, values: Mapping[str, Any], written: set[str]) -> list[Issue]:
    """debounce_ms < pulse_max_ms <= flash_min_ms < flash_max_ms, blamed on a written key."""
    if not all(_valid(LineOverride, k, values[k]) for k in _HOOK_ORDER):
        return []  # a bad value is reported on its own
    fix = ("keep debounce_ms < pulse_max_ms <= flash_min_ms < flash_max_ms "
           "(defaults 15 < 100 <= 100 < 900)")
    why = {
        "pulse_max_ms": "an on-hook would be bounce and dial pulse at once",
        "flash_min_ms": "an on-hook would be a dial pulse and a hook-flash at once",
        "flash_max_ms": "no on-hook would ever count as a hook-flash",
    }
    for low, high in itertools.pairwise(_HOOK_ORDER):
        a, b = values[low], values[high]
        bad = a > b if high == "flash_min_ms" else a >= b
        if bad and (low in written or high in written):
            blamed = high if high in written else low
            word = "at least" if high == "flash_min_ms" else "greater than"
            msg = f"{high} ({b}) must be {word} {low} ({a}): {why[high]}"
            return [Issue((*path, blamed), msg, fix)]
    return []


def _numbers(data: Mapping[str, Any]) -> list[tuple[KeyPath, str]]:
    out = []
    for path, ext in tables(data, "extension"):
        number = ext.get("number")
        if isinstance(number, str) and _NUMBER.fullmatch(number):
            out.append(((*path, "number"), number))
    return out


def _number_checks(data: Mapping[str, Any]) -> list[Issue]:
    issues = []
    numbers = _numbers(data)
    first: dict[str, KeyPath] = {}
    for path, number in numbers:
        if number in first:
            issues.append(Issue(path, f"extension {number} is defined twice (also at "
                                f"{format_key(first[number])})",
                                "give each extension its own number"))
            continue
        first[number] = path
    for short, path in first.items():
        longer = sorted(n for n in first if n != short and n.startswith(short))
        if longer:
            issues.append(Issue(
                path, f"extension {short} is the start of {', '.join(longer)}: whoever dials "
                f"{short} always waits {_wait_text(data)} for the inter-digit timeout, because "
                "the box cannot tell whether more digits follow",
                "renumber so that no number begins with another"
                + _free_number(short, len(longer[0]), set(first) - {short})))
    return issues


def _free_number(short: str, length: int, used: set[str]) -> str:
    """', e.g. number = "100"' if some number of `length` digits starting with `short` fits."""
    for tail in range(min(10 ** (length - len(short)), 1000)):
        candidate = short + str(tail).zfill(length - len(short))
        if not any(candidate.startswith(u) or u.startswith(candidate) for u in used):
            return f', e.g. number = "{candidate}"'
    return ""


def _wait_text(data: Mapping[str, Any]) -> str:
    value = lookup(data, ("analog", "interdigit_timeout_s"))
    if not _valid(LineOverride, "interdigit_timeout_s", value) or value is None:
        value = LineSettings.model_fields["interdigit_timeout_s"].default
    return f"{value:g} s"


def _device_checks(data: Mapping[str, Any]) -> list[Issue]:
    issues = []
    owner: dict[str, KeyPath] = {}
    for path, ext in tables(data, "extension"):
        devices = ext.get("devices")
        if not isinstance(devices, list | tuple):
            continue
        seen_here: set[str] = set()
        for j, device in enumerate(devices):
            if not isinstance(device, str) or not _DEVICE.fullmatch(device):
                continue
            where = (*path, "devices", j)
            if device in seen_here:
                issues.append(Issue(where, f"{device} is listed twice in this extension",
                                    "list each device once"))
            elif device != "sip" and device in owner:
                other = lookup(data, (*owner[device], "number"))
                issues.append(Issue(
                    where, f"{device} already belongs to extension {other} "
                    f"({format_key(owner[device])}); a phone port or handset rings for one "
                    "extension only", f"remove {device} from one of the two extensions"))
            seen_here.add(device)
            if device != "sip":
                owner.setdefault(device, path)
    return issues


def parse_office(text: str, source: str, board: BoardConfig | None = None) -> OfficeConfig:
    """An office config from TOML text; with `board`, devices and ports must exist on it."""
    text = text.removeprefix("\ufeff")
    data = parse_toml(text, source)
    return validate(OfficeConfig, data, text, source, _office_checks(data), {"board": board})


def load_office(path: Path, board: BoardConfig | None = None) -> OfficeConfig:
    """Read and validate an office config file. Raises ConfigError."""
    text, problems = read_text(path)
    if text is None:
        raise ConfigError(problems)
    office = parse_office(text, str(path), board)
    features = with_office_files(office.features, path, text)
    return office.model_copy(update={"features": features})


def default_office(board: BoardConfig) -> OfficeConfig:
    """The built-in office: extension 101, 102, ... on the board's FXS ports in order."""
    ports = sorted(p.port for p in board.fxs)
    data = {
        "site": {"country": "us", "timezone": "UTC"},
        "extension": [
            {"number": str(101 + i), "name": f"Extension {101 + i}", "devices": [f"fxs:{p}"]}
            for i, p in enumerate(ports)
        ],
    }
    text = f"# built-in default office for {board.name}\n"
    return validate(OfficeConfig, data, text, "the default office", _office_checks(data),
                    {"board": board})


def _table_lines(table: Mapping[str, Any], comments: bool) -> list[str]:
    lines = []
    for key, value in table.items():
        if value is None or isinstance(value, Mapping):
            continue
        line = f"{format_key((key,))} = {toml_value(value)}"
        field = LineSettings.model_fields.get(key)
        if comments and field is not None and field.description:
            line = f"{line:<30}# {field.description}"
        lines.append(line)
    return lines


def office_to_toml(office: OfficeConfig) -> str:
    """The office as TOML that parse_office reads back to an equal OfficeConfig."""
    data = office.model_dump(by_alias=True)
    out = ["# Office configuration of the box; every key is described in docs/config.md.", ""]
    out += ["[site]", *_table_lines(data["site"], False), ""]
    out += ["[sip]", *_table_lines(data["sip"], False), ""]
    out += ["[features]", *_table_lines(data["features"], False), ""]
    out += ["[analog]", *_table_lines(data["analog"], True), ""]
    for port, override in data["analog"]["port"].items():
        out += [f"[{format_key(('analog', 'port', port))}]", *_table_lines(override, False), ""]
    for ext in data["extension"]:
        out += ["[[extension]]", *_table_lines(ext, False), ""]
    for trunk in data["trunk"]:
        out += ["[[trunk]]", *_table_lines(trunk, False), ""]
        if trunk["inbound"]:
            out += ["[trunk.inbound]", *_table_lines(trunk["inbound"], False), ""]
    for route in data["route"]:
        out += ["[[route]]", *_table_lines(route, False), ""]
    out += ["[voicemail]", *_table_lines(data["voicemail"], False), ""]
    out += call_flow_toml(data)
    out += queues_to_toml(data["queue"]) + escalation_to_toml(data["escalation"])
    return "\n".join(out).rstrip("\n") + "\n"
