"""Flashing to a data partition and boot's choice of slot, in-process: what a box with
this SD card would run next, after a good update, a corrupted byte, a wrong image, or a
power cut at any moment of an update."""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bootslots import state as slot_state
from bootslots.handover import decide
from bootslots.install import InstallError, Step, install
from bootslots.layout import DataPartition
from bootslots.signing import load_public
from bootslots.state import Status
from tests.install.imaging import build_image, office_file
from tools.image.__main__ import main as image_tool
from tools.image.flash_dir import flash_dir
from tools.image.keys import KeyPair


class PowerCut(Exception):
    """The power went: nothing after this write happened."""


@pytest.fixture
def data(tmp_path: Path) -> DataPartition:
    return DataPartition(tmp_path / "data")


def statuses(data: DataPartition) -> dict[str, str]:
    state = slot_state.load(data.state_file)
    return {name: s.status.value for name, s in state.slots.items()}


def booted(data: DataPartition) -> tuple[str | None, str | None]:
    """The slot and version boot.py would start now (recording that it did)."""
    decision = decide(data)
    version = decision.verified.manifest.version if decision.verified else None
    return decision.slot, version


def commit(data: DataPartition, slot: str) -> None:
    """What main.py does once its health check passed."""
    state = slot_state.load(data.state_file).apply(slot, slot_state.Event.HEALTHY)
    slot_state.save(data.state_file, state)


@pytest.fixture
def good_box(tiny: Path, keys: KeyPair, tmp_path: Path, data: DataPartition) -> DataPartition:
    """A box running version 1 from slot A, committed."""
    v1 = build_image(tiny, keys.private, tmp_path / "v1.img", "1")
    flash_dir(v1.path, data.root, [keys.public])
    assert booted(data) == ("A", "1")
    commit(data, "A")
    return data


def test_a_new_data_partition_gets_stage_one_the_unit_and_the_key(
        source: Path, keys: KeyPair, tmp_path: Path, data: DataPartition) -> None:
    office = office_file(tmp_path / "office")
    built = build_image(source, keys.private, tmp_path / "box.img", "1.0", office)
    installed = flash_dir(built.path, data.root, [keys.public])
    assert installed.slot == "A"
    assert (data.root / "boot.py").read_bytes() == (source / "boot.py").read_bytes()
    assert (data.root / "bootslots" / "verify.py").exists()
    assert (data.root / "pbx-box.service").exists()
    assert [p.name for p in data.keys.iterdir()] == [f"{keys.key_id}.pub"]
    assert data.office.read_text() == office.read_text()
    assert statuses(data) == {"A": "trial", "B": "empty"}
    assert booted(data) == ("A", "1.0")


def test_an_update_goes_to_the_other_slot_on_trial_and_runs_next(
        good_box: DataPartition, tiny: Path, keys: KeyPair, tmp_path: Path) -> None:
    v2 = build_image(tiny, keys.private, tmp_path / "v2.img", "2")
    assert flash_dir(v2.path, good_box.root, []).slot == "B"
    assert statuses(good_box) == {"A": "good", "B": "trial"}
    assert booted(good_box) == ("B", "2")


def test_an_update_that_never_passes_its_health_check_is_rolled_back(
        good_box: DataPartition, tiny: Path, keys: KeyPair, tmp_path: Path) -> None:
    v2 = build_image(tiny, keys.private, tmp_path / "v2.img", "2")
    flash_dir(v2.path, good_box.root, [])
    assert booted(good_box) == ("B", "2")
    # ... it crashed, or hung, or the power went, before committing: tried once is enough.
    assert booted(good_box) == ("A", "1")
    state = slot_state.load(good_box.state_file)
    assert state["B"].status is Status.BAD
    assert "never passed its health check" in state["B"].note
    assert booted(good_box) == ("A", "1")


