"""Which prompts a person heard (`says`, `heard_prompt`): the audio at the handset matched
against the prompt files, as a person recognises the words, not by asking the box.

A prompt is heard where a stretch of the audio has the prompt's shape (normalised cross-
correlation near 1); any other sound, tone or prompt scores far lower.
"""

from __future__ import annotations

import numpy as np

from firmware.media.prompts import SHIPPED_DIR, PromptSet

SHIPPED = PromptSet.load(SHIPPED_DIR)
MATCH = 0.8  # a prompt played through the box scores ~1.0; other speech ~0.2


def _best(x: np.ndarray, p: np.ndarray) -> float:
    """The highest normalised correlation of `p` with any stretch of `x`."""
    if len(x) < len(p) or not np.any(p):
        return 0.0
    n = 1 << int(np.ceil(np.log2(len(x) + len(p))))
    corr = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(p, n)), n)[: len(x) - len(p) + 1]
    energy = np.concatenate(([0.0], np.cumsum(x * x)))
    window = energy[len(p):] - energy[: len(x) - len(p) + 1]
    norms = np.sqrt(np.maximum(window, 1e-9)) * np.linalg.norm(p)
    return float(np.max(corr / norms))


def likeness(heard: np.ndarray, prompt: np.ndarray) -> float:
    """How closely some stretch of `heard` is `prompt` (0..1). Half of the prompt is
    enough (its start, middle or end): a key cuts a prompt short, and a listening window
    may begin after a prompt began."""
    p = prompt.astype(np.float64)
    x = heard.astype(np.float64)
    half = max(len(p) // 2, min(len(p), 1600))
    pieces = {p[:half].tobytes(): p[:half], p[len(p) - half:].tobytes(): p[len(p) - half:],
              p[(len(p) - half) // 2:][:half].tobytes(): p[(len(p) - half) // 2:][:half]}
    return max(_best(x, piece) for piece in pieces.values())


def heard_prompt(heard: np.ndarray, key: str, prompts: PromptSet = SHIPPED) -> bool:
    samples = prompts.samples(key)
    assert samples is not None, f"no prompt {key!r}"
    return likeness(heard, samples) >= MATCH


def prompts_in(heard: np.ndarray, keys: list[str], prompts: PromptSet = SHIPPED) -> list[str]:
    """Those of `keys` heard in `heard`."""
    return [key for key in keys if heard_prompt(heard, key, prompts)]


def says(heard: np.ndarray, key: str) -> bool:
    """`key` was said in `heard` (the voicemail tests' name for `heard_prompt`)."""
    return heard_prompt(heard, key)
