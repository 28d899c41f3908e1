"""SIP as sans-I/O state machines (messages, transactions, dialogs, auth, SDP); sockets only in
transport.py. Arrives with the SIP issue; the layer contracts already place it beside media."""
