"""Shared test configuration: deterministic randomness, hypothesis profile."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "rrball", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("rrball")


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: tests never use global random state."""
    return np.random.default_rng(20261123)
