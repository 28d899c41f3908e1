"""Prompt tools: build the shipped prompt set with espeak-ng, check it, convert WAVs to the
box's format. `python -m tools.prompts --help`; docs/prompts.md."""
