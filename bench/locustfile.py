"""Exam day, mixed: the traffic of the day of a final, and what each client was told.

User classes (each with a fixed count from the environment, set by exam_day.py):
- Candidate: resumes the final started at the synchronized start, answers every question with
  think time and submits, then reads the result. Answers go through a journal as on the exam page:
  an answer is kept until the server acknowledges it and resent (in order) until it is.
- Visitor: the public, searching the directory with short queries and verifying numbers (the page
  and the API).
- Registrant: a candidate past the midterm registering for a course session with few seats;
  some cancel later (which offers the seat to the waitlist), the waitlisted watch for an offer.
- Payer: a candidate paying the registration fee with the test-mode provider, with the double
  clicks, two tabs and retries that could make a double payment.
- Floor: the trivial signed-in view /ping/, sampled in the same run.

Faults the clients take part in: a tenth of them are cut off for 30 s (they read the cut from
bench/.run/cut.json, written by faults.py): while cut, a client sends nothing; a candidate keeps
answering into the journal, the others wait, and all resend what was unsent once back. Requests
that fail (a worker killed mid-request, the database restarting) are retried like the page does.

At the end every process writes bench/.run/outcomes-<pid>.json: each client's record of what the
server told it, which bench/check.py compares with the database.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, constant, events, task
from locust.clients import HttpSession

RUN = Path(__file__).resolve().parent / ".run"
SESSIONS = json.loads((RUN / "sessions.json").read_text())
POOLS: dict[str, Any] = json.loads((RUN / "pools.json").read_text()) if (RUN / "pools.json").exists() else {}
KEYS: dict[str, list[int]] = (
    json.loads((RUN / "keys.json").read_text()) if (RUN / "keys.json").exists() else {}
)
QUESTIONS = int(os.environ.get("BENCH_QUESTIONS", "70"))
THINK = (float(os.environ.get("BENCH_THINK_MIN", "4")), float(os.environ.get("BENCH_THINK_MAX", "8")))
EXAM = os.environ.get("BENCH_EXAM", "final")
PROGRAM = os.environ.get("BENCH_PROGRAM", "QISP")  # exams are named by program: /exams/QISP/final/
# Registrants and payers arrive spread over this many seconds, so their requests meet the faults.
SPREAD = float(os.environ.get("BENCH_SPREAD", "60"))
TIMEOUT = 30  # seconds a client waits for an answer before it counts the request as failed
# A candidate who knows the material answers right this often; the others, this often.
SKILLED, UNSKILLED, SKILLED_SHARE = 0.92, 0.45, 0.85

ACKS: list[tuple[int, int, int, int]] = []  # attempt, position, seq, choice shown
UNSAVED: list[tuple[int, int, int]] = []  # saves given up on after retries
EXAMS: list[dict[str, Any]] = []  # user, attempt, told: passed / not passed / unknown
SEATS: list[dict[str, Any]] = []  # user, session, told (the last thing the server said), history
PAYMENTS: list[dict[str, Any]] = []  # user, order, told per payment, paid_told
FAILURES: list[tuple[float, str, str, str]] = []  # when, method, endpoint, kind: matched with the faults
REQUESTS: list[tuple[float, str, float, bool]] = []  # every request: when it ended, endpoint, ms, failed
HELD_BACK: dict[str, int] = {}  # requests a cut-off client did not send (resent later or skipped)

_index = itertools.count()  # one index per client across all classes: the cut picks a tenth of them
_pool_next: dict[str, itertools.count[int]] = {}
_cut: dict[str, Any] = {"checked": 0.0, "state": None}


def cut_state() -> dict[str, Any] | None:
    """The fault driver's cut (which tenth, until when), read at most once a second."""
    now = time.time()
    if now - _cut["checked"] > 1:
        _cut["checked"] = now
        try:
            _cut["state"] = json.loads((RUN / "cut.json").read_text())
        except (OSError, ValueError):
            _cut["state"] = None
    state = _cut["state"]
    return state if state and now < state["until"] else None


