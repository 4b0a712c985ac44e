"""The vocabulary of program rules: which keys a policy version may hold and their shapes.

This module holds no figures, only names and types; the figures are in the definition files
and the database. Later features add their keys here, so a typo in a definition file or the
admin is a clear error instead of a rule silently not applying.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class PolicyError(ValueError):
    pass


def _int(minimum: int = 0) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(f"expected a whole number, got {value!r}")
        if value < minimum:
            raise PolicyError(f"expected a number of at least {minimum}, got {value}")
        return value

    return check


def _percent(value: Any) -> int:
    number = _int(0)(value)
    if number > 100:
        raise PolicyError(f"expected a percentage from 0 to 100, got {number}")
    return number


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"expected true or false, got {value!r}")
    return value


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise PolicyError(f"expected one of {', '.join(choices)}; got {value!r}")
        return str(value)

    return check


def _int_list(value: Any) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise PolicyError(f"expected a list of whole numbers, got {value!r}")
    return list(value)


def _month_day(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 5 or value[2] != "-":
        raise PolicyError(f"expected a month and day as MM-DD, got {value!r}")
    month, day = value.split("-")
    if not (month.isdigit() and day.isdigit() and 1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        raise PolicyError(f"expected a month and day as MM-DD, got {value!r}")
    return value


def _consequence(value: Any) -> dict[str, Any]:
    """What happens on a failure or lapse: which fee to pay and which steps to redo.

    {"fee": "re_registration", "redo": ["training", "midterm"], "extends_window": false}
    "redo": ["*"] means every step after registration. Fee and step codes are checked
    against the program when a definition is loaded.
    """
    if not isinstance(value, dict):
        raise PolicyError(f"expected a table with fee, redo and extends_window, got {value!r}")
    unknown = set(value) - {"fee", "redo", "extends_window"}
    if unknown:
        raise PolicyError(
            f"unknown field(s) {', '.join(sorted(unknown))}; allowed: fee, redo, extends_window"
        )
    fee = value.get("fee", "")
    redo = value.get("redo", [])
    extends = value.get("extends_window", False)
    if not isinstance(fee, str):
        raise PolicyError(f"fee must be a fee code, got {fee!r}")
    if not isinstance(redo, list) or not all(isinstance(code, str) for code in redo):
        raise PolicyError(f"redo must be a list of step codes, got {redo!r}")
    if not isinstance(extends, bool):
        raise PolicyError(f"extends_window must be true or false, got {extends!r}")
    return {"fee": fee, "redo": list(redo), "extends_window": extends}


def _number_format(value: Any) -> str:
    """A certificate number pattern: Python format fields {seq} (required) and {year} (optional),
    e.g. "QISP-{year}-{seq:05d}". With {year} the sequence starts again every year."""
    if not isinstance(value, str) or "{seq" not in value:
        raise PolicyError(f'expected a pattern with {{seq}}, like "QISP-{{year}}-{{seq:05d}}"; got {value!r}')
    try:
        sample = value.format(year=2024, seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise PolicyError(
            f"{value!r} is not a usable pattern ({exc}); only {{year}} and {{seq}} are known"
        ) from None
    if not sample or len(sample) > 30 or not all(c.isalnum() or c in "-_." for c in sample):
        raise PolicyError(f"{value!r} must make numbers of letters, digits, dashes, dots or underscores")
    return value


@dataclass(frozen=True)
class PolicyKey:
    key: str
    check: Callable[[Any], Any]
    help: str


_KEYS = [
    PolicyKey("enrollment.window_years", _int(1), "Years a registration gives to finish every step."),
    PolicyKey("midterm.question_count", _int(1), "Questions in the midterm."),
    PolicyKey("midterm.pass_percent", _percent, "Score needed to pass the midterm, in percent."),
    PolicyKey("midterm.duration_minutes", _int(1), "Time allowed for one midterm sitting."),
    PolicyKey("midterm.attempts", _int(1), "Attempts per registration."),
    PolicyKey("final.question_count", _int(1), "Questions in the final exam."),
    PolicyKey("final.pass_percent", _percent, "Score needed to pass the final, in percent."),
    PolicyKey("final.duration_minutes", _int(1), "Time allowed for one final sitting."),
    PolicyKey("final.attempts", _int(1), "Attempts per registration."),
    PolicyKey(
        "exam.review", _choice("score_only", "score_and_topics", "full"), "What a candidate sees after."
    ),
    PolicyKey("consequence.midterm_failed_out", _consequence, "When every midterm attempt is failed."),
    PolicyKey("consequence.final_failed_out", _consequence, "When every final attempt is failed."),
    PolicyKey("consequence.window_expired", _consequence, "When the enrollment window ends unfinished."),
    PolicyKey("certificate.validity_years", _int(1), "Years a certificate is valid."),
    PolicyKey(
        "certificate.number_format", _number_format, "Pattern of new certificate numbers ({year}, {seq})."
    ),
    PolicyKey("renewal.opens_days_before_expiry", _int(0), "Days before expiry that renewal opens."),
    PolicyKey(
        "renewal.reminder_days", _int_list, "Reminder offsets in days before expiry (negative: after)."
    ),
    PolicyKey(
        "renewal.requalify_after_days", _int(0), "Days after expiry past which renewal is refused (0: never)."
    ),
    PolicyKey(
        "renewal.extends_from_expiry_if_on_time", _bool, "On-time renewal extends from the old expiry."
    ),
    PolicyKey(
        "renewal.reminder_catch_up_days",
        _int(0),
        "Days a reminder may still go out late (the periodic job did not run); older ones are skipped.",
    ),
    PolicyKey("term.start", _month_day, "First day of a yearly term (MM-DD)."),
    PolicyKey("term.fee_due", _month_day, "Day the yearly fee is due without the late fee (MM-DD)."),
    PolicyKey("course.virtual_contact_lead_days", _int(0), "Days before a virtual class to contact staff."),
    PolicyKey("course.virtual_plan_lead_days", _int(0), "Days before a virtual class the plan is due."),
    PolicyKey("course.waitlist_offer_hours", _int(1), "Hours a waitlist seat offer stays open."),
    PolicyKey(
        "course.reminder_hours_before", _int(1), "Hours before a session its registrants are reminded."
    ),
    PolicyKey(
        "course.attendance_days_after",
        _int(0),
        "Days after a session's day (its own time zone) that attendance may still be recorded.",
    ),
    PolicyKey("handbook.access_years", _int(0), "Years of access to the BMP handbook with registration."),
    PolicyKey("training.estimated_hours", _int(1), "Typical hours the online training takes."),
]
POLICY_KEYS: dict[str, PolicyKey] = {k.key: k for k in _KEYS}


def validate_value(key: str, value: Any) -> Any:
    spec = POLICY_KEYS.get(key)
    if spec is None:
        raise PolicyError(f"unknown policy key {key!r}; known keys: {', '.join(sorted(POLICY_KEYS))}")
    if spec.check is str:
        if not isinstance(value, str):
            raise PolicyError(f"{key}: expected text, got {value!r}")
        return value
    try:
        return spec.check(value)
    except PolicyError as exc:
        raise PolicyError(f"{key}: {exc}") from None


CONSEQUENCE_KEYS = [k for k in POLICY_KEYS if k.startswith("consequence.")]
