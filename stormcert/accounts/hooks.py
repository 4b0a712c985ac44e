"""What other apps refresh when a person's name or contact details change.

The certificates app keeps a denormalised directory entry per certificate (name, and the
contact details the holder opted in to show); it registers here to keep that entry current.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stormcert.accounts.models import User

ProfileHook = Callable[["User"], object]

PROFILE_HOOKS: list[ProfileHook] = []


def on_profile_changed(hook: ProfileHook) -> ProfileHook:
    if hook not in PROFILE_HOOKS:
        PROFILE_HOOKS.append(hook)
    return hook


def profile_changed(user: User) -> None:
    for hook in PROFILE_HOOKS:
        hook(user)
