"""Directory and verification benchmark: figures printed as measured in one run (not a test).

1. Loads N certificate holders (users, profiles, certificates; bulk inserts) unless the database
   already holds at least N certificates, then VACUUM ANALYZE (as autovacuum would).
2. Directory search server time, in process (the Django test client: URL routing, middleware,
   the query, template rendering; no network): p50/p95/p99 over a set of queries including the
   common three-letter ones ("son", "ann", ...), names, companies, cities, number lookups,
   browsing, sorting and paging. Prints the worst query too.
3. Throughput against gunicorn (production settings, persistent connections), closed loop:
   the trivial signed-in view /ping/ and verification by number (/api/verify/<number> and the
   /verify/<number>/ page), same server, same run; the ratios are printed.

Usage:
  createdb -h 127.0.0.1 -U postgres stormcert_wt7_bench
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/stormcert_wt7_bench make bench-directory
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stormcert.settings")
import exam_day

# Production settings in this process too (DEBUG off: no query log, cached templates), and a
# rate limit the measured requests never reach.
os.environ.update(exam_day.server_env())
os.environ["RATE_LIMIT_PUBLIC"] = "100000000/m"

import django

django.setup()

import exam_day
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from stormcert.accounts.models import Profile, User
from stormcert.certificates.models import Certificate, NumberCounter, Source
from stormcert.lib.dates import add_years
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file
from stormcert.programs.models import Program

FIRST = [
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Maria",
    "Ann",
    "Anna",
    "Anne",
    "Joanne",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Margaret",
    "Donald",
    "Sandra",
    "Steven",
    "Ashley",
    "Paul",
    "Kimberly",
    "Andrew",
    "Emily",
    "Joshua",
    "Donna",
    "Kenneth",
    "Michelle",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "George",
    "Melissa",
    "Edward",
    "Deborah",
    "Ronald",
    "Stephanie",
    "Timothy",
    "Rebecca",
    "Jason",
    "Sharon",
    "Jeffrey",
    "Laura",
    "Ryan",
    "Cynthia",
    "Jacob",
    "Kathleen",
    "Gary",
    "Amy",
    "Nicholas",
    "Shirley",
    "Eric",
    "Angela",
    "Wei",
    "Priya",
    "Luis",
    "Carmen",
    "Jose",
    "Ana",
    "Juan",
    "Sofia",
    "Minh",
    "Linh",
    "Hiroshi",
    "Yuki",
    "Omar",
    "Fatima",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
    "Sanders",
    "Patel",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Jimenez",
    "Li",
    "Chen",
    "Wang",
    "Singh",
    "Tran",
    "Le",
    "Pham",
    "Hanson",
    "Carlson",
    "Larson",
    "Olson",
    "Peterson",
    "Jensen",
    "Dawson",
    "Ferguson",
]
COMPANY_WORDS = [
    "Pacific",
    "Golden",
    "Sierra",
    "Valley",
    "Coastal",
    "Bay",
    "Harbor",
    "Delta",
    "Summit",
    "Central",
    "Western",
    "Redwood",
    "Mission",
    "Canyon",
    "Desert",
    "Metro",
    "Capitol",
    "Orchard",
    "River",
]
COMPANY_KINDS = [
    "Metal Finishing",
    "Recycling",
    "Aggregates",
    "Logistics",
    "Environmental",
    "Engineering",
    "Water Compliance",
    "Stormwater Consulting",
    "Manufacturing",
    "Auto Dismantlers",
    "Concrete",
    "Foundry",
    "Food Processing",
]
CITIES = [
    "Los Angeles",
    "San Diego",
    "San Jose",
    "San Francisco",
    "Fresno",
    "Sacramento",
    "Long Beach",
    "Oakland",
    "Bakersfield",
    "Anaheim",
    "Santa Ana",
    "Riverside",
    "Stockton",
    "Irvine",
    "Chula Vista",
    "Fremont",
    "San Bernardino",
    "Modesto",
    "Fontana",
    "Oxnard",
    "Moreno Valley",
    "Glendale",
    "Huntington Beach",
    "Santa Clarita",
    "Garden Grove",
    "Oceanside",
    "Rancho Cucamonga",
    "Ontario",
    "Elk Grove",
    "Corona",
    "Lancaster",
    "Palmdale",
    "Salinas",
    "Hayward",
    "Pomona",
    "Sunnyvale",
    "Escondido",
    "Torrance",
    "Pasadena",
    "Orange",
    "Fullerton",
    "Roseville",
    "Visalia",
    "Concord",
    "Thousand Oaks",
    "Santa Rosa",
    "Simi Valley",
    "Vallejo",
    "Victorville",
    "Berkeley",
    "Redding",
    "Chico",
    "Eureka",
    "Ventura",
]

QUERIES = [
    # The common three-letter ones: each matches thousands of rows.
    "son",
    "ann",
    "ers",
    "and",
    "mar",
    "ter",
    "san",
    "ill",
    # Names, companies, cities, several words.
    "johnson",
    "maria garcia",
    "nguyen",
    "li",
    "kim",
    "thompson",
    "valley recycling",
    "metal finishing",
    "sacramento",
    "los angeles",
    "redwood",
    "oakland",
    "zzq",  # no match
    # Browsing (no query), filters and sorts.
    "",
]
EXTRA_PARAMS = ["", "&sort=-expires", "&status=active", "&program=QISP&sort=number", "&page=3"]


def load(count: int, seed: int = 7) -> None:
    if not Program.objects.filter(code="QISP").exists():
        load_definition_file(DEFAULT_DEFINITION)
    have = Certificate.objects.count()
    if have >= count:
        print(f"database already holds {have:,} certificates; not loading")
        settle()
        return
    rng = random.Random(seed)
    program = Program.objects.get(code="QISP")
    today = timezone.localdate()
    started = time.perf_counter()
    batch = 5000
    counters: dict[int, int] = {c.scope: c.last for c in NumberCounter.objects.filter(program=program)}
    for offset in range(have, count, batch):
        size = min(batch, count - offset)
        with transaction.atomic():
            users = [
                User(
                    email=f"holder{offset + i}@bench.example.org",
                    first_name=rng.choice(FIRST),
                    last_name=rng.choice(LAST),
                    password="!",  # noqa: S106 - unusable: nobody signs in as a bench holder
                )
                for i in range(size)
            ]
            User.objects.bulk_create(users)
            users = list(User.objects.filter(email__in=[u.email for u in users]).order_by("pk"))
            profiles = []
            certificates = []
            for user in users:
                opted = rng.random() < 0.4
                company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_KINDS)}"
                city = rng.choice(CITIES)
                profiles.append(
                    Profile(
                        user=user,
                        company=company,
                        city=city,
                        phone=f"(916) 555-{rng.randrange(10000):04d}",
                        show_contact_in_directory=opted,
                    )
                )
                issued = today - timedelta(days=rng.randrange(4 * 365))
                counters[issued.year] = counters.get(issued.year, 0) + 1
                number = f"QISP-{issued.year}-{counters[issued.year]:05d}"
                name = f"{user.first_name} {user.last_name}"
                words = [name, number, *([company, city] if opted else [])]
                revoked = rng.random() < 0.01
                certificates.append(
                    Certificate(
                        number=number,
                        holder=user,
                        program=program,
                        issued_on=issued,
                        expires_on=add_years(issued, 2),
                        source=Source.LEGACY,
                        revoked_at=timezone.now() if revoked else None,
                        revoked_reason="bench" if revoked else "",
                        holder_name=name,
                        sort_name=f"{user.last_name} {user.first_name}".lower(),
                        search_text=" ".join(words).lower(),
                    )
                )
            Profile.objects.bulk_create(profiles)
            Certificate.objects.bulk_create(certificates)
        print(f"  loaded {offset + size:,} holders", end="\r", flush=True)
    for scope, last in counters.items():
        NumberCounter.objects.update_or_create(program=program, scope=scope, defaults={"last": last})
    settle()
    print(f"loaded {count - have:,} holders in {time.perf_counter() - started:.1f} s")


def settle() -> None:
    """What autovacuum does to a live table: fresh statistics, and the trigram index's pending
    list (filled by the bulk insert, scanned by every search until then) merged in."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE certificates_certificate")
            cursor.execute("ANALYZE")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def search_times(rounds: int) -> None:
    client = Client(HTTP_HOST="127.0.0.1")
    times: list[float] = []
    by_query: dict[str, list[float]] = {}
    numbers = list(Certificate.objects.order_by("?").values_list("number", flat=True)[:40])
    cases = [f"q={q.replace(' ', '+')}{extra}" for q in QUERIES for extra in EXTRA_PARAMS]
    cases += [f"q={n}" for n in numbers]
    for case in cases:  # warm up: caches, plans, templates
        assert client.get(f"/directory/?{case}").status_code == 200, case
    for _ in range(rounds):
        random.shuffle(cases)
        for case in cases:
            started = time.perf_counter()
            response = client.get(f"/directory/?{case}")
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200
            times.append(elapsed)
            key = "number lookup" if case.startswith("q=QISP-") else case
            by_query.setdefault(key, []).append(elapsed)
    print(
        f"directory search, server time over {len(times):,} requests ({len(cases)} cases x {rounds}): "
        f"p50 {pct(times, 50):.1f} ms, p95 {pct(times, 95):.1f} ms, p99 {pct(times, 99):.1f} ms, "
        f"max {max(times):.1f} ms"
    )
    worst = sorted(by_query.items(), key=lambda kv: pct(kv[1], 99), reverse=True)[:5]
    for key, values in worst:
        print(f"  worst: {key!r:40} p50 {pct(values, 50):.1f} ms, p99 {pct(values, 99):.1f} ms")
    three = [v for k, vs in by_query.items() if k.split("&")[0] in ("q=son", "q=ann") for v in vs]
    lookups = by_query["number lookup"]
    print(f"  'son'/'ann' (all variants): p50 {pct(three, 50):.1f} ms, p99 {pct(three, 99):.1f} ms")
    print(f"  number lookup: p50 {pct(lookups, 50):.1f} ms, p99 {pct(lookups, 99):.1f} ms")
    print(
        f"  overall p99 {pct(times, 99):.1f} ms (bar: <= 20 ms): {'MET' if pct(times, 99) <= 20 else 'NOT MET'}"
    )


