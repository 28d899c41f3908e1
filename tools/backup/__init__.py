"""Backup, restore and factory reset of a box's data: `python -m tools.backup` (docs/install.md).

    archive     what a backup holds and how it is read back (a tar with a checked index)
    save        a consistent backup of a state directory and the office config
    restore     a backup onto the same or a new box
    reset       a factory reset: nothing is kept unless a backup is restored
    running     is a box using that state directory right now?
"""
