"""The rule-version and fee forms of the staff rules editor, built from the policy registry.

Each key the program's versions may hold (`keys_for(shape_of(program))`) gets a field with the
widget its type needs. Completeness and ranges are checked by the registry (`check_draft`), so
every refusal names its key; the form only turns what was typed into values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from stormcert.lib.wallclock import CalendarDateField
from stormcert.programs.models import Fee, Program
from stormcert.programs.policy import PolicyKey, is_required, keys_for, shape_of

YES_NO = [("", "Not set"), ("true", "Yes"), ("false", "No")]
EVERY_STEP = "*"


def field_name(key: str) -> str:
    """A form field name for a rule key ("renewal.opens_days_before_expiry" → "k_renewal__opens_…")."""
    return "k_" + key.replace(".", "__")


@dataclass(frozen=True)
class RuleRow:
    """One rule of the form: its registry entry and the names of its field(s)."""

    spec: PolicyKey
    required: bool
    names: tuple[str, ...]


def _label(spec: PolicyKey) -> str:
    text = spec.help.rstrip(".")
    return f"{text} ({spec.unit})" if spec.unit else text


def _amount(number: int, unit: str) -> str:
    """ "1 year", "2 years", "70 %": units are written plural, so one drops the s."""
    if not unit:
        return str(number)
    if number == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{number} {unit}"


def _help(spec: PolicyKey, required: bool) -> str:
    parts = [f"Key {spec.key}."]
    if spec.minimum is not None and spec.maximum is not None:
        parts.append(f"From {spec.minimum} to {_amount(spec.maximum, spec.unit)}.")
    elif spec.minimum is not None:
        parts.append(f"At least {_amount(spec.minimum, spec.unit)}.")
    if spec.type == "int_list":
        parts.append("Whole numbers separated by commas.")
    if spec.type == "month_day":
        parts.append("Month and day as MM-DD.")
    if spec.type == "number_format":
        parts.append("Use {seq} (required, e.g. {seq:05d}) and {year} (optional).")
    if spec.type == "license_list":
        parts.append("Each kind as code: label, separated by semicolons.")
    parts.append("Required." if required else "Optional: leave empty to leave it out.")
    return " ".join(parts)


class RuleVersionForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Name of the version",
        help_text="What staff will call it, e.g. the year adopted.",
    )
    effective_from = CalendarDateField(
        label="In force from",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Today or later (the program's time zone). Enrollments keep the version they started under.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the audit log.")

    def __init__(self, *args: Any, program: Program, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.program = program
        shape = shape_of(program)
        steps = list(program.steps.order_by("position").values_list("code", "title"))
        fees = sorted(set(Fee.objects.filter(program=program).values_list("code", flat=True)))
        self.rows: list[RuleRow] = []
        for spec in keys_for(shape).values():
            required = is_required(spec, shape)
            names = self._add(spec, required, steps, fees)
            self.rows.append(RuleRow(spec=spec, required=required, names=names))

    def _add(
        self, spec: PolicyKey, required: bool, steps: list[tuple[str, str]], fees: list[str]
    ) -> tuple[str, ...]:
        name = field_name(spec.key)
        label, help_text = _label(spec), _help(spec, required)
        field: forms.Field
        if spec.type in ("int", "percent"):
            attrs: dict[str, Any] = {"step": 1}
            low = 0 if spec.type == "percent" else spec.minimum
            high = 100 if spec.type == "percent" else spec.maximum
            if low is not None:
                attrs["min"] = low
            if high is not None:
                attrs["max"] = high
            field = forms.IntegerField(
                required=False,
                widget=forms.NumberInput(attrs=attrs),
                error_messages={"invalid": f"{spec.key}: enter a whole number."},
            )
        elif spec.type == "bool":
            field = forms.ChoiceField(required=False, choices=YES_NO, widget=forms.RadioSelect)
        elif spec.type == "choice":
            field = forms.ChoiceField(
                required=False, choices=[("", "Not set")] + [(c, c.replace("_", " ")) for c in spec.choices]
            )
        elif spec.type == "step_list":
            field = forms.MultipleChoiceField(
                required=False, choices=steps, widget=forms.CheckboxSelectMultiple
            )
        elif spec.type == "consequence":
            self.fields[f"{name}__fee"] = forms.ChoiceField(
                required=False,
                label="Fee to pay",
                choices=[("", "No fee")] + [(code, code) for code in fees],
            )
            self.fields[f"{name}__redo"] = forms.MultipleChoiceField(
                required=False,
                label="Steps to do again",
                choices=[(EVERY_STEP, "Every step after registration"), *steps],
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[f"{name}__extends"] = forms.BooleanField(
                required=False, label="The enrollment window is extended"
            )
            return (f"{name}__fee", f"{name}__redo", f"{name}__extends")
        else:  # int_list, month_day, number_format, license_list: typed as text
            attrs = {"placeholder": "MM-DD"} if spec.type == "month_day" else {}
            field = forms.CharField(required=False, widget=forms.TextInput(attrs=attrs), strip=True)
        field.label = label
        field.help_text = help_text
        self.fields[name] = field
        return (name,)

    @property
    def rule_rows(self) -> list[tuple[RuleRow, list[forms.BoundField]]]:
        return [(row, [self[name] for name in row.names]) for row in self.rows]

    def set_initial(self, values: dict[str, Any]) -> None:
        """Pre-fill every rule from a version's values (the draft)."""
        for row in self.rows:
            key, name = row.spec.key, row.names[0]
            if key not in values:
                continue
            value = values[key]
            kind = row.spec.type
            if kind == "consequence" and isinstance(value, dict):
                self.initial[f"{field_name(key)}__fee"] = value.get("fee", "")
                self.initial[f"{field_name(key)}__redo"] = list(value.get("redo", []))
                self.initial[f"{field_name(key)}__extends"] = bool(value.get("extends_window", False))
            elif kind == "bool":
                self.initial[name] = "true" if value else "false"
            elif kind == "int_list" and isinstance(value, list):
                self.initial[name] = ", ".join(str(v) for v in value)
            elif kind == "license_list" and isinstance(value, list):
                self.initial[name] = "; ".join(f"{v['code']}: {v['label']}" for v in value)
            else:
                self.initial[name] = value

    def values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The rule values typed (empty fields left out) and, per key, text that could not be read.
        Call after is_valid()."""
        data = self.cleaned_data
        values: dict[str, Any] = {}
        unreadable: dict[str, str] = {}
        for row in self.rows:
            key, kind, name = row.spec.key, row.spec.type, row.names[0]
            if kind == "consequence":
                fee_name, redo_name, extends_name = row.names
                if fee_name not in data:
                    continue
                values[key] = {
                    "fee": data.get(fee_name) or "",
                    "redo": list(data.get(redo_name) or []),
                    "extends_window": bool(data.get(extends_name)),
                }
                continue
            if name not in data:
                continue  # a field error already names the key
            raw = data[name]
            if raw in (None, "", []):
                continue
            if kind == "bool":
                values[key] = raw == "true"
            elif kind == "int_list":
                try:
                    values[key] = [
                        int(part) for part in str(raw).replace(";", ",").split(",") if part.strip()
                    ]
                except ValueError:
                    unreadable[key] = f"{key}: expected whole numbers separated by commas, got {raw!r}"
            elif kind == "step_list":
                values[key] = list(raw)
            elif kind == "license_list":
                kinds = [part.partition(":") for part in str(raw).split(";") if part.strip()]
                if any(not sep for _, sep, _ in kinds):
                    unreadable[key] = f"{key}: write each kind as code: label, separated by semicolons"
                else:
                    values[key] = [{"code": c.strip(), "label": label.strip()} for c, _, label in kinds]
            else:
                values[key] = raw
        return values, unreadable

    def add_problems(self, problems: list[str]) -> None:
        """Show each problem at the field of the key it names, and all of them at the top."""
        for problem in problems:
            placed = False
            for row in self.rows:
                key = row.spec.key
                if problem.startswith((f"{key}:", f"{key} ", f"missing {key} ")):
                    self.add_error(row.names[0], problem)
                    placed = True
                    break
            if not placed and ("effective date" in problem or "take effect on" in problem):
                self.add_error("effective_from", problem)
                placed = True
            if not placed and problem.startswith("A version"):
                self.add_error("name", problem)
                placed = True
            if not placed:
                self.add_error(None, problem)


class FeeForm(forms.Form):
    code = forms.ChoiceField(label="Fee")
    amount = forms.DecimalField(
        label="New amount (USD)",
        min_value=0,
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
        help_text="Zero or more, at most 2 decimal places.",
    )
    effective_from = CalendarDateField(
        label="In force from",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Today or later (the program's time zone). Orders already made keep their amount.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept in the audit log.")

    def __init__(self, *args: Any, program: Program, current: dict[str, Fee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = sorted(set(Fee.objects.filter(program=program).values_list("code", flat=True)))
        labels = {code: fee.name for code, fee in current.items()}
        self.fields["code"].choices = [  # type: ignore[attr-defined]
            (
                code,
                f"{labels.get(code, code)} ({code})"
                + (f", now ${current[code].amount}" if code in current else ""),
            )
            for code in codes
        ]
