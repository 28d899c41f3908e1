"""SIPp as a desk phone subscribing to its mailbox's message-waiting state (RFC 3842 over
RFC 6665): the box challenges the SUBSCRIBE, accepts it, and NOTIFYs the counts at once;
an unsubscribe ends with a terminated NOTIFY. The mailbox is seeded in the store before
the box starts, as a reboot with messages waiting would find it."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.store import STORE_FILE, Store
from tests.integration.harness import office_toml
from tests.interop.test_sipp import REASON, SECRETS, Phones, credentials, one_good_call
from tests.livebox import LiveBox, start_box

pytestmark = [pytest.mark.interop, pytest.mark.skipif(REASON is not None, reason=REASON or "")]

OFFICE = office_toml("us", '[[extension]]\nnumber = "201"\nname = "SIPp 201"\n'
                     f'devices = ["sip"]\nsecret = "{SECRETS["201"]}"\nvoicemail = true\n')


def one_new_one_saved(state: Path) -> None:
    store = Store(state / STORE_FILE)
    store.open()
    when = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.UTC).isoformat()

    def insert(db: sqlite3.Connection) -> None:
        for folder in ("new", "saved"):
            db.execute("INSERT INTO voicemail (mailbox, folder, caller_number, received_at, "
                       "duration_s, file) VALUES ('201', ?, '101', ?, 3.0, ?)",
                       (folder, when, f"201/{folder}.wav"))

    store.run_now(insert)
    store.close()


@pytest.fixture
def box() -> Iterator[LiveBox]:
    with start_box(office=OFFICE, seed=one_new_one_saved) as live:
        yield live


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[Phones]:
    started = Phones(tmp_path)
    try:
        yield started
    finally:
        started.stop()


def test_a_subscribed_phone_is_told_of_its_messages_and_can_unsubscribe(
        box: LiveBox, phones: Phones) -> None:
    phone = phones.start("subscribe-201", "subscribe_mwi.xml", "-s", "201",
                         *credentials(box, "201", "201"), box=box)
    outcome = one_good_call(phone)  # the scenario checks the NOTIFYs' bodies and headers
    assert [s for s in outcome.statuses if s != 100] == [401, 200, 200]
    assert outcome.requests == ["NOTIFY", "NOTIFY"]
