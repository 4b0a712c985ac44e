"""Exam day: candidates start the final, answer every question with think time, and submit.

Each simulated candidate keeps what the server acknowledged as saved; at the end the list is
written out so `exam_day.py` can compare it with the database (a lost answer is one the client
was told was saved but the database does not hold).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

RUN = Path(__file__).resolve().parent / ".run"
SESSIONS = json.loads((RUN / "sessions.json").read_text())
QUESTIONS = int(os.environ.get("BENCH_QUESTIONS", "70"))
THINK = (float(os.environ.get("BENCH_THINK_MIN", "4")), float(os.environ.get("BENCH_THINK_MAX", "8")))
EXAM = os.environ.get("BENCH_EXAM", "final")
ACKS: list[tuple[int, int, int, int]] = []  # attempt, position, seq, choice shown
UNSAVED: list[tuple[int, int, int]] = []  # saves given up on after retries
_next = itertools.count()


class Candidate(HttpUser):
    wait_time = between(*THINK)

    def on_start(self) -> None:
        index = next(_next)
        self.attempt = 0
        if index >= len(SESSIONS):  # one simulated client per candidate, never two on one attempt
            self.stop()
            return
        me = SESSIONS[index]
        self.client.cookies.set("sessionid", me["session"])
        self.client.cookies.set("csrftoken", me["csrf"])
        self.headers = {"X-CSRFToken": me["csrf"], "Referer": self.host + "/"}
        self.attempt = 0
        self.position = 0
        self.seq = int(time.time() * 1000)
        with self.client.post(
            f"/exams/{EXAM}/start/",
            headers=self.headers,
            allow_redirects=False,
            name="start",
            catch_response=True,
        ) as response:
            match = re.search(r"/exams/attempts/(\d+)/", response.headers.get("Location", ""))
            if response.status_code != 302 or not match:
                response.failure(f"start gave {response.status_code}")
                return
            self.attempt = int(match.group(1))

    @task
    def answer_next(self) -> None:
        if not self.attempt:
            self.stop()
            return
        if self.position >= QUESTIONS:
            self.client.post(
                f"/exams/attempts/{self.attempt}/submit/",
                headers=self.headers,
                name="submit",
                allow_redirects=False,
            )
            self.attempt = 0
            self.stop()
            return
        self.position += 1
        choice = random.randrange(4)
        self.seq += 1
        body = {"position": self.position, "choice": choice, "flagged": False, "seq": self.seq}
        for _try in range(5):  # like the page's journal: keep the answer and resend it
            with self.client.post(
                f"/exams/attempts/{self.attempt}/answer/",
                json=body,
                headers=self.headers,
                name="save",
                catch_response=True,
            ) as response:
                if response.status_code == 200:
                    ACKS.append((self.attempt, self.position, self.seq, choice))
                    return
                response.failure(f"save gave {response.status_code}")
            time.sleep(1)
        UNSAVED.append((self.attempt, self.position, self.seq))


@events.test_stop.add_listener
def write_acks(**kwargs: Any) -> None:
    (RUN / f"acks-{os.getpid()}.json").write_text(json.dumps({"acks": ACKS, "unsaved": UNSAVED}))
