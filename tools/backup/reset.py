"""Factory reset: the box forgets everything but its firmware. The state directory is
emptied (SIP and admin secrets, forwards, night mode, the store, voicemail) and the office
config removed; at its next start the box makes new secrets and runs the built-in office.
With keep_voicemail the voicemail files and the store's voicemail and mailbox rows stay
(everything else in the store is deleted).

The reset itself lives in the firmware (`firmware.service.reset`), because the front
panel's RESET button does the same on a running box; this tool runs it on a stopped one.
"""

from __future__ import annotations

from firmware.service.reset import KEPT_TABLES, VOICEMAIL_DIR, clear_store, factory_reset

__all__ = ["KEPT_TABLES", "VOICEMAIL_DIR", "clear_store", "factory_reset"]
