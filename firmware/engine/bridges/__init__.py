"""Bridges join channels: two-party PCM now; relay and mixer kinds come with SIP and 3-way."""
