"""The ProSLIC driver against the register-level fake: framing, indirect registers,
bring-up with its time-outs, per-country ringing, and chips that do not answer."""

from __future__ import annotations

import asyncio

import pytest

from hal.rpi import proslic_regs as r
from hal.rpi.chip import ChipFault
from hal.rpi.country import CountryError, country, ring_oscillator
from hal.rpi.fakes.proslic import FakeProSlic
from hal.rpi.proslic import CALIBRATION_TIMEOUT_S, CALIBRATION_TRIES, ProSlic


def chips(chip: str = "si3215", **fake: object) -> tuple[ProSlic, FakeProSlic]:
    loop = asyncio.get_running_loop()
    fake_chip = FakeProSlic(loop.time, chip, **fake)  # type: ignore[arg-type]
    return ProSlic(fake_chip, chip), fake_chip  # type: ignore[arg-type]


async def test_direct_register_framing() -> None:
    slic, fake = chips()
    slic.write(r.LOOPBACK, 0)
    assert fake.writes == [(r.LOOPBACK, 0)]
    assert slic.read(r.HYBRID) == 0x33
    assert slic.transactions == 4  # two one-byte frames per access
    assert fake.transactions == 4


@pytest.mark.parametrize(("chip", "address"), [("si3210", 20), ("si3215", 7)])
async def test_indirect_registers_round_trip_at_each_chips_address(chip: str,
                                                                   address: int) -> None:
    slic, fake = chips(chip)
    slic.write_indirect(r.Indirect.RING_OSC, 0x7E6C)
    assert fake.indirect[address] == 0x7E6C
    assert slic.read_indirect(r.Indirect.RING_OSC) == 0x7E6C


async def test_bring_up_leaves_a_calibrated_powered_line_with_battery() -> None:
    slic, fake = chips()
    await slic.bring_up(country("us"), pcm_slot=2)
    assert fake.powered and fake.linefeed is r.LinefeedCode.ACTIVE
    assert fake.regs[r.PCM_MODE] & 0x7F == r.PCM_LINEAR_16
    assert (fake.regs[r.PCM_TX_START_LO], fake.regs[r.PCM_RX_START_LO]) == (32, 32)
    assert fake.regs[r.RING_OSC_CTL] == 0  # no hardware cadence: the firmware rings
    assert fake.regs[r.LOOPBACK] == 0
    assert slic.revision == 5


@pytest.mark.parametrize(("code", "hz"), [("us", 20), ("uk", 25), ("de", 25), ("fr", 50)])
async def test_ringing_follows_the_country(code: str, hz: float) -> None:
    slic, fake = chips("si3210")
    await slic.bring_up(country(code), pcm_slot=0)
    rco, rngx = ring_oscillator(hz, country(code).slic.ring_vpk)
    assert fake.indirect[r.Indirect.RING_OSC.value[0]] == rco
    assert fake.indirect[r.Indirect.RING_X.value[0]] == rngx
    assert fake.regs[r.TWO_WIRE_IMPEDANCE] & 0x07 == country(code).slic.impedance


def test_ring_oscillator_matches_the_values_dahdi_labels() -> None:
    # 25 Hz: DAHDI's coefficient, and its 50 V / 89 V peak amplitudes (within 3 %).
    assert ring_oscillator(25, 50)[0] == 0x7E6C
    assert ring_oscillator(25, 50)[1] == pytest.approx(0x014B, rel=0.03)
    assert ring_oscillator(25, 89)[1] == pytest.approx(0x0247, rel=0.03)
    assert ring_oscillator(20, 150) == ring_oscillator(20, 89)  # the battery caps it
    with pytest.raises(CountryError):
        ring_oscillator(5, 50)
    with pytest.raises(CountryError, match="'se'"):
        country("se")


@pytest.mark.parametrize("floating", [0xFF, 0x00])
async def test_an_absent_chip_is_a_clear_fault(floating: int) -> None:
    slic, _ = chips(absent=floating)
    with pytest.raises(ChipFault, match=f"no ProSLIC answers \\(DR0 reads 0x{floating:02X}\\)"):
        await slic.bring_up(country("us"), 0)


async def test_the_chip_must_be_the_one_the_board_config_names() -> None:
    loop = asyncio.get_running_loop()
    slic = ProSlic(FakeProSlic(loop.time, "si3210"), "si3215")
    with pytest.raises(ChipFault, match="board config says si3215 but the chip is a si3210"):
        await slic.bring_up(country("us"), 0)


async def test_calibration_that_never_ends_times_out_after_a_retry() -> None:
    slic, _ = chips(calibration_hangs=True)
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(ChipFault, match="calibration did not finish within 2 s \\(2 tries\\)"):
        await slic.bring_up(country("us"), 0)
    waited = loop.time() - start
    assert waited == pytest.approx(CALIBRATION_TIMEOUT_S * CALIBRATION_TRIES, abs=0.3)


async def test_no_battery_is_a_clear_fault() -> None:
    slic, _ = chips(battery=False)
    with pytest.raises(ChipFault, match=r"battery did not come up: 0 V after 0\.5 s"):
        await slic.bring_up(country("us"), 0)


async def test_a_chip_that_resets_or_goes_quiet_later_is_noticed() -> None:
    slic, fake = chips()
    await slic.bring_up(country("us"), 0)
    slic.check_alive()
    fake.reset()
    with pytest.raises(ChipFault, match="reset itself"):
        slic.check_alive()
    fake.absent = 0xFF
    with pytest.raises(ChipFault, match="stopped answering"):
        slic.loop_closed()


async def test_hook_and_ring_trip_bits() -> None:
    slic, fake = chips()
    await slic.bring_up(country("us"), 0)
    assert not slic.loop_closed()
    slic.set_linefeed(r.LinefeedCode.RINGING)
    assert fake.ringing
    fake.set_hook(True)  # lifted while ringing: the chip trips the ring by itself
    assert not fake.ringing and fake.linefeed is r.LinefeedCode.ACTIVE
    assert slic.loop_closed()


async def test_neon_lamp_mode_and_back() -> None:
    slic, fake = chips()
    await slic.bring_up(country("de"), 0)
    slic.set_ring_mode(neon=True)
    slic.set_linefeed(r.LinefeedCode.RINGING)
    assert fake.lamp_flashing and not fake.ringing
    slic.set_linefeed(r.LinefeedCode.ACTIVE)
    slic.set_ring_mode(neon=False)
    assert fake.indirect[r.Indirect.RING_OSC.value[1]] == ring_oscillator(25, 86)[0]
    slic.set_linefeed(r.LinefeedCode.RINGING)
    assert fake.ringing and not fake.lamp_flashing
