"""The box as a service on a real board: what runs once the box is up (DESIGN.md, "Layout").

    health      the health check: scheduler, SIP answering, every HAL port of the board
    slot        the firmware slot this box runs from (bootslots): commit, fail, stable
    notify      systemd's notify protocol: READY=1, WATCHDOG=1, STOPPING=1
    watchdog    the watchdog pings, from the scheduler loop itself
    admin       the box's admin secret (generated at first boot, never logged)
    http        just enough HTTP/1.1 for the admin interface
    updates     the admin interface: an authenticated upload of a new image
    lifecycle   ties them together after the box has started, and on the way down
    reset       the factory reset (the RESET button asks, main.py does it once the box is down)
    restart     a box run from a checkout starting itself again
"""
