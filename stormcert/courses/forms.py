from __future__ import annotations

import zoneinfo
from datetime import time, timedelta
from typing import Any, cast

from django import forms

from stormcert.courses.models import TIME_ZONES, CourseSession, Mode, QuestionKind, Seat, SurveyQuestion
from stormcert.lib.wallclock import CalendarDateField, NonexistentTime, wall_time


class SessionForm(forms.Form):
    """Dates and times are entered as the trainer thinks of them: a day, clock times, a zone.

    A new session belongs to one qualification program: `programs` are those the trainer may
    teach; the choice is offered only when there is more than one (else the only one is used)."""

    title = forms.CharField(max_length=200)
    day = CalendarDateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label="Starts at", widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label="Ends at", widget=forms.TimeInput(attrs={"type": "time"}))
    time_zone = forms.ChoiceField(choices=TIME_ZONES, initial="America/Los_Angeles")
    mode = forms.ChoiceField(choices=Mode.choices, widget=forms.RadioSelect, initial=Mode.IN_PERSON)
    venue = forms.CharField(max_length=200, required=False, help_text="In person: the building or room.")
    address = forms.CharField(max_length=300, required=False)
    city = forms.CharField(max_length=100, required=False)
    meeting_details = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Virtual: the meeting link and dial-in. Only registered candidates see it.",
    )
    capacity = forms.IntegerField(min_value=1, max_value=500, label="Seats")
    closes_on = CalendarDateField(
        label="Registration closes",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="At the end of this day, in the session's time zone. Cancellations close then too.",
    )
    price = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=8,
        decimal_places=2,
        label="Course fee you charge",
        help_text="Information only: you collect it yourself.",
    )
    contact = forms.CharField(max_length=254, help_text="Email or phone registrants can reach you at.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, programs: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = list(programs or [])
        if len(self.programs) > 1:
            self.fields["program"] = forms.ChoiceField(
                label="Qualification program",
                choices=[("", "Choose the program this session teaches")]
                + [(p.code, f"{p.short_name}: {p.name}") for p in self.programs],
                help_text="Candidates of this program register for the session.",
            )
            self.order_fields(["program", *[k for k in self.fields if k != "program"]])

    def chosen_program(self) -> Any:
        """The program of a new session: the one chosen, or the only one offered."""
        if len(self.programs) == 1:
            return self.programs[0]
        code = self.cleaned_data.get("program")
        return next((p for p in self.programs if p.code == code), None)

    @classmethod
    def initial_for(cls, session: CourseSession) -> dict[str, Any]:
        closes = session.local_deadline - timedelta(microseconds=1)
        return {
            "title": session.title,
            "day": session.local_start.date(),
            "start_time": session.local_start.time(),
            "end_time": session.local_end.time(),
            "time_zone": session.time_zone,
            "mode": session.mode,
            "venue": session.venue,
            "address": session.address,
            "city": session.city,
            "meeting_details": session.meeting_details,
            "capacity": session.capacity,
            "closes_on": closes.date(),
            "price": session.price,
            "contact": session.contact,
            "notes": session.notes,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, start, end, zone_name = (data.get(k) for k in ("day", "start_time", "end_time", "time_zone"))
        if day and start and end and zone_name:
            # Clock times in the daylight-saving gap are refused by name (lib.wallclock); the
            # repeated hour in autumn is taken at its first occurrence.
            zone = zoneinfo.ZoneInfo(zone_name)
            for name, at, key in (("start_time", start, "starts_at"), ("end_time", end, "ends_at")):
                try:
                    data[key] = wall_time(day, at, zone)
                except NonexistentTime as exc:
                    self.add_error(name, str(exc))
            if end <= start:
                self.add_error("end_time", "The session must end after it starts.")
            closes = data.get("closes_on")
            if closes:
                if closes >= day:
                    self.add_error("closes_on", "Choose a day before the session.")
                try:
                    data["registration_deadline"] = wall_time(closes + timedelta(days=1), time(0), zone)
                except NonexistentTime as exc:
                    self.add_error("closes_on", str(exc))
        if data.get("mode") == Mode.IN_PERSON:
            for name in ("venue", "city"):
                if not data.get(name):
                    self.add_error(name, "Needed for an in-person session.")
        if data.get("mode") == Mode.VIRTUAL and not data.get("meeting_details"):
            self.add_error("meeting_details", "Needed for a virtual session.")
        return data


class SessionEditForm(SessionForm):
    reason = forms.CharField(
        label="Reason for the change",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Registrants receive it by email with the updated details.",
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class PlanForm(forms.Form):
    plan = forms.CharField(
        label="Virtual training plan",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="The platform, how you keep participants engaged, and how you verify attendance.",
    )


class PlanDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept the plan"), ("reject", "Do not accept")], widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The trainer receives it by email.",
    )


class CalendarFilterForm(forms.Form):
    program = forms.ChoiceField(required=False, label="Qualification program")
    city = forms.ChoiceField(required=False)
    month = forms.ChoiceField(required=False)
    mode = forms.ChoiceField(required=False, choices=[("", "In person or virtual"), *Mode.choices])
    seats = forms.BooleanField(required=False, label="Only sessions with seats left")

    def __init__(
        self,
        *args: Any,
        cities: list[str],
        months: list[tuple[str, str]],
        programs: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if programs is not None and len(programs) > 1:
            cast(forms.ChoiceField, self.fields["program"]).choices = [
                ("", "Every program"),
                *((p.code, p.short_name) for p in programs),
            ]
        else:
            # One program: nothing to choose, and the calendar keeps no filter of it.
            del self.fields["program"]
        cast(forms.ChoiceField, self.fields["city"]).choices = [("", "Any city"), *((c, c) for c in cities)]
        cast(forms.ChoiceField, self.fields["month"]).choices = [("", "Any month"), *months]


class AttendanceForm(forms.Form):
    """One present/absent choice per seat on the roster."""

    def __init__(self, *args: Any, seats: list[Seat], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seats = seats
        for seat in seats:
            initial = {"attended": "present", "absent": "absent"}.get(seat.status, "")
            self.fields[f"seat_{seat.pk}"] = forms.ChoiceField(
                label=seat.user.get_full_name() or seat.user.email,
                choices=[("present", "Present"), ("absent", "Absent")],
                widget=forms.RadioSelect,
                required=False,
                initial=initial,
            )

    def marks(self) -> dict[int, bool]:
        return {
            seat.pk: self.cleaned_data[f"seat_{seat.pk}"] == "present"
            for seat in self.seats
            if self.cleaned_data.get(f"seat_{seat.pk}")
        }

    def rows(self) -> list[tuple[Seat, forms.BoundField]]:
        return [(seat, self[f"seat_{seat.pk}"]) for seat in self.seats]


class SurveyForm(forms.Form):
    RATINGS = [
        (str(n), label)
        for n, label in ((5, "5 Excellent"), (4, "4 Good"), (3, "3 Fair"), (2, "2 Poor"), (1, "1 Very poor"))
    ]

    def __init__(self, *args: Any, questions: list[SurveyQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for q in questions:
            if q.kind == QuestionKind.RATING:
                self.fields[f"q{q.pk}"] = forms.ChoiceField(
                    label=q.text, choices=self.RATINGS, widget=forms.RadioSelect, required=q.required
                )
            else:
                self.fields[f"q{q.pk}"] = forms.CharField(
                    label=q.text,
                    widget=forms.Textarea(attrs={"rows": 3}),
                    required=q.required,
                    max_length=4000,
                )

    def answers(self) -> dict[int, dict[str, Any]]:
        result: dict[int, dict[str, Any]] = {}
        for q in self.questions:
            value = self.cleaned_data.get(f"q{q.pk}")
            if q.kind == QuestionKind.RATING:
                result[q.pk] = {"rating": int(value) if value else None}
            else:
                result[q.pk] = {"comment": value or ""}
        return result


class ReassignForm(forms.Form):
    """Staff hand a session to another Trainer of Record in standing (the choices)."""

    trainer = forms.ChoiceField(label="New trainer")
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 2}), help_text="Registrants are told."
    )

    def __init__(self, *args: Any, trainers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["trainer"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - narrows the type for mypy
        field.choices = [("", "Choose a trainer")] + [
            (str(t.pk), f"{t.get_full_name() or t.email} ({t.email})") for t in trainers
        ]
