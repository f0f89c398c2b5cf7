"""Scoring fixtures: the shared scheme, contracts with the seed 004 targets, assessors and a township leader."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import SHARED

SCHEME_FILE = SHARED / "reference" / "scheme_township_1000.yaml"
SCHEME_TEXT = SCHEME_FILE.read_text(encoding="utf-8")
YEAR = 2026
