"""The default prompt set: stable keys (the file names and what the engine asks for) and the
words espeak-ng says for each. Add a prompt here, then rebuild (docs/prompts.md)."""

from __future__ import annotations

from firmware.media.prompts import DIGIT_KEYS

_DIGIT_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
                "6": "six", "7": "seven", "8": "eight", "9": "nine", "*": "star",
                "#": "pound"}

PROMPTS: dict[str, str] = {
    # Digits, star and pound: what say_number() reads park slots and extensions with.
    **{DIGIT_KEYS[d]: word for d, word in _DIGIT_WORDS.items()},
    "parked-on": "parked on",
    "slot": "slot",
    "extension": "extension",
    "number": "number",
    "transfer-failed": "transfer failed",
    "lot-full": "the parking lot is full",
    "please-hold": "please hold",
    "thank-you": "thank you",
    "goodbye": "goodbye",
    "invalid": "invalid",
    "cannot-complete": "your call cannot be completed as dialed",
    "caller-number": "you are caller number",
}
