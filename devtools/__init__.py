"""Development helpers shared by tests and benchmarks (not shipped in the wheel)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