def failure_kind(response: Any) -> str:
    """How a request failed, as the figures group it."""
    if response.status_code == 0 or response.status_code is None:
        error = repr(getattr(response, "error", ""))
        if "timed out" in error.lower() or "Timeout" in error:
            return "timeout"
        if "refused" in error.lower():
            return "connection refused"
        return "connection dropped"  # a worker killed mid-request: reset or closed without answer
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    return f"HTTP {response.status_code} (unexpected)"


def message_of(html: str) -> str:
    """The flash message a page shows (what the person is told after a form)."""
    found = re.findall(r'<p class="message message-\w+">(.*?)</p>', html, re.S)
    return " ".join(m.strip() for m in found)


class Client(HttpUser):
    abstract = True
    pool = ""

    def on_start(self) -> None:
        self.index = next(_index)
        self.me: dict[str, str] | None = None
        people = SESSIONS if self.pool == "candidates" else POOLS.get(self.pool, [])
        n = next(_pool_next.setdefault(self.pool, itertools.count()))
        if n >= len(people):  # one simulated client per person, never two on one account
            self.stop()
            return
        self.me = people[n]
        self.sign_in(self.client)

    def sign_in(self, session: HttpSession) -> None:
        assert self.me is not None
        session.cookies.set("sessionid", self.me["session"])
        session.cookies.set("csrftoken", self.me["csrf"])
        self.headers = {"X-CSRFToken": self.me["csrf"], "Referer": self.host + "/"}

    def is_cut(self) -> bool:
        state = cut_state()
        return bool(state and self.index % state["buckets"] == state["residue"])

    def wait_while_cut(self, name: str) -> None:
        """Offline: nothing goes out; the request waits until the network is back."""
        if self.is_cut():
            HELD_BACK[name] = HELD_BACK.get(name, 0) + 1
            while self.is_cut():
                gevent.sleep(1)

    def call(
        self,
        method: str,
        path: str,
        name: str,
        ok: tuple[int, ...] = (200,),
        session: HttpSession | None = None,
        **kwargs: Any,
    ) -> Any:
        """One request; a status outside `ok` is recorded as a failure of its kind. Returns the
        response (status 0 if none came)."""
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", TIMEOUT)
        if method == "POST":
            kwargs.setdefault("headers", self.headers)
        with (session or self.client).request(method, path, name=name, catch_response=True, **kwargs) as r:
            if r.status_code in ok:
                r.success()
            else:
                r.failure(failure_kind(r))
        return r

    def retrying(
        self, method: str, path: str, name: str, ok: tuple[int, ...], tries: int = 8, **kwargs: Any
    ) -> Any:
        """Retry a failed request like the pages do (after a pause), waiting out a cut."""
        r = None
        for attempt in range(tries):
            self.wait_while_cut(name)
            r = self.call(method, path, name, ok=ok, **kwargs)
            if r.status_code in ok:
                return r
            gevent.sleep(min(2**attempt, 10) * random.uniform(0.5, 1.0))
        return r


