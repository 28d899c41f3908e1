"""The Raspberry Pi backend: the line card's chips over SPI, its voice over PCM.

    spi.py          one SPI chip select, one byte per chip-select frame (spidev underneath)
    proslic*.py     Silicon Labs Si3210/Si3215 ProSLIC: one FXS port per chip
    daa*.py         Silicon Labs Si3050 DAA: the FXO port (the office's phone line)
    country.py      ring frequency and voltage, line impedance, DAA line settings per country
    line.py         an FXS port as `hal.interfaces.AnalogLine` (hook via `hal.hookmon`)
    trunk.py        the FXO port as `hal.interfaces.Trunk`
    poller.py       polls every chip's status on the loop at a fixed interval
    pcm.py          the PCM highway: audio-thread blocks <-> per-port 20 ms frames on the loop
    pcm_sounddevice.py, pcm_loopback.py   the two PCM streams: ALSA via PortAudio, and a
                    loopback for tests and benchmarks
    board.py        the assembled board (`hal.interfaces.Board`) with per-port faults
    assembly.py     board spec -> devices -> board; the only place hardware libraries load
    fakes/          register-level fakes of the chips (tests, benchmarks, a bench without a HAT)

Nothing here imports a hardware library at module level: `assembly.py` imports spidev,
sounddevice and gpiozero when the board is built, and names the extra to install when one
is missing. Design notes and measured figures: docs/hardware.md.
"""
