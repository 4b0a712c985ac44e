"""Signed-in views annotate `request: AuthedRequest` (stormcert/accounts/requests.py), so
`request.user` is a User to mypy without a cast; a public view narrows with isinstance."""

from __future__ import annotations

from pathlib import Path

import stormcert


def test_no_view_casts_the_request_user() -> None:
    root = Path(stormcert.__file__).parent
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in sorted(root.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "cast(User," in line
    ]
    assert not found, "Annotate the view's request as AuthedRequest instead of casting: " + ", ".join(found)