class Candidate(Client):
    pool = "candidates"
    fixed_count = int(os.environ.get("BENCH_CANDIDATES", "1"))
    wait_time = between(*THINK)

    def on_start(self) -> None:
        self.attempt = 0
        super().on_start()
        if self.me is None:
            return
        self.position = 0
        self.seq = int(time.time() * 1000)
        self.journal: list[dict[str, Any]] = []  # answers given, not yet acknowledged
        self.flush_failures = 0
        rng = random.Random(int(self.me["user"]))
        self.skill = SKILLED if rng.random() < SKILLED_SHARE else UNSKILLED
        r = self.retrying(
            "POST", f"/exams/{PROGRAM}/{EXAM}/start/", "/exams/[program]/[step]/start/", ok=(302,)
        )
        match = re.search(r"/exams/attempts/(\d+)/", r.headers.get("Location", "") if r is not None else "")
        if not match:
            EXAMS.append({"user": int(self.me["user"]), "attempt": 0, "told": "could not start"})
            return
        self.attempt = int(match.group(1))

    def choose(self) -> int:
        key = KEYS.get(str(self.attempt))
        if key and random.random() < self.skill:
            return key[self.position - 1]
        return random.randrange(4)

    def flush(self) -> None:
        """Send the journal in order; stop at the first failure (resent on the next turn)."""
        while self.journal and not self.is_cut():
            body = self.journal[0]
            r = self.call(
                "POST", f"/exams/attempts/{self.attempt}/answer/", "/exams/attempts/[id]/answer/", json=body
            )
            if r.status_code != 200:
                self.flush_failures += 1
                return
            ACKS.append((self.attempt, body["position"], body["seq"], body["choice"]))
            self.journal.pop(0)
        if self.journal:
            HELD_BACK["/exams/attempts/[id]/answer/"] = HELD_BACK.get("/exams/attempts/[id]/answer/", 0) + 1

    @task
    def answer_next(self) -> None:
        if not self.attempt:
            self.stop()
            return
        if self.position < QUESTIONS:
            self.position += 1
            self.seq += 1
            self.journal.append(
                {"position": self.position, "choice": self.choose(), "flagged": False, "seq": self.seq}
            )
            self.flush()
            return
        # Every question answered: the page sends what is left in the journal before submitting.
        for attempt in range(12):
            self.wait_while_cut("/exams/attempts/[id]/answer/")
            self.flush()
            if not self.journal:
                break
            gevent.sleep(min(2**attempt, 10))
        UNSAVED.extend((self.attempt, b["position"], b["seq"]) for b in self.journal)
        self.submit()

    def submit(self) -> None:
        assert self.me is not None
        told = "unknown"
        r = self.retrying(
            "POST", f"/exams/attempts/{self.attempt}/submit/", "/exams/attempts/[id]/submit/", ok=(302,)
        )
        if r is not None and r.status_code == 302:
            page = self.retrying(
                "GET", f"/exams/attempts/{self.attempt}/result/", "/exams/attempts/[id]/result/", ok=(200,)
            )
            found = re.search(
                r":\s*(passed|not passed)</h1>", page.text if page is not None and page.text else ""
            )
            told = found.group(1) if found else "unknown"
        EXAMS.append({"user": int(self.me["user"]), "attempt": self.attempt, "told": told})
        self.attempt = 0
        self.stop()


QUERIES = [
    "son", "ann", "ers", "and", "mar", "ter", "san", "ill", "johnson", "maria garcia", "nguyen", "li",
    "kim", "thompson", "valley recycling", "metal finishing", "sacramento", "los angeles", "redwood",
    "oakland", "zzq", "",
]  # fmt: skip
EXTRA = ["", "", "", "&sort=-expires", "&status=active", "&page=2"]


class Visitor(Client):
    """The public: no account. Searches, then verifies what they found or were given."""

    pool = "visitors"
    fixed_count = int(os.environ.get("BENCH_VISITORS", "0"))
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.index = next(_index)
        self.headers = {}

    @task(3)
    def search(self) -> None:
        if self.is_cut():
            HELD_BACK["/directory/"] = HELD_BACK.get("/directory/", 0) + 1
            return  # a person without a network tries again later; nothing to resend
        q = random.choice(QUERIES)
        self.call("GET", f"/directory/?q={q}{random.choice(EXTRA)}", "/directory/?q=[q]")

    @task(2)
    def verify_page(self) -> None:
        if not self.is_cut():
            number = random.choice(POOLS["numbers"])
            self.call("GET", f"/verify/{number}/", "/verify/[number]/", ok=(200, 404))

    @task(2)
    def verify_api(self) -> None:
        if not self.is_cut():
            number = random.choice(POOLS["numbers"])
            self.call("GET", f"/api/verify/{number}", "/api/verify/[number]", ok=(200, 404))


SEAT_TOLD = [
    ("You are registered", "registered"),
    ("The seat is yours", "registered"),
    ("on the waitlist. We will email", "waitlisted"),
    ("A seat is free for you", "offered"),
    ("Your place is cancelled", "cancelled"),
    ("You left the waitlist", "cancelled"),
    ("You already have a place on this session (registered)", "registered"),
    ("You already have a place on this session (on the waitlist)", "waitlisted"),
    ("You already have a place on this session (seat offered)", "offered"),
]


