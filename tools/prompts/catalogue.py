"""The default prompt set: stable keys (the file names and what the engine asks for) and the
words espeak-ng says for each. Add a prompt here, then rebuild (docs/prompts.md)."""

from __future__ import annotations

from firmware.media.prompts import DIGIT_KEYS

# Counts (a place in a queue, minutes): ten to nineteen, the tens, and "hundred".
_COUNT_WORDS = {10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen",
                15: "fifteen", 16: "sixteen", 17: "seventeen", 18: "eighteen",
                19: "nineteen", 20: "twenty", 30: "thirty", 40: "forty", 50: "fifty",
                60: "sixty", 70: "seventy", 80: "eighty", 90: "ninety"}

_DIGIT_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
                "6": "six", "7": "seven", "8": "eight", "9": "nine", "*": "star",
                "#": "pound"}

PROMPTS: dict[str, str] = {
    # Digits, star and pound: what say_number() reads park slots and extensions with.
    **{DIGIT_KEYS[d]: word for d, word in _DIGIT_WORDS.items()},
    # Counts: what say_count() says places in a queue and minutes with.
    **{f"count-{n}": word for n, word in _COUNT_WORDS.items()},
    "count-hundred": "hundred",
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
    # Auto attendant and business hours.
    "welcome": "thank you for calling",
    "menu-default": "please enter the extension of the person you are calling, "
                    "or press zero for the operator",
    "closed": "our office is closed now. please call again during business hours",
    "not-valid": "that is not a valid choice",
    "no-choice": "we did not hear your choice",
    "connecting": "please hold while we connect your call",
    "night-on": "night service is on",
    "day-on": "day service is on",
    "record-greeting": "record your greeting after the tone, then press pound",
    "unavailable": "the person you are calling is not available",
    # Ring groups and queues.
    "all-busy": "all of our team are busy helping other callers. please stay on the line",
    "estimated-wait": "your estimated wait is",
    "less-than": "less than",
    "minute": "minute",
    "minutes": "minutes",
    "callback-offer": "to hang up and be called back, keeping your place in line, press one",
    "callback-taken": "thank you. we will call you back at this number when it is your "
                      "turn. goodbye",
    "callback-hello": "hello, we are returning your call. please hold for a moment",
    "callback-due": "a caller is waiting for a call back. connecting you now",
    "agent-in": "you are logged in",
    "agent-out": "you are logged out",
    "no-agents": "there is no one to take your call right now",
    "callback-no-answer": "the customer did not answer. we will try again later",
    # Manager callback promises.
    "promise-taken": "a manager will call you back within",
    "promise-due": "you promised a customer a call back. connecting you now",
    "promise-hello": "hello, a manager is returning your call. please hold",
    # Voicemail.
    "vm-unavailable": "is not available. please leave a message after the tone",
    "vm-busy": "is on the phone. please leave a message after the tone",
    "vm-leave": "please leave a message after the tone. press pound when you are done",
    "vm-saved": "your message has been saved. goodbye",
    "vm-mailbox": "please enter your mailbox number",
    "vm-password": "please enter your password, then press pound",
    "vm-wrong": "login incorrect",
    "vm-you-have": "you have",
    "vm-new": "new",
    "vm-old": "saved",
    "vm-message": "message",
    "vm-messages": "messages",
    "vm-no-messages": "no messages",
    "vm-main-menu": "to listen to your messages, press one. to change your greetings, "
                    "press three. to change your password, press four",
    "vm-message-menu": "to play it again, press five. to save it, press nine. to delete it, "
                       "press seven. for the next message, press six",
    "vm-deleted": "message deleted",
    "vm-kept": "message saved",
    "vm-no-more": "no more messages",
    "vm-greeting-menu": "to record your unavailable greeting, press one. to record your "
                        "busy greeting, press two",
    "vm-greeting-saved": "greeting saved",
    "vm-new-password": "please enter your new password, then press pound",
    "vm-password-saved": "password changed",
    "vm-from": "from",
    "vm-full": "this mailbox is full and cannot take a message. goodbye",
    "vm-password-invalid": "a password has four to ten digits",
    "vm-reenter-password": "please enter the new password again, then press pound",
    "vm-password-mismatch": "the two passwords are not the same",
    "vm-greeting-short": "that was too short. the greeting was not changed",
}
