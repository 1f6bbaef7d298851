"""Shared test set-up: the builders module (workbooks made in code) is importable from every folder."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
