"""Dial patterns: which numbers an outbound route allows, in the notation installers know.

The notation is Asterisk's, which most PBX installers have met:

    X  any digit 0-9       Z  a digit 1-9       N  a digit 2-9
    [15-7]  one of 1, 5, 6, 7
    .  (at the end) one or more further digits (or *)
    !  (at the end) zero or more further digits (or *)
    anything else: that digit, * or #

`NXXNXXXXXX` is a ten-digit North American number, `1NXXNXXXXXX` the same with the 1,
`0[1-9]X.` a national number in the UK or Germany, `911` just that.

`#` is never swallowed by `.` or `!`: on a phone it means "dial now".

Besides matching a whole number, a pattern answers the question the dial plan asks after
each digit: can more digits still make a match?
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DIALLABLE", "DialPattern", "PatternError"]

DIALLABLE = frozenset("0123456789*#")
_FURTHER = frozenset("0123456789*")  # what "." and "!" take
_CLASSES = {"X": frozenset("0123456789"), "Z": frozenset("123456789"),
            "N": frozenset("23456789")}


class PatternError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class DialPattern:
    text: str
    places: tuple[frozenset[str], ...]  # what each position may be
    more: str  # "" exactly this long, "." one or more further characters, "!" zero or more

    @classmethod
    def parse(cls, text: str) -> DialPattern:
        places: list[frozenset[str]] = []
        more = ""
        i = 0
        while i < len(text):
            char = text[i].upper()
            if char in ".!":
                if i != len(text) - 1:
                    raise PatternError(f"{char!r} may only end a pattern")
                more = char
            elif char in _CLASSES:
                places.append(_CLASSES[char])
            elif char == "[":
                end = text.find("]", i)
                if end < 0:
                    raise PatternError("a '[' has no closing ']'")
                places.append(_char_set(text[i + 1:end]))
                i = end
            elif char in DIALLABLE:
                places.append(frozenset(char))
            else:
                raise PatternError(f"{text[i]!r} is not a digit, X, Z, N, [...], '.' or '!'")
            i += 1
        if not places:
            raise PatternError("a pattern needs at least one digit or digit class")
        return cls(text, tuple(places), more)

    def matches(self, number: str) -> bool:
        """Is `number` a whole number this pattern allows?"""
        fixed = len(self.places)
        if self.more == "" and len(number) != fixed:
            return False
        if self.more == "." and len(number) <= fixed:
            return False
        if len(number) < fixed or not set(number) <= DIALLABLE:
            return False
        return self._fits(number[:fixed]) and set(number[fixed:]) <= _FURTHER

    def may_continue(self, digits: str) -> bool:
        """Could `digits` followed by one or more further digits match?"""
        fixed = len(self.places)
        if not set(digits) <= DIALLABLE:
            return False
        if len(digits) >= fixed:
            return self.more != "" and self._fits(digits[:fixed]) and \
                set(digits[fixed:]) <= _FURTHER
        return self._fits(digits)

    def literal_start(self) -> str:
        """The digits every allowed number begins with ('011' for '011X.')."""
        start = ""
        for place in self.places:
            if len(place) != 1:
                break
            start += next(iter(place))
        return start

    def _fits(self, digits: str) -> bool:
        return all(d in place for d, place in zip(digits, self.places, strict=False))


def _char_set(inside: str) -> frozenset[str]:
    chars: set[str] = set()
    i = 0
    while i < len(inside):
        if i + 2 < len(inside) and inside[i + 1] == "-":
            low, high = inside[i], inside[i + 2]
            if not (low.isdigit() and high.isdigit() and low <= high):
                raise PatternError(f"[{inside}]: {low}-{high} is not a range of digits")
            chars.update(str(d) for d in range(int(low), int(high) + 1))
            i += 3
        elif inside[i] in DIALLABLE:
            chars.add(inside[i])
            i += 1
        else:
            raise PatternError(f"[{inside}]: {inside[i]!r} is not a digit")
    if not chars:
        raise PatternError("[] is empty")
    return frozenset(chars)
