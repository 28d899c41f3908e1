"""The virtual phone: drive the virtual board's handsets as a person would.

`phone 101 offhook`, `phone 101 dial 102`, `phone 102 listen` — see docs/phone.md.
"""
