"""Ring groups on the virtual board (docs/apps.md): who rings, in which order, and where
the call goes when nobody answers. Judged by the phones' ringers. Fake time."""

from __future__ import annotations

from pathlib import Path

from tests.integration.calls import lift_and_dial, office, talking
from tests.integration.harness import Harness, running_box, wait
from tools.phone.handset import VirtualPhone

RING_S = 5.0


def group_office(strategy: str, extra: str = "", members: str = '"102", "103", "104"') -> str:
    return office() + f'''
[[group]]
name = "team"
number = "600"
members = [{members}]
strategy = "{strategy}"
ring_s = {RING_S}
{extra}
'''


async def rings(*phones: VirtualPhone) -> list[int]:
    """How many calls' ringing each phone has seen start (one per ring burst)."""
    return [len((await p.status())["rings"]) for p in phones]


async def ringing_now(*phones: VirtualPhone) -> list[bool]:
    """Which phones are in a ring burst or its pause right now (their last ring burst
    began less than one cadence ago)."""
    out = []
    for p in phones:
        status = await p.status()
        last = status["rings"][-1] if status["rings"] else None
        out.append(last is not None and status["now"] - last[0] < 6.0)
    return out


async def call_group(box: Harness, who: str = "101") -> VirtualPhone:
    caller = await box.phone(who)
    await lift_and_dial(caller, "600")
    return caller


async def test_ring_all_rings_every_member_and_the_first_to_answer_talks() -> None:
    async with running_box(group_office("ring-all")) as box:
        caller = await call_group(box)
        p102, p103, p104 = await box.phones("102", "103", "104")
        assert await ringing_now(p102, p103, p104) == [True, True, True]
        await p104.offhook()
        await wait(1)
        assert [(await p.status())["ringing"] for p in (p102, p103)] == [False, False]
        await talking(caller, p104)


async def test_hunt_rings_members_one_after_another_in_order() -> None:
    async with running_box(group_office("hunt")) as box:
        await call_group(box)
        p102, p103, p104 = await box.phones("102", "103", "104")
        assert await ringing_now(p102, p103, p104) == [True, False, False]
        await wait(RING_S)
        assert await rings(p102, p103, p104) == [1, 1, 0]
        assert not (await p102.status())["ringing"]
        await wait(RING_S)
        assert await rings(p102, p103, p104) == [1, 1, 1]
        await p104.offhook()
        await wait(1)
        assert (await p104.listen(2)).tone != "dial"  # talking to the caller


async def test_hunt_skips_a_busy_member_and_one_on_do_not_disturb() -> None:
    async with running_box(group_office("hunt")) as box:
        p102, p103, p104 = await box.phones("102", "103", "104")
        await lift_and_dial(p103, "*78")  # do not disturb
        await wait(2)
        await p103.onhook()
        await p102.offhook()  # busy (lifted)
        await wait(1)
        await call_group(box)
        assert await rings(p102, p103, p104) == [0, 0, 1]  # straight to 104


async def test_round_robin_starts_after_whoever_answered_last() -> None:
    async with running_box(group_office("round-robin")) as box:
        p102, p103, p104 = await box.phones("102", "103", "104")
        caller = await call_group(box)
        await wait(RING_S)  # 102 rings, nobody answers; then 103
        assert await rings(p102, p103, p104) == [1, 1, 0]
        await p103.offhook()  # 103 takes this call
        await wait(1)
        await caller.onhook()
        await p103.onhook()
        await wait(2)
        await call_group(box)  # the next call starts with 104
        assert await rings(p102, p103, p104) == [1, 1, 1]
        await p104.offhook()
        await wait(1)
        caller2 = await box.phone("101")
        await caller2.onhook()
        await p104.onhook()
        await wait(2)
        await call_group(box)  # then 102 again: round and round
        assert await rings(p102, p103, p104) == [2, 1, 1]


async def test_round_robin_remembers_its_place_over_a_restart(tmp_path: Path) -> None:
    async with running_box(group_office("round-robin"), state_dir=tmp_path) as box:
        p102, p103 = await box.phones("102", "103")
        caller = await call_group(box)
        await wait(RING_S)
        await p103.offhook()  # 103 takes it: the next call starts with 104
        await wait(1)
        await caller.onhook()
        await p103.onhook()
    async with running_box(group_office("round-robin"), state_dir=tmp_path) as box:
        p102, p103, p104 = await box.phones("102", "103", "104")
        await call_group(box)
        assert await rings(p102, p103, p104) == [0, 0, 1]


async def test_nobody_answering_sends_the_caller_to_the_no_answer_destination() -> None:
    async with running_box(group_office("hunt", 'no_answer = "101"',
                                       members='"102", "103"')) as box:
        caller = await call_group(box, "104")
        p101, p102, p103 = await box.phones("101", "102", "103")
        await wait(2 * RING_S + 1)
        assert await rings(p102, p103) == [1, 1]
        assert await ringing_now(p101) == [True]
        await p101.offhook()
        await wait(1)
        await talking(caller, p101)


async def test_without_a_no_answer_destination_the_caller_hears_congestion() -> None:
    async with running_box(group_office("ring-all", "total_s = 8")) as box:
        caller = await call_group(box)
        await wait(RING_S + 1)
        assert (await caller.listen(2)).tone == "congestion"
