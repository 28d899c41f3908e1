"""The toll-fraud rules of calling out, apart from any provider: who may, and where to."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import pytest

from firmware.config import parse_office
from firmware.engine.channel import Cause, Channel, Party
from firmware.engine.outbound import dial_out, is_international, outside_party
from firmware.media.frames import Frame
from tests.unit.test_config import TRUNK


class Leg(Channel):
    def indicate(self, tone: str | None) -> None:
        pass

    def ring(self, caller: Party) -> None:
        pass

    def deliver(self, frame: Frame) -> None:
        pass

    def _release(self, cause: Cause) -> None:
        pass


class NoTrunkLegs:
    """A user agent that must not be asked for a leg: the rules refuse before."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def trunk_leg(self, trunk: str, number: str) -> None:
        self.asked.append(number)


def engine(route_extra: str = "") -> SimpleNamespace:
    office = parse_office(textwrap.dedent(TRUNK) + route_extra, "office.toml")
    return SimpleNamespace(office=office, sip=NoTrunkLegs())


async def test_a_call_from_outside_may_not_go_back_out() -> None:
    box = engine()
    outsider = Leg("trunk:provider/1", Party("+15125550123", None))  # internal is False
    assert await dial_out(box, box.office.routes[0], "5125550199", outsider) \
        is Cause.CALL_BARRED
    assert box.sip.asked == []


async def test_an_office_phone_may_not_call_abroad_on_a_route_that_does_not_allow_it() -> None:
    box = engine()
    desk = Leg("fxs:1/1", Party("101", "Front desk"))
    desk.internal = True
    assert await dial_out(box, box.office.routes[0], "011441632960000", desk) \
        is Cause.CALL_BARRED
    assert await dial_out(box, box.office.routes[0], "5125550199", desk) is Cause.CONGESTION
    assert box.sip.asked == ["+15125550199"]  # allowed: asked for a leg (none to be had)


@pytest.mark.parametrize(("number", "country", "abroad"), [
    ("011441632960000", "us", True), ("00441632960000", "us", False),
    ("00441632960000", "de", True), ("+441632960000", "fr", True), ("01632960000", "uk", False),
])
def test_international_numbers_by_country(number: str, country: str, abroad: bool) -> None:
    assert is_international(number, country) is abroad


def test_the_outside_world_sees_the_office_number_of_the_caller() -> None:
    box = engine()
    trunk = box.office.trunks[0]
    assert outside_party(box, trunk, Party("101", "Front desk")) == \
        Party("+15125550100", "Front desk")  # 101's own number; no site name set
    assert outside_party(box, trunk, Party("102", "Back office")).number == "+15125550100"
