"""What people do in a call: hold, transfer, 3-way (and, to come, park, pickup, forward).

- `hold`: put a leg on hold (hold music), ring a holder back with the held call
- `transfer`: blind transfer, with bounce-back when the target does not answer
- `flash`: the analog hook-flash sequences (REFERENCE.md, "Hook-flash on analog lines"),
  a state table per FXS port that turns flashes, digits and hang-ups into the above

Every feature moves legs between bridges without an `await` in between, so a leg's session
never sees it alone while it is handed on (`Channel.until_alone`).
"""
