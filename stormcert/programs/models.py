"""Programs as data: a program, its ordered steps, its rule versions and its fees.

Nothing about any one program (a qualification or a trainer program) is written in code: every figure (fees, attempts,
pass marks, durations, windows, validity) lives in these tables, each with the date it takes
effect, and is read through `stormcert.programs.rules.rules_in_force`.
"""

from __future__ import annotations

import zoneinfo
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", "Use letters, digits, dots, dashes and underscores only."
)


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not a known time zone (e.g. America/Los_Angeles).") from None


class ProgramKind(models.TextChoices):
    QUALIFICATION = "qualification", "Qualification (candidates work through steps to a certificate)"
    TRAINER = "trainer", "Trainer program (yearly applications and terms)"


class Program(models.Model):
    code = models.CharField(max_length=30, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=ProgramKind.choices)
    summary = models.TextField(help_text="What the program is, in a paragraph, for the public page.")
    time_zone = models.CharField(
        max_length=64, default="America/Los_Angeles", validators=[validate_time_zone]
    )
    requires = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="required_by",
        help_text="Programs whose active certificate a person must hold to take part.",
    )
    teaches = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="taught_by",
        help_text="For a trainer program: the qualification programs whose courses its trainers teach.",
    )
    resources = models.JSONField(default=list, blank=True, help_text='Links: [{"title": …, "url": …}]')
    figures_source = models.TextField(
        blank=True, help_text="Where the program's figures (fees, rules) come from, for its public page."
    )
    is_public = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    # Other names earlier systems wrote for the program (an import's program column matches the
    # code, the short name or one of these, in any case). The loader keeps them unique across
    # programs: one alias naming two programs would make an imported row's program a guess.
    aliases: models.JSONField[list[str]] = models.JSONField(
        default=list, blank=True, help_text='Other names for the program in imported files: ["…", …]'
    )

    # What the help page answers for the program, from its definition: questions people ask the
    # program office ([{"question": …, "answer": …}]) and how to reach that office ({"office",
    # "email", "phone", "hours", "note"}; every key optional). Data, so a program office changes its
    # answers and address without a release.
    faq: models.JSONField[list[dict[str, str]]] = models.JSONField(
        default=list, blank=True, help_text='Questions and answers: [{"question": …, "answer": …}]'
    )
    contact: models.JSONField[dict[str, str]] = models.JSONField(
        default=dict,
        blank=True,
        help_text='The program office: {"office": …, "email": …, "phone": …, "hours": …, "note": …}',
    )

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.short_name or self.code

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def clean(self) -> None:
        """Aliases (as the admin edits them) are names, each naming this program only; the
        loader checks the same for a definition file (definitions._check_aliases)."""
        super().clean()
        aliases = self.aliases
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise ValidationError({"aliases": 'A list of names, e.g. ["Old name", "OLD"].'})
        # The help page's data as the admin edits it: the same shape the loader checks.
        faq = self.faq
        if not isinstance(faq, list) or not all(
            isinstance(e, dict)
            and set(e) == {"question", "answer"}
            and all(isinstance(v, str) and v.strip() for v in e.values())
            for e in faq
        ):
            raise ValidationError({"faq": 'A list of questions and answers: [{"question": …, "answer": …}].'})
        contact = self.contact
        if not isinstance(contact, dict) or not all(
            k in ("office", "email", "phone", "hours", "note") and isinstance(v, str)
            for k, v in contact.items()
        ):
            raise ValidationError({"contact": '{"office": …, "email": …, "phone": …, "hours": …, "note": …}'})
        mine = {name_key(a): a for a in aliases}
        for other in Program.objects.exclude(pk=self.pk):
            taken = [mine[k] for k in {name_key(n) for n in other.names()} if k in mine]
            if taken:
                raise ValidationError(
                    {
                        "aliases": f"{', '.join(sorted(taken))} already names {other.code}; an alias names one program."
                    }
                )

    def names(self) -> list[str]:
        """Every name an imported file may use for the program: code, short name, aliases."""
        return list(dict.fromkeys([self.code, self.short_name, *self.aliases]))


def name_key(text: str) -> str:
    """How a program name is compared: case and surrounding or doubled spaces do not count."""
    return " ".join(text.split()).casefold()


class StepKind(models.TextChoices):
    ACCOUNT = "account", "Create an account"
    ACKNOWLEDGE = "acknowledge", "Read and acknowledge"
    QUESTIONNAIRE = "questionnaire", "Questionnaire"
    PAYMENT = "payment", "Registration and payment"
    TRAINING = "training", "Online training"
    EXAM = "exam", "Exam"
    COURSE = "course", "Course with a Trainer of Record"
    SURVEY = "survey", "Survey"
    APPLICATION = "application", "Application"
    AGREEMENT = "agreement", "Agreement"
    MEETING = "meeting", "Meeting or orientation"
    APPROVAL = "approval", "Staff approval"


class Step(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=40, validators=[code_validator])
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=StepKind.choices)
    description = models.TextField(blank=True)
    resources = models.JSONField(default=list, blank=True, help_text='Links: [{"title": …, "url": …}]')

    class Meta:
        ordering = ["program", "position"]
        constraints = [
            models.UniqueConstraint(fields=["program", "position"], name="programs_step_position_unique"),
            models.UniqueConstraint(fields=["program", "code"], name="programs_step_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.program}: {self.position}. {self.title}"


class PolicyVersion(models.Model):
    """A complete set of rule values for a program, in force from a date until the next one.

    An enrollment keeps the version it started under, so a rule change never moves the goal
    posts for someone half-way through.
    """

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="policy_versions")
    name = models.CharField(
        max_length=100, help_text="A name staff know the rule set by, e.g. the year it was adopted."
    )
    effective_from = models.DateField()
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["program", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["program", "effective_from"], name="programs_policy_day_unique"),
            models.UniqueConstraint(fields=["program", "name"], name="programs_policy_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.program} rules “{self.name}” from {self.effective_from}"


class PolicyValue(models.Model):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="values")
    key = models.CharField(max_length=80)
    value = models.JSONField()

    class Meta:
        ordering = ["version", "key"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="programs_value_key_unique")]

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r}"

    def clean(self) -> None:
        from stormcert.programs.policy import PolicyError, shape_of, validate_value

        try:
            self.value = validate_value(self.key, self.value, shape_of(self.version.program))
        except PolicyError as exc:
            raise ValidationError({"value": str(exc)}) from None


class Fee(models.Model):
    """An amount charged for one item, from a date; the order keeps the amount it was made at."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="fees")
    code = models.CharField(max_length=40, validators=[code_validator])
    name = models.CharField(max_length=200)
    amount = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(max_length=3, default="USD")
    effective_from = models.DateField()
    refundable = models.BooleanField(default=True)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["program", "code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "code", "effective_from"], name="programs_fee_day_unique"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="programs_fee_amount_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.currency} {self.amount} from {self.effective_from}"

    def is_in_force_on(self, day: date) -> bool:
        return self.effective_from <= day
