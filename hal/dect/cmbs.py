"""Our model of the CMBS host interface: everything about the wire, in one place.

A CMBS (Cordless Module Base Station, DSP Group, now Dialog/Renesas) DECT module talks to
its host over a UART with framed messages. What is public about it comes from the host API
source that ships with open-source projects (`cmbs_int.h`, `cmbs_api.h`, `cmbs_ie.c`,
`cmbs_int.c`), not from a datasheet; this module is the single place to correct against
the datasheet of the module actually fitted.

A frame, every number little-endian (the API converts on big-endian hosts):

    offset  size  field
    0       4     sync: DA DA DA DA
    4       2     total length: 8 (the four header fields) + parameter length
    6       2     packet number
    8       2     message id: an event (EV_*, below 0xFF00) or an internal command
                  (0xFF00 | CMD_*)
    10      2     parameter length
    12      n     parameters: information elements (IEs), each
                      type (2) | length (2) | value (length)
    12+n-6  6     events only, once negotiated: the checksum IE, type 0x0F00, length 2,
                  two check octets over the IEs before it (`hal.dect.checksum`)

Public record (taken as fact): the sync word, the header layout, internal commands as
0xFF00 | cmd (HELLO 1, HELLO_RPLY 2, CAPABILITIES 10, CAPABILITIES_RPLY 11) and that they
never carry a checksum, the checksum IE number 0x0F00 ("never change this IE number"), the
check-octet arithmetic, and the value layouts of the IEs marked "public" in `IeType`.

Assumptions (ours; check each against the datasheet):

1. Event and IE numbers are positions in the `E_CMBS_EVENT_ID` / `E_CMBS_IE_TYPE` enums of
   the API version we read; they have moved between versions (an older enum has no
   PAGE_STOP, shifting everything after it). `Event` and `IeType` list the ones we use.
2. Packet number: the public host code sends 0. We number our frames 0..65535, wrapping,
   so a trace shows losses; nobody requires the numbers to be consecutive.
3. Checksum: negotiated once per start with CAPABILITIES carrying a u32 bit mask whose bit 0
   is "checksum" (the source says "bit 1", which may mean value 1 or bit index 1). After
   that every event must end with a good checksum IE; a frame without one is refused.
4. Call instances: the host numbers the calls it makes with bit 31 set, the module the
   calls handsets make below it, so the two never collide.
5. A call to a handset carries CALLEDPARTY = the handset number in ASCII ("3") with address
   properties 0x01 (internal), CALLERPARTY and CALLERNAME for its display.
6. A call from a handset carries CALLERPARTY = its handset number in ASCII and CALLEDPARTY
   = the digits it block-dialled (empty when it dials key by key: the keys then arrive as
   CALLINFO of type DIGIT in DEE_CALL_INBANDINFO events, during dialling and in a call).
7. Handsets the module knows come in HS_SUBSCRIBED_LIST_GET_RES as one SUBSCRIBED_HS_LIST
   IE per handset: u16 handset number, u16 name length, the name.
8. HS_REGISTERED carries HANDSETINFO: u8 handset, u8 state (1 registered, 0 deleted), u8
   type, u32 model, 5 octets IPEI, 2 octets EMC (layout public; the state values are ours).
9. The module closes the registration window itself on its time-out or after one handset
   registered, and says so with CORD_CLOSEREG carrying REG_CLOSE_REASON (u8, `RegClose`).
10. After it (re)starts the module sends TARGET_UP on its own, without a checksum (it has
    negotiated nothing yet), and the host takes it so even while checksums are required;
    the host then runs the start-up again (HELLO, CAPABILITIES, SYS_START,
    HS_SUBSCRIBED_LIST_GET).
11. Voice: DEM_CHANNEL_START with a MEDIACHANNEL IE (u32 channel = call instance, u32
    parameter = PCM timeslot, u8 type 0 = IOM/PCM) puts a call on the PCM bus, timeslot =
    handset - 1, 16-bit linear at 8 kHz; DEM_CHANNEL_STOP takes it off.
12. Parameters longer than `MAX_PARAM_LENGTH` are taken for corruption (ours are < 100).
"""

from __future__ import annotations

import enum

