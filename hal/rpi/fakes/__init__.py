"""Register-level fakes of the line card's chips, behind the same `SpiPort` as spidev.

They model what the drivers rely on, from the data sheets: reset values, the byte framing,
indirect registers, battery ramp, calibration that finishes (or hangs), linefeed states with
automatic ring trip, the hook bit following a simulated handset, the DAA's ring detect,
line voltage, loop current and isolation link. A chip can also be absent (reads 0xFF/0x00).
Time comes from a clock function (the loop's), so tests run them in fake time.
"""
