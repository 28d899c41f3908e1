"""Hardware abstraction layer: small interfaces, frozen events and the backends behind them.

Nothing here imports `firmware`: the firmware is written against these interfaces.
"""
