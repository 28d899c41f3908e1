"""Business hours and night mode on the virtual board (docs/apps.md): calls on the phone
line go to the day or the night destination by the office's hours and holidays; *28
switches night mode by hand, says so, shows it, and keeps it over a restart. The wall
clock is set and fast-forwarded with the loop (tests/integration/wallclock.py)."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from firmware.engine.channel import Cause, Channel, Party
from firmware.media.frames import Frame
from tests.integration.calls import lift_and_dial, office
from tests.integration.harness import Harness, running_box, wait
from tests.integration.prompts_heard import heard_prompt
from tests.integration.wallclock import set_wall_clock
from tools.phone.outside import OutsideLine

ZONE = ZoneInfo("America/Chicago")
WEDNESDAY = datetime.date(2025, 12, 17)
CHRISTMAS = datetime.date(2025, 12, 25)  # a Thursday, and a holiday

HOURS = '''
[hours]
open = ["mon-fri 09:00-17:00"]
holidays = ["2025-12-25", "2025-12-31..2026-01-01"]

[[schedule]]
name = "office"
day = "102"
night = "103"

[fxo."fxo:1"]
destination = "schedule:office"
'''


def hours_office(extra: str = "") -> str:
    return office().replace('timezone = "UTC"', 'timezone = "America/Chicago"') + HOURS + extra


def at(day: datetime.date, hh: int, mm: int = 0, ss: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hh, mm, ss), tzinfo=ZONE)


async def who_rings_for_a_call_in(box: Harness) -> str | None:
    """An outside caller rings the line; which of 102 (day) and 103 (night) rings."""
    phones = await box.phones("102", "103")
    before = [len((await p.status())["rings"]) for p in phones]
    line = await OutsideLine.find(box.client)
    await line.call("5125550199", "Customer")
    await wait(7)
    rung = [p.extension for p, n in zip(phones, before, strict=True)
            if len((await p.status())["rings"]) > n]
    await line.hang_up()
    await wait(9)
    assert len(rung) <= 1, rung
    return rung[0] if rung else None


async def night(box: Harness) -> bool:
    info = await box.client.request("info")
    return bool(info["published"]["apps"]["schedule"]["night"])


async def test_a_call_in_office_hours_goes_to_the_day_destination() -> None:
    async with running_box(hours_office()) as box:
        set_wall_clock(box, at(WEDNESDAY, 10))
        assert await who_rings_for_a_call_in(box) == "102"


async def test_a_call_after_hours_goes_to_the_night_destination() -> None:
    async with running_box(hours_office()) as box:
        set_wall_clock(box, at(WEDNESDAY, 18, 30))
        assert await who_rings_for_a_call_in(box) == "103"


async def test_a_holiday_is_closed_all_day() -> None:
    async with running_box(hours_office()) as box:
        set_wall_clock(box, at(CHRISTMAS, 10))
        assert await who_rings_for_a_call_in(box) == "103"
        set_wall_clock(box, at(datetime.date(2026, 1, 1), 11))  # the second of a range
        assert await who_rings_for_a_call_in(box) == "103"


async def test_night_comes_at_closing_time_and_shows() -> None:
    async with running_box(hours_office()) as box:
        set_wall_clock(box, at(WEDNESDAY, 16, 59, 30))
        await wait(1)
        assert not await night(box)
        await wait(40)  # 17:00:10
        assert await night(box)
        assert box.box.engine is not None
        assert box.box.engine.snapshot()["apps"]["schedule"]["open_by_hours"] is False


async def toggle(box: Harness, who: str = "101") -> list[str]:
    """`who` dials *28; the prompts heard."""
    phone = await box.phone(who)
    await lift_and_dial(phone, "*28")
    await wait(2)
    heard = await phone.recording(2.5)
    await phone.onhook()
    await wait(0.5)
    return [k for k in ("night-on", "day-on") if heard_prompt(heard, k)]


async def test_star_28_switches_night_mode_on_and_off_and_says_so() -> None:
    async with running_box(hours_office()) as box:
        set_wall_clock(box, at(WEDNESDAY, 10))
        assert await toggle(box) == ["night-on"]
        assert await night(box)
        assert await who_rings_for_a_call_in(box) == "103"
        assert await toggle(box) == ["day-on"]
        assert not await night(box)
        assert await who_rings_for_a_call_in(box) == "102"


async def test_night_mode_by_hand_lasts_until_the_hours_change() -> None:
    async with running_box(hours_office()) as box:
        set_wall_clock(box, at(WEDNESDAY, 15))  # leaving early
        await toggle(box)
        assert await night(box)
        await wait(2.5 * 3600)  # 17:30: night by the hours anyway
        assert await night(box)
        await wait(16 * 3600)  # Thursday 09:30: open again, by itself
        assert not await night(box)
        assert box.box.engine is not None
        assert box.box.engine.snapshot()["apps"]["schedule"]["override"] is None


async def test_night_mode_by_hand_survives_a_restart() -> None:
    state = Path(tempfile.mkdtemp(prefix="pbx-"))
    async with running_box(hours_office(), state_dir=state) as box:
        set_wall_clock(box, at(WEDNESDAY, 10))
        await toggle(box)
        assert await night(box)
    async with running_box(hours_office(), state_dir=state) as box:
        set_wall_clock(box, at(WEDNESDAY, 10, 5))
        assert await night(box)
        assert await who_rings_for_a_call_in(box) == "103"


async def test_until_toggled_keeps_night_mode_over_the_next_morning() -> None:
    async with running_box(hours_office().replace(
            'holidays = ["2025-12-25"', 'override = "until-toggled"\nholidays = ["2025-12-25"'),
            ) as box:
        set_wall_clock(box, at(WEDNESDAY, 15))
        await toggle(box)
        await wait(19 * 3600)  # Thursday 10:00
        assert await night(box)


async def test_only_office_phones_switch_night_mode() -> None:
    async with running_box(hours_office()) as box:
        set_wall_clock(box, at(WEDNESDAY, 10))
        assert box.box.engine is not None
        toggle_call = box.box.engine.dialplan.lookup("*28")
        assert toggle_call is not None
        outsider = Outsider("line/1", Party("5125550199", None))  # internal is False
        assert await toggle_call(outsider) is Cause.CALL_BARRED
        assert not await night(box)


class Outsider(Channel):
    def indicate(self, tone: str | None) -> None:
        pass

    def ring(self, caller: Party) -> None:
        pass

    def deliver(self, frame: Frame) -> None:
        pass

    def _release(self, cause: Cause) -> None:
        pass


async def test_without_opening_hours_it_is_day_until_switched_by_hand() -> None:
    async with running_box(office()) as box:
        assert not await night(box)
        assert await toggle(box) == ["night-on"]
        await wait(3 * 24 * 3600)  # no hours to end it: night until *28 again
        assert await night(box)
        assert await toggle(box) == ["day-on"]
        assert not await night(box)
