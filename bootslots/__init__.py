"""A/B firmware slots: what boot.py needs to run only a verified, signed image, and what
the installer (tools/image) and the running box (firmware/service) need to put a new image
in the other slot and commit or roll it back.

Stage one of a box is `boot.py` with this package beside it on the data partition; it may
use nothing but the standard library and `cryptography`, so it imports nothing from
firmware, hal or tools (an import-linter contract).

    layout      the data partition: slots/A, slots/B, slots.json, keys/, state/ ...
    atomic      a file written so a power cut leaves the old or the new one, never half
    manifest    an image's manifest: version, board, SHA-256 and size of every file
    signing     Ed25519 keys and signatures of manifests
    container   the image file: a reproducible, uncompressed tar
    verify      is a slot on disk exactly what its signed manifest says?
    state       the slot state file and its transitions (a table)
    choose      boot's decision: which slot runs, which are rolled back
    install     an image into the inactive slot, one durable write after another
"""
