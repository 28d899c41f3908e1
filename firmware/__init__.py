"""The box's firmware: SIP, media, the call engine and its applications."""
