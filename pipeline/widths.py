"""How wide a text shows, in narrow (Latin) characters: for console tables and report columns alike.

Kept apart from the Excel module so the command line can lay out its tables without importing pandas.
"""
from __future__ import annotations

import unicodedata


def display_width(text: object) -> int:
    """Width in narrow characters: East Asian wide and full-width characters count 2."""
    text = str(text)
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
