"""What other apps do when someone completes a qualification, without enrollments knowing them.

The certificates app registers here to issue the certificate; the hooks run inside the
transaction that marks the enrollment complete, so a failure rolls the completion back too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stormcert.enrollments.models import Enrollment

# (enrollment, actor, now) -> None. `enrollment.route` says how it was completed.
CompletionHook = Callable[["Enrollment", Any, datetime], None]

COMPLETION_HOOKS: list[CompletionHook] = []


def on_enrollment_completed(hook: CompletionHook) -> CompletionHook:
    if hook not in COMPLETION_HOOKS:
        COMPLETION_HOOKS.append(hook)
    return hook


def enrollment_completed(enrollment: Enrollment, actor: Any, now: datetime) -> None:
    for hook in COMPLETION_HOOKS:
        hook(enrollment, actor, now)