SYNC = b"\xda\xda\xda\xda"
HEADER_SIZE = 8  # total length, packet number, message id, parameter length
FRAME_OVERHEAD = len(SYNC) + HEADER_SIZE
MAX_PARAM_LENGTH = 1024
COMMAND_BASE = 0xFF00  # message ids at or above this are internal commands
CHECKSUM_IE_SIZE = 6  # type (2) + length (2) + two check octets
CAPABILITY_CHECKSUM = 0x0000_0001  # assumption 3
HOST_CALL_BIT = 0x8000_0000  # assumption 4
ALL_HANDSETS = 0xFFFF  # HANDSETS bit mask: every handset (bit n-1 = handset n)


class Command(enum.IntEnum):
    """Internal commands (public numbers); on the wire as 0xFF00 | command."""

    HELLO = 1
    HELLO_RPLY = 2
    CAPABILITIES = 10
    CAPABILITIES_RPLY = 11


class Event(enum.IntEnum):
    """The events the host uses (assumption 1)."""

    HS_PAGE_START = 1
    HS_PAGE_START_RES = 2
    HS_DELETE = 5
    HS_DELETE_RES = 6
    HS_REGISTERED = 7
    CORD_OPENREG = 9
    CORD_OPENREG_RES = 10
    CORD_CLOSEREG = 11
    CORD_CLOSEREG_RES = 12
    SYS_START = 25
    SYS_START_RES = 26
    HS_SUBSCRIBED_LIST_GET = 33
    HS_SUBSCRIBED_LIST_GET_RES = 34
    CALL_ESTABLISH = 46
    CALL_PROGRESS = 47
    CALL_ANSWER = 48
    CALL_RELEASE = 49
    CALL_RELEASECOMPLETE = 50
    CALL_INBANDINFO = 51
    CHANNEL_START = 61
    CHANNEL_START_RES = 62
    CHANNEL_STOP = 65
    CHANNEL_STOP_RES = 66
    TARGET_UP = 125


class IeType(enum.IntEnum):
    """The information elements the host uses (assumption 1, except CHECKSUM)."""

    CALLINSTANCE = 1  # u32 (public)
    CALLERPARTY = 2  # u8 properties, u8 presentation, u8 length, address (public)
    CALLERNAME = 3  # u8 length, name (public)
    CALLEDPARTY = 4  # as CALLERPARTY (public)
    CALLPROGRESS = 5  # u8 `CallProgress` (public)
    CALLINFO = 6  # u8 type, u8 length, data (public)
    CALLRELEASE_REASON = 8  # u8 `ReleaseCode`, u32 extended reason (public)
    MEDIACHANNEL = 10  # u32 channel, u32 parameter, u8 type (public)
    HANDSETINFO = 15  # assumption 8
    SUBSCRIBED_HS_LIST = 17  # assumption 7
    RESPONSE = 22  # u8: 0 OK, 1 error (public)
    INTEGER_VALUE = 24  # u32 (public)
    HANDSETS = 28  # u16 bit mask (public)
    REG_CLOSE_REASON = 75  # u8 `RegClose` (assumption 9)
    CHECKSUM = 0x0F00  # two check octets (public, fixed)


class Response(enum.IntEnum):
    OK = 0
    ERROR = 1


class CallProgress(enum.IntEnum):
    SETUP_ACK = 1
    PROCEEDING = 2
    RINGING = 3  # the handset is alerting
    BUSY = 4
    CONNECT = 10


class ReleaseCode(enum.IntEnum):
    NORMAL = 0
    ABNORMAL = 1
    BUSY = 2  # the person rejected the call
    UNKNOWN_NUMBER = 3
    CALL_REJECTED = 8
    NOT_IN_RANGE = 9  # paging found no handset, or the radio link broke in a call


class CallInfoType(enum.IntEnum):
    DISPLAY = 1
    DIGIT = 2  # keypad keys: 0-9 * #


class RegClose(enum.IntEnum):
    TIMEOUT = 0
    HOST_REQUEST = 1
    HANDSET_REGISTERED = 2


class HandsetState(enum.IntEnum):
    DELETED = 0
    REGISTERED = 1


class MediaType(enum.IntEnum):
    AUDIO_PCM = 0  # IOM/PCM bus


ADDRESS_INTERNAL = 0x01  # assumption 5: the address is a handset number
PRESENTATION_ALLOWED = 0x00


def pcm_timeslot(handset: int) -> int:
    """The PCM timeslot a handset's voice uses (assumption 11)."""
    return handset - 1