class Registrant(Client):
    """Registers for a session (popular ones fill first); retries a request that got no answer;
    a few cancel later, the waitlisted look in now and then and accept an offered seat."""

    pool = "registrants"
    fixed_count = int(os.environ.get("BENCH_REGISTRANTS", "0"))
    wait_time = constant(1)

    def on_start(self) -> None:
        super().on_start()
        if self.me is None:
            return
        sessions = POOLS["course_sessions"]
        # The first sessions are the popular ones (near, in the big cities).
        self.session = random.choices(sessions, weights=[len(sessions) - i for i in range(len(sessions))])[0]
        self.record: dict[str, Any] = {
            "user": int(self.me["user"]),
            "session": self.session,
            "told": "nothing",
            "history": [],
        }
        SEATS.append(self.record)
        gevent.sleep(random.uniform(0, SPREAD))

    def told(self, html: str) -> str | None:
        text = message_of(html)
        for phrase, state in SEAT_TOLD:
            if phrase in text:
                return state
        return None

    def post_and_read(self, path: str, name: str) -> str | None:
        """POST a form, then read the page it leads to (the message says what happened)."""
        r = self.retrying("POST", path, name, ok=(302,))
        if r is None or r.status_code != 302:
            return None
        page = self.retrying("GET", f"/courses/{self.session}/", "/courses/[id]/", ok=(200,))
        if page is None or page.status_code != 200:
            return None
        state = self.told(page.text)
        if state is None:
            state = "refused: " + message_of(page.text)[:80]
        self.record["told"] = state
        self.record["history"].append(state)
        self.page = page.text
        return state

    @task
    def journey(self) -> None:
        if self.me is None:
            return
        self.retrying("GET", "/courses/", "/courses/", ok=(200,))
        self.retrying("GET", f"/courses/{self.session}/", "/courses/[id]/", ok=(200,))
        state = self.post_and_read(f"/courses/{self.session}/register/", "/courses/[id]/register/")
        if state == "registered" and random.random() < 0.15:
            gevent.sleep(random.uniform(5, 30))  # changed their mind: the seat goes to the waitlist
            match = re.search(r"/courses/seats/(\d+)/cancel/", self.page)
            if match:
                self.post_and_read(f"/courses/seats/{match.group(1)}/cancel/", "/courses/seats/[id]/cancel/")
        elif state in ("waitlisted", "offered"):
            for _look in range(10):
                match = re.search(r"/courses/seats/(\d+)/accept/", self.page)
                if match:
                    self.post_and_read(
                        f"/courses/seats/{match.group(1)}/accept/", "/courses/seats/[id]/accept/"
                    )
                    break
                gevent.sleep(random.uniform(10, 20))
                self.wait_while_cut("/courses/[id]/")
                page = self.call("GET", f"/courses/{self.session}/", "/courses/[id]/")
                if page.status_code == 200:
                    self.page = page.text
        self.stop()


PAY_TOLD = [
    ("Payment received", "paid"),
    ("already handled", "already handled"),
    ("was declined", "declined"),
    ("nothing to pay", "nothing to pay"),
    ("busy with this order", "busy"),
]