def test_a_good_slot_that_crashes_three_times_in_a_row_is_rolled_back(
        good_box: DataPartition, tiny: Path, keys: KeyPair, tmp_path: Path) -> None:
    v2 = build_image(tiny, keys.private, tmp_path / "v2.img", "2")
    flash_dir(v2.path, good_box.root, [])
    assert booted(good_box) == ("B", "2")
    commit(good_box, "B")
    # It passed its check once, then crashed at every start before staying up.
    assert [booted(good_box) for _ in range(3)] == [("B", "2"), ("B", "2"), ("A", "1")]
    assert statuses(good_box) == {"A": "good", "B": "bad"}


def test_a_corrupted_byte_in_any_file_refuses_the_slot_and_the_old_one_runs(
        good_box: DataPartition, tiny: Path, keys: KeyPair, tmp_path: Path) -> None:
    v2 = build_image(tiny, keys.private, tmp_path / "v2.img", "2")
    flash_dir(v2.path, good_box.root, [])
    slot = good_box.slot("B")
    pristine = tmp_path / "pristine"
    shutil.copytree(slot, pristine)
    saved = slot_state.load(good_box.state_file)
    files = sorted(p.relative_to(slot) for p in slot.rglob("*") if p.is_file())
    assert len(files) > 10 and Path("manifest.sig") in files
    for name in files:
        target = slot / name
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        assert booted(good_box) == ("A", "1"), f"a flipped bit in {name} went unnoticed"
        shutil.rmtree(slot)
        shutil.copytree(pristine, slot)
        slot_state.save(good_box.state_file, saved)
    assert booted(good_box) == ("B", "2")


def test_a_slot_with_a_file_too_many_or_too_few_is_refused(
        good_box: DataPartition, tiny: Path, keys: KeyPair, tmp_path: Path) -> None:
    v2 = build_image(tiny, keys.private, tmp_path / "v2.img", "2")
    flash_dir(v2.path, good_box.root, [])
    (good_box.slot("B") / "firmware" / "evil.py").write_text("import os\n")
    decision = decide(good_box)
    assert decision.slot == "A"
    assert any("does not list: firmware/evil.py" in note for note in decision.notes)


