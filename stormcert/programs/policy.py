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


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise PolicyError(f"expected a short text (1 to 200 characters), got {value!r}")
    return value.strip()


def _url(value: Any) -> str:
    # Shown to candidates as a link: an https address only (no javascript: or data: links).
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > 500 or " " in value:
        raise PolicyError(f"expected an https:// address, got {value!r}")
    return value


def _license_list(value: Any) -> list[dict[str, str]]:
    """Kinds of professional license a route accepts: [{code = "…", label = "…"}, …]. The code is
    what an enrollment keeps (at most 20 characters); the label is what candidates read."""
    if not isinstance(value, list) or not value:
        raise PolicyError(f"expected a list of {{code, label}} tables, got {value!r}")
    kinds: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"code", "label"}:
            raise PolicyError(f"each license kind needs exactly a code and a label, got {item!r}")
        code, label = item["code"], item["label"]
        if not isinstance(code, str) or not code.strip() or len(code) > 20 or ":" in code or ";" in code:
            raise PolicyError(f"a license code is 1 to 20 characters without : or ;, got {code!r}")
        if not isinstance(label, str) or not label.strip() or len(label) > 100 or ";" in label:
            raise PolicyError(f"a license label is 1 to 100 characters without ;, got {label!r}")
        kinds.append({"code": code.strip(), "label": label.strip()})
    if len({k["code"] for k in kinds}) != len(kinds):
        raise PolicyError("two license kinds share a code")
    return kinds


