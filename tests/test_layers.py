"""Dependencies point one way: the import contract in pyproject.toml ([tool.importlinter]).

The order, lowest first (README, "Architecture"): lib ← audit | emails ← accounts ← programs ←
payments | training ← enrollments ← exams | courses ← certificates ← renewals | trainers ←
directory | backoffice ← api ← core. Apps on one line (`|`) may not import each other either; a
lower app hears of a higher one only through the hook registry it owns. import-linter reads
every import in stormcert/, the ones inside functions too; tests and bench are outside the
package and outside the contract.

The contract is checked here, so a wrong-way import fails the suite; the second test proves the
check can fail, on a copy of the package with one wrong-way import added.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the `stormcert` package found under `root`, with that root's contract."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_imports_follow_the_layers() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, (
        "An import goes against the layer order (README, Architecture). Move the code up to the "
        "app that composes it, down to lib, or ask through the lower app's hooks.py:\n" + result.stdout
    )
    assert "1 kept, 0 broken" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_import", "message"),
    [
        # Upwards: a lower app reaching into a higher one.
        (
            "courses/wrong_way.py",
            "from stormcert.trainers.models import TrainerTerm\n",
            "stormcert.courses is not allowed to import stormcert.trainers",
        ),
        # Sideways: two apps on one layer.
        (
            "audit/wrong_way.py",
            "from stormcert.emails.models import OutboundEmail\n",
            "stormcert.audit is not allowed to import stormcert.emails",
        ),
        # Inside a function counts too: lib knows no app.
        (
            "lib/wrong_way.py",
            "def f():\n    from stormcert.accounts.models import User\n    return User\n",
            "stormcert.lib is not allowed to import stormcert.accounts",
        ),
    ],
)
def test_a_wrong_way_import_breaks_the_contract(
    tmp_path: Path, module: str, wrong_import: str, message: str
) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "stormcert",
        tmp_path / "stormcert",
        ignore=shutil.ignore_patterns("static", "templates", "samples", "__pycache__", "*.html"),
    )
    (tmp_path / "stormcert" / module).write_text(wrong_import, encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert message in result.stdout, result.stdout
    assert f"stormcert.{module.removesuffix('.py').replace('/', '.')}" in result.stdout
