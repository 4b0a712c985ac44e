"""iCalendar output: the public feed, one session's invitation, with VTIMEZONE for each zone used."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText

from stormcert.courses.models import CourseSession, Mode
from stormcert.lib.links import absolute_url

PRODID = "-//stormcert//Training Course Calendar//EN"


def _event(session: CourseSession, *, stamp: datetime, with_details: bool) -> Event:
    event = Event()
    event.add("uid", f"course-session-{session.pk}@{settings.SITE_URL.split('//')[-1].rstrip('/')}")
    event.add("dtstamp", stamp)
    # Local times with a TZID (not UTC) so calendars show the class in the zone it is held in.
    event.add("dtstart", session.local_start)
    event.add("dtend", session.local_end)
    event.add("summary", f"{session.title} ({session.get_mode_display().lower()})")
    url = absolute_url("courses:session", session.pk)
    event.add("url", url)
    if session.mode == Mode.IN_PERSON:
        event.add("location", vText(session.place()))
    lines = [f"Trainer of Record: {session.trainer}", f"Contact: {session.contact}"]
    if session.price is not None:
        lines.append(f"Course fee charged by the trainer: ${session.price}")
    if session.notes:
        lines.append(session.notes)
    if with_details and session.mode == Mode.VIRTUAL and session.meeting_details:
        lines.append(f"How to join: {session.meeting_details}")
        event.add("location", vText("Virtual"))
    lines.append(url)
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if session.is_cancelled else "CONFIRMED")
    # SEQUENCE lets calendar apps replace an earlier copy of an edited invitation.
    event.add("sequence", session.revision)
    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL.split('<')[-1].rstrip('>')}")
    organizer.params["cn"] = vText(str(session.trainer))
    event.add("organizer", organizer)
    return event


def calendar_for(
    sessions: Iterable[CourseSession], *, stamp: datetime, with_details: bool = False, name: str = ""
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if name:
        cal.add("x-wr-calname", name)
        cal.add("name", name)
    for session in sessions:
        cal.add_component(_event(session, stamp=stamp, with_details=with_details))
    cal.add_missing_timezones()
    return cal.to_ical()


def invitation(session: CourseSession, *, stamp: datetime) -> dict[str, str]:
    """An email attachment for a registrant: the session with the joining details."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add_component(_event(session, stamp=stamp, with_details=True))
    cal.add_missing_timezones()
    return {"filename": "course.ics", "content": cal.to_ical().decode(), "mimetype": "text/calendar"}