def test_an_image_for_another_board_is_refused(good_box: DataPartition, tiny: Path,
                                               keys: KeyPair, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    rpi = build_image(tiny, keys.private, tmp_path / "rpi.img", "2", board="rpi4-2fxs1fxo")
    before = good_box.state_file.read_bytes()
    assert image_tool(["flash", str(rpi.path), "--to", str(good_box.root)]) == 1
    assert ("refused: it is for the board 'rpi4-2fxs1fxo' (Raspberry Pi 4 + 2FXS/1FXO HAT); "
            "this box is a 'sim'") in capsys.readouterr().err
    assert good_box.state_file.read_bytes() == before
    assert not good_box.slot("B").exists()


def test_an_image_signed_by_an_unknown_key_is_refused(
        good_box: DataPartition, tiny: Path, other_keys: KeyPair, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    rogue = build_image(tiny, other_keys.private, tmp_path / "rogue.img", "2")
    assert image_tool(["flash", str(rogue.path), "--to", str(good_box.root)]) == 1
    assert "signature is not from a trusted key" in capsys.readouterr().err
    assert statuses(good_box) == {"A": "good", "B": "empty"}
    # Nor does boot.py run such a slot, were it copied onto the card by hand.
    shutil.rmtree(good_box.slots / "B", ignore_errors=True)
    with tarfile.open(rogue.path) as tar:
        tar.extractall(good_box.slot("B"), filter="data")
    state = slot_state.load(good_box.state_file)
    state = state.apply("B", slot_state.Event.INSTALL_BEGUN).apply(
        "B", slot_state.Event.INSTALLED, version="2")
    slot_state.save(good_box.state_file, state)
    assert booted(good_box) == ("A", "1")


def test_a_new_partition_without_a_trusted_key_is_refused(tiny: Path, keys: KeyPair,
                                                         tmp_path: Path,
                                                         data: DataPartition) -> None:
    v1 = build_image(tiny, keys.private, tmp_path / "v1.img", "1")
    with pytest.raises(InstallError, match="trusts no image key yet: add --trust"):
        flash_dir(v1.path, data.root, [])


def test_a_damaged_image_file_is_refused_and_the_box_still_boots(
        good_box: DataPartition, tiny: Path, keys: KeyPair, tmp_path: Path) -> None:
    v2 = build_image(tiny, keys.private, tmp_path / "v2.img", "2")
    with tarfile.open(v2.path) as tar:
        offset = tar.getmember("firmware/sound.wav").offset_data
    raw = bytearray(v2.path.read_bytes())
    raw[offset + 100] ^= 0xFF
    damaged = tmp_path / "damaged.img"
    damaged.write_bytes(bytes(raw))
    with pytest.raises(InstallError, match="refused"):
        flash_dir(damaged, good_box.root, [])
    assert booted(good_box) == ("A", "1")


def test_a_power_cut_after_any_write_of_an_update_leaves_a_box_that_boots(
        tiny: Path, keys: KeyPair, tmp_path: Path) -> None:
    v1 = build_image(tiny, keys.private, tmp_path / "v1.img", "1")
    v2 = build_image(tiny, keys.private, tmp_path / "v2.img", "2")
    trusted = [load_public(keys.public)]
    steps: list[Step] = []
    reference = DataPartition(tmp_path / "reference")
    flash_dir(v1.path, reference.root, [keys.public])
    decide(reference)
    commit(reference, "A")
    install(DataPartition(_copy(reference, tmp_path / "count")), v2.path, trusted,
            steps.append)
    assert len(steps) > 20
    versions = []
    for cut in range(len(steps)):
        box = DataPartition(_copy(reference, tmp_path / f"cut{cut}"))
        with pytest.raises(PowerCut):
            install(box, v2.path, trusted, power_cut_after(cut + 1))
        slot, version = booted(box)
        assert slot is not None, f"nothing boots after a cut after write {cut + 1}"
        versions.append(version)
        shutil.rmtree(box.root)
    # Version 2 is the one to run only once the last write (the slot state) is done.
    assert versions == ["1"] * (len(steps) - 1) + ["2"]


def power_cut_after(writes: int) -> Callable[[Step], None]:
    done = 0

    def progress(step: Step) -> None:
        nonlocal done
        done += 1
        if done == writes:
            raise PowerCut(f"after {step.what} {step.name}")
    return progress


def _copy(data: DataPartition, dest: Path) -> Path:
    shutil.copytree(data.root, dest)
    return dest


def test_a_power_cut_during_the_first_boot_of_an_update_rolls_it_back(
        good_box: DataPartition, tiny: Path, keys: KeyPair, tmp_path: Path) -> None:
    v2 = build_image(tiny, keys.private, tmp_path / "v2.img", "2")
    flash_dir(v2.path, good_box.root, [])
    assert booted(good_box) == ("B", "2")  # ... and the power goes before it is healthy
    assert booted(good_box) == ("A", "1")


@pytest.mark.skipif(shutil.which("mke2fs") is None or shutil.which("debugfs") is None,
                    reason="raw images need e2fsprogs (mke2fs, debugfs)")
def test_a_raw_image_file_is_a_data_partition_file_system(
        tiny: Path, keys: KeyPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tools.image.flash_raw import read_out

    v1 = build_image(tiny, keys.private, tmp_path / "v1.img", "1")
    v2 = build_image(tiny, keys.private, tmp_path / "v2.img", "2")
    raw = tmp_path / "card.img"
    assert image_tool(["flash", str(v1.path), "--to", str(raw), "--trust", str(keys.public),
                       "--size", "16M"]) == 0
    assert image_tool(["flash", str(v2.path), "--to", str(raw)]) == 0
    assert "slot B now holds version 2" in capsys.readouterr().out
    assert raw.stat().st_size == 16 << 20
    out = tmp_path / "out"
    read_out(raw, "/", out)
    data = DataPartition(out)
    assert statuses(data) == {"A": "trial", "B": "trial"}
    assert booted(data) == ("B", "2")


def test_without_a_trusted_key_nothing_runs_and_nothing_is_marked(
        good_box: DataPartition) -> None:
    before = good_box.state_file.read_bytes()
    shutil.rmtree(good_box.keys)
    assert booted(good_box) == (None, None)
    assert good_box.state_file.read_bytes() == before
