"""Shared plumbing for the hypothesis state machines in test_state_machines.py.

Each machine drives the real services (no mocks) on the test database. The expensive world
(programs, a question bank, a registered candidate) is built once per test; each hypothesis
example then runs inside a savepoint that its teardown rolls back, so examples never see each
other's rows and no example pays for rebuilding the world.
"""

from __future__ import annotations

import os
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import RuleBasedStateMachine

# Small enough for CI (a few seconds per machine), large enough to reach the interesting corners:
# two failed attempts and a re-registration, a replayed confirmation after a refund, a lapsed window.
# derandomize: CI explores the same paths every run, so a red build is reproducible locally.
MACHINE_SETTINGS = settings(
    max_examples=12,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
    # Shrinking a long failing run can take minutes; CI prints the unshrunk steps instead, and a
    # developer re-runs locally (without CI set) to get the shortest failing sequence.
    phases=[Phase.explicit, Phase.reuse, Phase.generate] if os.environ.get("CI") else list(Phase),
)


class SavepointMachine(RuleBasedStateMachine):
    """A state machine whose every example is rolled back at teardown."""

    def __init__(self) -> None:
        super().__init__()
        self._atomic: Any = transaction.atomic()
        self._atomic.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
