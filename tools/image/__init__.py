"""Board images for installers: `python -m tools.image keygen|build|flash|show` (docs/install.md).

    keys        an Ed25519 image key pair (keygen)
    version     the firmware version an image is stamped with
    contents    which files of the source tree go into an image for a board and office
    build       collect, hash, sign and write an image (a reproducible tar: bootslots.container)
    progress    progress of long writes on the terminal
    flash       write an image where it is asked to go: a directory (a data partition),
                a raw file system image, or a running box over the network
"""