class Payer(Client):
    """Pays the registration fee with the test-mode provider. By client: a plain payment; a
    double click on Approve; a double click on Pay; a declined card, a second tab still showing
    the checkout, then paying again. After paying, some press Pay once more (the back button)."""

    pool = "payers"
    fixed_count = int(os.environ.get("BENCH_PAYERS", "0"))
    wait_time = constant(1)

    def on_start(self) -> None:
        super().on_start()
        if self.me is None:
            return
        self.record: dict[str, Any] = {
            "user": int(self.me["user"]),
            "order": "",
            "told": [],
            "paid_told": False,
        }
        PAYMENTS.append(self.record)
        gevent.sleep(random.uniform(0, SPREAD))

    def tab(self) -> HttpSession:
        """Another browser tab: the same cookies, its own connection and its own messages."""
        session = HttpSession(self.host, self.environment.events.request, self)
        self.sign_in(session)
        return session

    def submit(
        self, path: str, name: str, data: dict[str, str], session: HttpSession | None = None
    ) -> tuple[str, str]:
        """POST a form and read the order page it leads to: (where it went, what it said)."""
        session = session or self.client
        r = self.retrying("POST", path, name, ok=(302,), data=data, session=session)
        if r is None or r.status_code != 302:
            return "", "no answer"
        location = r.headers.get("Location", "")
        if "/pay/test/" in location:
            return location, "to checkout"
        page = self.retrying("GET", location, "/orders/[number]/", ok=(200,), session=session)
        text = message_of(page.text) if page is not None and page.status_code == 200 else ""
        told = next((state for phrase, state in PAY_TOLD if phrase in text), "said: " + text[:60])
        return location, told

    def approve(self, checkout: str, outcome: str = "approve", session: HttpSession | None = None) -> str:
        payment = int(re.search(r"/pay/test/(\d+)/", checkout).group(1))  # type: ignore[union-attr]
        _, told = self.submit(checkout, "/pay/test/[id]/", {"outcome": outcome}, session=session)
        self.record["told"].append([payment, outcome, told])
        if told == "paid":
            self.record["paid_told"] = True
        return told

    def pay(self, order: str) -> str:
        checkout, told = self.submit(
            f"/orders/{order}/pay/", "/orders/[number]/pay/", {"provider": "testmode"}
        )
        if told != "to checkout":
            self.record["told"].append([None, "pay", told])
            return ""
        return checkout

    @task
    def journey(self) -> None:
        if self.me is None:
            return
        location, _ = self.submit(
            f"/qualification/{PROGRAM}/register/", "/qualification/[code]/register/", {}
        )
        match = re.search(r"/orders/([\w-]+)/", location)
        if not match:
            self.record["told"].append([None, "register", "no order"])
            self.stop()
            return
        order = self.record["order"] = match.group(1)
        variant = self.index % 4
        if variant == 2:  # a double click on Pay: both requests race for the order's lock
            jobs = [gevent.spawn(self.pay, order), gevent.spawn(self.pay, order)]
            gevent.joinall(jobs)
            checkout = next((j.value for j in jobs if j.value), "")
        else:
            checkout = self.pay(order)
        if not checkout:
            self.stop()
            return
        self.retrying("GET", checkout, "/pay/test/[id]/", ok=(200,))
        gevent.sleep(random.uniform(1, 3))  # typing the card
        if variant == 1:  # a double click on Approve, from two connections at once
            other = self.tab()
            gevent.joinall(
                [gevent.spawn(self.approve, checkout), gevent.spawn(self.approve, checkout, session=other)]
            )
        elif variant == 3:  # declined; a second tab still shows the checkout and approves it
            other = self.tab()
            gevent.joinall(
                [
                    gevent.spawn(self.approve, checkout, "decline"),
                    gevent.spawn(self.approve, checkout, session=other),
                ]
            )
            if not self.record["paid_told"]:
                again = self.pay(order)
                if again:
                    self.approve(again)
        else:
            self.approve(checkout)
        if random.random() < 0.3:  # the back button, and Pay again
            self.pay(order)
        self.stop()


class Floor(Client):
    """The trivial signed-in view, sampled through the run: the floor the other figures sit on."""

    pool = "floor"
    fixed_count = int(os.environ.get("BENCH_FLOOR", "0"))
    wait_time = constant(0.5)

    @task
    def ping(self) -> None:
        if self.me is not None:
            self.call("GET", "/ping/", "/ping/ (floor)")


@events.request.add_listener
def note_request(
    request_type: str, name: str, response_time: float, exception: Exception | None = None, **kwargs: Any
) -> None:
    now = time.time()
    REQUESTS.append((now, name, response_time, exception is not None))
    if exception is not None:
        FAILURES.append((now, request_type, name, str(exception)))


@events.test_stop.add_listener
def write_outcomes(**kwargs: Any) -> None:
    # Every request with its time, for the per-interval percentiles (bench/timeline.py).
    with (RUN / f"requests-{os.getpid()}.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows((f"{t:.3f}", n, f"{ms:.1f}", int(f)) for t, n, ms, f in REQUESTS)
    (RUN / f"outcomes-{os.getpid()}.json").write_text(
        json.dumps(
            {
                "acks": ACKS,
                "unsaved": UNSAVED,
                "exams": EXAMS,
                "seats": SEATS,
                "payments": PAYMENTS,
                "held_back": HELD_BACK,
                "failures": FAILURES,
            }
        )
    )
