"""Show the SIP secrets the box generated: `python -m tools.secrets --state-dir DIR [EXT ...]`."""
