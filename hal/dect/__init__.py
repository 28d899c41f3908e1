"""A CMBS-class DECT base module on a UART: the host side of its serial protocol.

    cmbs.py      our model of the CMBS host interface: framing, ids, the assumptions made
    checksum.py  the frame check octets
    codec.py     frames <-> bytes, sans-I/O, resynchronising after garbage
    ies.py       the information elements the host uses, typed
    calls.py     one handset's call, as a state table
    host.py      the base logic, sans-I/O: bytes and `now` in; bytes, events, deadline out
    voice.py     the handsets' voice: 20 ms frames per handset (PCM/I2S on real hardware)
    uart.py      the one module that touches the serial port (pyserial, imported lazily)
    backend.py   `UartDectBase`: the `hal.interfaces.DectBase` the firmware sees
    events.py    what the base reports, as frozen events

Nothing here imports pyserial until a serial port is opened, so the virtual board runs
without it (`pip install '.[rpi]'` brings it).
"""