def _month_day(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 5 or value[2] != "-":
        raise PolicyError(f"expected a month and day as MM-DD, got {value!r}")
    month, day = value.split("-")
    if not (month.isdigit() and day.isdigit() and 1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        raise PolicyError(f"expected a month and day as MM-DD, got {value!r}")
    return value


def _consequence(value: Any) -> dict[str, Any]:
    """What happens on a failure or lapse: which fee to pay and which steps to redo.

    {"fee": "re_registration", "redo": ["<training step>", "<exam step>"], "extends_window": false}
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
    e.g. "ABC-{year}-{seq:05d}". With {year} the sequence starts again every year."""
    if not isinstance(value, str) or "{seq" not in value:
        raise PolicyError(f'expected a pattern with {{seq}}, like "ABC-{{year}}-{{seq:05d}}"; got {value!r}')
    try:
        sample = value.format(year=2024, seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise PolicyError(
            f"{value!r} is not a usable pattern ({exc}); only {{year}} and {{seq}} are known"
        ) from None
    if not sample or len(sample) > 30 or not all(c.isalnum() or c in "-_." for c in sample):
        raise PolicyError(f"{value!r} must make numbers of letters, digits, dashes, dots or underscores")
    return value


# Placeholder in a key template for each exam step of a program: "{exam}.attempts" is
# "written.attempts" and "oral.attempts" for a program whose exam steps are coded that way.
EXAM = "{exam}"


class Need:
    """When a program's rule version must hold a key (the completeness check)."""

    ALWAYS = "always"
    QUALIFICATION = "qualification"  # every qualification program
    TRAINER = "trainer"  # every trainer program
    COURSE_STEP = "course"  # qualification programs with a course step
    TRAINING_STEP = "training"  # programs with an online training step
    EXAM_STEP = "exam"  # one per exam step ({exam} keys)
    OPTIONAL = "optional"


@dataclass(frozen=True)
class PolicyKey:
    """One rule a policy version may hold: its type, unit, range and help text.

    The staff rule editor builds its form from these; definition files and the editor are
    checked against them; `required_keys` says which a complete version of a program needs."""

    key: str
    # int, percent, bool, choice, int_list, month_day, consequence, number_format, step_list, text,
    # url, license_list
    type: str
    help: str
    need: str = Need.OPTIONAL
    unit: str = ""
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    @property
    def per_exam(self) -> bool:
        return EXAM in self.key

    def for_exam(self, code: str, title: str = "") -> PolicyKey:
        return PolicyKey(
            key=self.key.replace(EXAM, code),
            type=self.type,
            help=self.help.replace(EXAM, title or code),
            need=self.need,
            unit=self.unit,
            minimum=self.minimum,
            maximum=self.maximum,
            choices=self.choices,
        )

    def check(self, value: Any) -> Any:
        if self.type == "int":
            number = _int(self.minimum or 0)(value)
            if self.maximum is not None and number > self.maximum:
                raise PolicyError(f"expected a number of at most {self.maximum}, got {number}")
            return number
        if self.type == "percent":
            return _percent(value)
        if self.type == "bool":
            return _bool(value)
        if self.type == "choice":
            return _choice(*self.choices)(value)
        if self.type == "int_list":
            return _int_list(value)
        if self.type == "month_day":
            return _month_day(value)
        if self.type == "text":
            return _text(value)
        if self.type == "url":
            return _url(value)
        if self.type == "consequence":
            return _consequence(value)
        if self.type == "number_format":
            return _number_format(value)
        if self.type == "license_list":
            return _license_list(value)
        if self.type == "step_list":
            if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
                raise PolicyError(f"expected a list of step codes, got {value!r}")
            return list(value)
        raise PolicyError(f"unknown rule type {self.type!r}")  # pragma: no cover: a registry typo


_KEYS = [
    PolicyKey(
        "enrollment.window_years",
        "int",
        "Years a registration gives to finish every step.",
        Need.QUALIFICATION,
        "years",
        1,
    ),
    PolicyKey(f"{EXAM}.question_count", "int", "Questions in “{exam}”.", Need.EXAM_STEP, "questions", 1),
    PolicyKey(
        f"{EXAM}.pass_percent",
        "percent",
        "Score needed to pass “{exam}”.",
        Need.EXAM_STEP,
        "%",
        0,
        100,
    ),
    PolicyKey(
        f"{EXAM}.duration_minutes",
        "int",
        "Time allowed for one sitting of “{exam}”.",
        Need.EXAM_STEP,
        "minutes",
        1,
    ),
    PolicyKey(
        f"{EXAM}.attempts",
        "int",
        "Attempts at “{exam}” per registration.",
        Need.EXAM_STEP,
        "attempts",
        1,
    ),
    PolicyKey(
        f"consequence.{EXAM}_failed_out",
        "consequence",
        "What happens when every attempt at “{exam}” is failed.",
        Need.EXAM_STEP,
    ),
    PolicyKey(
        "exam.review",
        "choice",
        "What a candidate sees after an exam.",
        Need.QUALIFICATION,
        choices=("score_only", "score_and_topics", "full"),
    ),
    PolicyKey(
        "consequence.window_expired",
        "consequence",
        "What happens when the enrollment window ends before every step is done.",
        Need.QUALIFICATION,
    ),
    PolicyKey(
        "journey.skipped_steps",
        "step_list",
        "Steps of the program that enrollments under this version do not take (an older rule set "
        "that had fewer steps).",
    ),
    PolicyKey("certificate.validity_years", "int", "Years a certificate is valid.", Need.ALWAYS, "years", 1),
    PolicyKey(
        "certificate.number_format",
        "number_format",
        "Pattern of new certificate numbers ({year}, {seq}).",
        Need.ALWAYS,
    ),
    PolicyKey(
        "renewal.opens_days_before_expiry",
        "int",
        "Days before expiry that renewal opens.",
        Need.QUALIFICATION,
        "days",
        0,
    ),
    PolicyKey(
        "renewal.reminder_days",
        "int_list",
        "Reminder offsets in days before expiry (negative: after).",
        Need.QUALIFICATION,
        "days",
    ),
    PolicyKey(
        "renewal.requalify_after_days",
        "int",
        "Days after expiry past which renewal is refused (0: never).",
        Need.QUALIFICATION,
        "days",
        0,
    ),
    PolicyKey(
        "renewal.extends_from_expiry_if_on_time",
        "bool",
        "On-time renewal extends from the old expiry.",
        Need.QUALIFICATION,
    ),
    PolicyKey(
        "renewal.reminder_catch_up_days",
        "int",
        "Days a reminder may still go out late (the periodic job did not run); older ones are skipped.",
        Need.QUALIFICATION,
        "days",
        0,
    ),
    # The self-directed route for licensed professionals. A program offers it only when its rules
    # list the license kinds it accepts (and the state that must have issued the license).
    PolicyKey(
        "self_directed.license_types",
        "license_list",
        "License kinds that may qualify by the self-directed route (none: the program has no such route).",
    ),
    PolicyKey(
        "self_directed.license_state",
        "text",
        "The state whose registration the self-directed route requires (as candidates read it).",
    ),
    PolicyKey("term.start", "month_day", "First day of a yearly term (MM-DD).", Need.TRAINER),
    PolicyKey(
        "review.minimum_reviewers",
        "int",
        "Reviewers who must score a Statement of Qualifications before staff decide on it.",
        Need.TRAINER,
        "reviewers",
        1,
        10,
    ),
    PolicyKey(
        "term.fee_due", "month_day", "Day the yearly fee is due without the late fee (MM-DD).", Need.TRAINER
    ),
    PolicyKey(
        "term.reminder_days_before",
        "int_list",
        "Days before the yearly fee's due day that a Trainer of Record is reminded of the fee and renewal steps.",
        Need.TRAINER,
        "days",
    ),
    PolicyKey(
        "term.reminder_catch_up_days",
        "int",
        "Days a ToR reminder may still go out late (the periodic job did not run); older ones are skipped.",
        Need.TRAINER,
        "days",
        0,
    ),
    PolicyKey(
        "course.virtual_contact_lead_days",
        "int",
        "Days before a virtual class to contact staff.",
        Need.COURSE_STEP,
        "days",
        0,
    ),
    PolicyKey(
        "course.virtual_plan_lead_days",
        "int",
        "Days before a virtual class the plan is due.",
        Need.COURSE_STEP,
        "days",
        0,
    ),
    PolicyKey(
        "course.waitlist_offer_hours",
        "int",
        "Hours a waitlist seat offer stays open.",
        Need.COURSE_STEP,
        "hours",
        1,
    ),
    PolicyKey(
        "course.reminder_hours_before",
        "int",
        "Hours before a session its registrants are reminded.",
        Need.COURSE_STEP,
        "hours",
        1,
    ),
    PolicyKey(
        "course.attendance_days_after",
        "int",
        "Days after a session's day (its own time zone) that attendance may still be recorded.",
        Need.COURSE_STEP,
        "days",
        0,
    ),
    PolicyKey(
        "handbook.access_years",
        "int",
        "Years of access to a handbook that comes with registration (0 or absent: none).",
        Need.OPTIONAL,
        "years",
        0,
    ),
    PolicyKey(
        "handbook.title",
        "text",
        "Title of the handbook that comes with registration, as candidates see it.",
    ),
    PolicyKey(
        "handbook.url",
        "url",
        "Where registered candidates open the handbook (an https:// address), while their access lasts.",
    ),
    PolicyKey(
        "training.estimated_hours",
        "int",
        "Typical hours the online training takes (the least an estimate says).",
        Need.TRAINING_STEP,
        "hours",
        1,
    ),
    PolicyKey(
        "training.estimated_hours_max",
        "int",
        "Upper end of the typical hours the online training takes (estimates give a range).",
        Need.TRAINING_STEP,
        "hours",
        1,
    ),
    # How a lesson counts as studied. The server measures; the page only reports what it saw.
    PolicyKey(
        "training.video_watched_percent",
        "percent",
        "Share of a video lesson's length to watch in normal playback before it counts (skipping "
        "ahead counts nothing; the server credits watching no faster than real time).",
        Need.TRAINING_STEP,
        "%",
        0,
        100,
    ),
    PolicyKey(
        "training.reading_open_percent",
        "percent",
        "Share of a reading's estimated minutes it must be open (measured by the server) before it "
        "counts; also case studies without questions.",
        Need.TRAINING_STEP,
        "%",
        0,
        100,
    ),
    PolicyKey(
        "training.reading_scrolled_open_percent",
        "percent",
        "Share of a reading's estimated minutes that is enough once the candidate has scrolled to its "
        "end (the same as the open share: scrolling changes nothing).",
        Need.TRAINING_STEP,
        "%",
        0,
        100,
    ),
    PolicyKey(
        "training.document_must_open",
        "bool",
        "A document lesson counts only once its file has been opened.",
        Need.TRAINING_STEP,
    ),
    PolicyKey(
        "training.idle_cutoff_seconds",
        "int",
        "Most time one gap between two signs of study on a lesson page counts (an idle or closed tab "
        "stops adding time after this).",
        Need.TRAINING_STEP,
        "seconds",
        15,
        900,
    ),
]
KEY_TEMPLATES: dict[str, PolicyKey] = {k.key: k for k in _KEYS}


@dataclass(frozen=True)
class ProgramShape:
    """What the completeness check needs to know about a program: its kind and step kinds."""

    kind: str
    steps: tuple[tuple[str, str], ...]  # (code, kind) in order
    titles: tuple[tuple[str, str], ...] = ()  # (code, title): help texts name exam steps by title

    @property
    def exam_steps(self) -> list[str]:
        return [code for code, kind in self.steps if kind == "exam"]

    @property
    def step_codes(self) -> list[str]:
        return [code for code, _ in self.steps]

    def has(self, step_kind: str) -> bool:
        return any(kind == step_kind for _, kind in self.steps)


def shape_of(program: Any) -> ProgramShape:
    steps = list(program.steps.order_by("position").values_list("code", "kind", "title"))
    return ProgramShape(
        program.kind,
        tuple((code, kind) for code, kind, _ in steps),
        tuple((code, title) for code, _, title in steps),
    )


def keys_for(shape: ProgramShape) -> dict[str, PolicyKey]:
    """Every key a version of this program may hold, the {exam} templates expanded per exam step."""
    keys: dict[str, PolicyKey] = {}
    for spec in _KEYS:
        if spec.per_exam:
            titles = dict(shape.titles)
            for code in shape.exam_steps:
                concrete = spec.for_exam(code, titles.get(code, ""))
                keys[concrete.key] = concrete
        else:
            keys[spec.key] = spec
    return keys


def is_required(spec: PolicyKey, shape: ProgramShape) -> bool:
    if spec.need == Need.ALWAYS:
        return True
    if spec.need == Need.EXAM_STEP:
        return True  # only expanded for the program's exam steps
    if spec.need == Need.QUALIFICATION:
        return shape.kind == "qualification"
    if spec.need == Need.TRAINER:
        return shape.kind == "trainer"
    if spec.need == Need.COURSE_STEP:
        return shape.kind == "qualification" and shape.has("course")
    if spec.need == Need.TRAINING_STEP:
        return shape.has("training")
    return False


def required_keys(shape: ProgramShape) -> list[str]:
    return [key for key, spec in keys_for(shape).items() if is_required(spec, shape)]


def spec_for(key: str, shape: ProgramShape | None = None) -> PolicyKey | None:
    """The registry entry for a concrete key; with a shape, {exam} keys only for its exam steps."""
    if key in KEY_TEMPLATES and not KEY_TEMPLATES[key].per_exam:
        return KEY_TEMPLATES[key]
    if shape is not None:
        return keys_for(shape).get(key)
    for spec in _KEYS:
        if spec.per_exam:
            prefix, _, suffix = spec.key.partition(EXAM)
            middle = key[len(prefix) : len(key) - len(suffix)] if suffix else key[len(prefix) :]
            if key.startswith(prefix) and key.endswith(suffix) and middle and "." not in middle:
                return spec.for_exam(middle)
    return None


def validate_value(key: str, value: Any, shape: ProgramShape | None = None) -> Any:
    spec = spec_for(key, shape)
    if spec is None:
        known = sorted(keys_for(shape)) if shape else sorted(KEY_TEMPLATES)
        raise PolicyError(f"unknown policy key {key!r}; known keys: {', '.join(known)}")
    try:
        return spec.check(value)
    except PolicyError as exc:
        raise PolicyError(f"{key}: {exc}") from None


def missing_keys(values: dict[str, Any], shape: ProgramShape) -> list[str]:
    return [key for key in required_keys(shape) if key not in values]


def check_version(values: dict[str, Any], shape: ProgramShape, fee_codes: set[str]) -> list[str]:
    """Every problem with a whole rule version for a program, in words: unknown keys, bad
    values, missing keys, consequences naming fees or steps the program lacks. Empty: usable."""
    problems: list[str] = []
    for key, value in values.items():
        try:
            values[key] = validate_value(key, value, shape)
        except PolicyError as exc:
            problems.append(str(exc))
            continue
        spec = spec_for(key, shape)
        if spec is not None and spec.type == "consequence":
            fee_code = values[key]["fee"]
            if fee_code and fee_code not in fee_codes:
                problems.append(f"{key} names fee {fee_code!r}, which the program does not define")
            for redo in values[key]["redo"]:
                if redo != "*" and redo not in shape.step_codes:
                    problems.append(f"{key} names step {redo!r}, which the program does not have")
        if spec is not None and spec.type == "step_list":
            for code in values[key]:
                if code not in shape.step_codes:
                    problems.append(f"{key} names step {code!r}, which the program does not have")
    low, high = values.get("training.estimated_hours"), values.get("training.estimated_hours_max")
    if isinstance(low, int) and isinstance(high, int) and high < low:
        problems.append(
            f"training.estimated_hours_max: {high} is below training.estimated_hours ({low}); "
            "the range must not shrink below the stated minimum"
        )
    problems.extend(f"missing {key} ({keys_for(shape)[key].help})" for key in missing_keys(values, shape))
    return problems