def signed_in_session() -> dict[str, str]:
    user, _ = User.objects.get_or_create(email="bench-ping@bench.example.org")
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return {"user": str(user.pk), "session": store.session_key or "", "csrf": "x" * 32}


def closed_loop(paths: list[str], me: dict[str, str], seconds: float, clients: int) -> tuple[float, int]:
    stop = time.perf_counter() + seconds
    counts = [0] * clients
    errors = [0] * clients

    def client(i: int) -> None:
        rng = random.Random(i)
        conn = http.client.HTTPConnection(exam_day.HOST, exam_day.PORT, timeout=60)
        while time.perf_counter() < stop:
            status, _, _ = exam_day.request("GET", rng.choice(paths), me, conn=conn)
            if status == 200:
                counts[i] += 1
            else:
                errors[i] += 1
            conn.close()
            conn = http.client.HTTPConnection(exam_day.HOST, exam_day.PORT, timeout=60)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    return sum(counts) / seconds, sum(errors)


def throughput(seconds: float, clients: int, workers: int) -> None:
    os.environ["RATE_LIMIT_PUBLIC"] = "100000000/m"
    exam_day.RUN.mkdir(exist_ok=True)
    me = signed_in_session()
    numbers = list(Certificate.objects.order_by("?").values_list("number", flat=True)[:2000])
    server = exam_day.start_server(workers)
    try:
        closed_loop(["/ping/"], me, 2, clients)  # warm up the workers' connections
        closed_loop([f"/api/verify/{n}" for n in numbers[:50]], me, 2, clients)
        rows = []
        for label, paths in (
            ("/ping/ (trivial, signed in)", ["/ping/"]),
            ("/api/verify/<number>", [f"/api/verify/{n}" for n in numbers]),
            ("/verify/<number>/ page", [f"/verify/{n}/" for n in numbers]),
            ("/ping/ again", ["/ping/"]),
        ):
            rate, errors = closed_loop(paths, me, seconds, clients)
            rows.append((label, rate, errors))
            print(f"  {label:32} {rate:8.0f} req/s ({errors} non-200)")
        ping = (rows[0][1] + rows[3][1]) / 2
        api, page = rows[1][1], rows[2][1]
        # The bar is for verification by number, the machine answer (what an employer's system
        # calls); the HTML page for people also renders the site's header and is shown beside it.
        print(
            f"verification by number vs /ping/ ({ping:.0f} req/s, mean of both runs): "
            f"API ratio {api / ping:.2f} (bar: >= 0.6): {'MET' if api / ping >= 0.6 else 'NOT MET'}; "
            f"HTML page ratio {page / ping:.2f} (no bar)"
        )
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--holders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the search cases")
    parser.add_argument("--throughput-seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    args = parser.parse_args()
    print(f"database: {connection.vendor} {settings.DATABASES['default']['NAME']}")
    load(args.holders)
    exam_day.collect_static()
    search_times(args.rounds)
    throughput(args.throughput_seconds, args.clients, args.workers)


if __name__ == "__main__":
    main()
