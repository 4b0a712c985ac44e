"""Who may open what: the expected answer of every named URL for every persona.

tests/security/test_access_matrix.py walks the URL conf and fails for a URL name that has no rule
here, and for a rule whose URL is gone. Adding a view means adding a line: pick a preset, or
build a Rule and say per persona what the answer must be.

Personas (tests/security/world.py builds them and the objects the URLs point at):

    visitor  not signed in
    alice    a candidate; owns every object a URL names (order, attempt, seat, certificate, ...)
    bob      another candidate, owning nothing of alice's
    tom      a Trainer of Record with a current term; owns the course sessions
    rita     a reviewer, assigned to alice's ToR statement
    sara     program staff, two-factor passed in this session
    sam      a staff account that never set up two-factor (what `createsuperuser` makes)
    stan     a staff account with an authenticator app, in a session that never gave its code

sam and stan are "staff without two-factor": they must get exactly what bob (a plain candidate
with nothing of alice's) gets, except on the staff pages (/staff/, /admin/), where they are sent
to set up two-factor or give the code (TWO_FACTOR), never staff data. A Rule therefore names only
the first six personas; sam and stan follow bob unless a rule says otherwise (`sam=`/`stan=`),
which only allauth's pages about one's own authenticator need.

Outcomes are what a GET answers:

    OK         2xx: the page
    LOGIN      302 to the sign-in page
    FORBIDDEN  403
    NOT_FOUND  404 (used for someone else's object: it does not even confirm the id exists)
    NOT_ALLOWED 405 (a POST-only view asked with GET)
    REDIRECT   302 elsewhere (the view sends this persona on: nothing to do here, already done)
    BAD        400
    TWO_FACTOR 302 to allauth's two-factor pages (set up the app, or give the code again)

A POST-only view (`post_only(...)`) also gets an empty POST from every persona not in `may_post`;
that POST must be refused (LOGIN, FORBIDDEN, NOT_FOUND or BAD, or REDIRECT where the rule allows
it via `post_refusal`). Every persona whose GET is refused is sent the same empty POST too, and it
must be refused as well. No persona may ever see a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    LOGIN = "login"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    NOT_ALLOWED = "405"
    REDIRECT = "redirect"
    BAD = "400"
    TWO_FACTOR = "2fa"


OK = Outcome.OK
LOGIN = Outcome.LOGIN
FORBIDDEN = Outcome.FORBIDDEN
NOT_FOUND = Outcome.NOT_FOUND
NOT_ALLOWED = Outcome.NOT_ALLOWED
REDIRECT = Outcome.REDIRECT
BAD = Outcome.BAD
TWO_FACTOR = Outcome.TWO_FACTOR

PERSONAS = ("visitor", "alice", "bob", "tom", "rita", "sara", "sam", "stan")
# Staff accounts without two-factor in this session, and the persona whose answers they get.
WITHOUT_TWO_FACTOR = {"sam": "bob", "stan": "bob"}
# Where StaffMFAMiddleware sends them to set up or give the code instead.
STAFF_PREFIXES = ("/staff/", "/admin/")
# The answers that refuse: a persona expected to get one of these on GET must get one on POST too.
REFUSALS = frozenset({LOGIN, FORBIDDEN, NOT_FOUND, BAD, TWO_FACTOR})

Expect = Outcome | frozenset[Outcome]


def _set(value: Expect) -> frozenset[Outcome]:
    return value if isinstance(value, frozenset) else frozenset({value})


def either(*outcomes: Outcome) -> frozenset[Outcome]:
    """More than one answer is right (say so only where the view really varies)."""
    return frozenset(outcomes)


@dataclass(frozen=True)
class Rule:
    visitor: Expect
    alice: Expect
    bob: Expect
    tom: Expect
    rita: Expect
    sara: Expect
    # Staff without two-factor: None means "what bob gets" (see the module docstring).
    sam: Expect | None = None
    stan: Expect | None = None
    # POST-only views: who may act (their POST is not sent: it would change the world).
    post_only: bool = False
    may_post: frozenset[str] = field(default_factory=frozenset)
    # Refusal answers a POST may give besides REFUSALS (e.g. REDIRECT with an error message).
    post_refusal: frozenset[Outcome] = field(default_factory=frozenset)

    def expected(self, persona: str, path: str = "") -> frozenset[Outcome]:
        """What `persona` must get on GET of `path` (the URL matters only for staff without two-factor)."""
        if persona in WITHOUT_TWO_FACTOR:
            if path.startswith(STAFF_PREFIXES):
                return frozenset({TWO_FACTOR})
            own = getattr(self, persona)
            return _set(own) if own is not None else self.expected(WITHOUT_TWO_FACTOR[persona])
        return _set(getattr(self, persona))

    def may_act(self, persona: str) -> bool:
        """May this persona's POST go through (so the matrix does not send it)?"""
        return WITHOUT_TWO_FACTOR.get(persona, persona) in self.may_post

    def but(self, **changes: Expect | frozenset[str] | bool) -> Rule:
        """This rule with some personas' answers changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


PUBLIC = Rule(visitor=OK, alice=OK, bob=OK, tom=OK, rita=OK, sara=OK)
SIGNED_IN = Rule(visitor=LOGIN, alice=OK, bob=OK, tom=OK, rita=OK, sara=OK)
STAFF = Rule(visitor=LOGIN, alice=FORBIDDEN, bob=FORBIDDEN, tom=FORBIDDEN, rita=FORBIDDEN, sara=OK)
# alice's object: everyone else is told it does not exist, staff included (staff have their own pages).
OWNER = Rule(visitor=LOGIN, alice=OK, bob=NOT_FOUND, tom=NOT_FOUND, rita=NOT_FOUND, sara=NOT_FOUND)


def post_only(*may_post: str, visitor: Expect = LOGIN, refusal: Expect = frozenset()) -> Rule:
    """A view that only acts on POST. GET answers 405 to a signed-in persona (login first for a
    visitor); an empty POST from anyone not in `may_post` must be refused."""
    return Rule(
        visitor=visitor,
        alice=NOT_ALLOWED,
        bob=NOT_ALLOWED,
        tom=NOT_ALLOWED,
        rita=NOT_ALLOWED,
        sara=NOT_ALLOWED,
        post_only=True,
        may_post=frozenset(may_post),
        post_refusal=_set(refusal),
    )


STAFF_POST = post_only("sara").but(
    alice=FORBIDDEN, bob=FORBIDDEN, tom=FORBIDDEN, rita=FORBIDDEN, sara=NOT_ALLOWED
)


# Every signed-in persona acts on their own record (no id in the URL): eligibility, not access, decides.
SELF = ("alice", "bob", "tom", "rita", "sara")
# alice's object, staff may look too (staff pages link to it).
OWNER_OR_STAFF = OWNER.but(sara=OK)


RULES: dict[str, Rule] = {
    # --- Public pages and feeds ------------------------------------------------------------------
    "home": PUBLIC,
    "program": PUBLIC,
    "help": PUBLIC,
    "help(code)": PUBLIC,
    # Unnamed: keyed by its route. Browsers ask for it; it sends them to the static file.
    "favicon.ico": PUBLIC.but(
        visitor=REDIRECT, alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT
    ),
    "courses:calendar": PUBLIC,
    "courses:calendar_json": PUBLIC,
    "courses:calendar_ics": PUBLIC,
    "courses:session": PUBLIC,
    "courses:session_ics": PUBLIC,
    "directory:search": PUBLIC,
    "directory:export_csv": PUBLIC,
    "directory:export_json": PUBLIC,
    "directory:verify_lookup": PUBLIC,
    "directory:verify_batch": PUBLIC,
    "directory:verify": PUBLIC,
    "certificates:issuer": PUBLIC,
    "certificates:achievement": PUBLIC,
    "certificates:revocations": PUBLIC,
    "certificates:jwks": PUBLIC,
    # `/tor/` (walked first of the two `trainers:home` routes) sends everyone to the only public
    # trainer program's page, `/tor/<code>/`, a public page (tests/trainers/test_programs.py).
    "trainers:home": PUBLIC.but(
        visitor=REDIRECT, alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT
    ),
    # A trainer program's own page: public (what it is, its cycle); a term holder sees theirs.
    "trainers:home(code)": PUBLIC,
    "trainers:public_list": PUBLIC,
    "trainers:rfq_document": PUBLIC,
    # The JSON API (fuzzed separately by test_api_schema.py). Its root has no page.
    "api:openapi-json": PUBLIC,
    "api:verify_one": PUBLIC,
    "api:directory_search": PUBLIC,
    "api:verify_batch": post_only(*SELF, "visitor", visitor=NOT_ALLOWED),
    "api:api-root": PUBLIC.but(
        visitor=NOT_FOUND, alice=NOT_FOUND, bob=NOT_FOUND, tom=NOT_FOUND, rita=NOT_FOUND, sara=NOT_FOUND
    ),
    # Stripe calls it; an unsigned POST is refused (400), whoever sends it.
    "payments:stripe_webhook": post_only(visitor=NOT_ALLOWED),
    # --- Signed in: one's own account, journey and lists -----------------------------------------
    "dashboard": SIGNED_IN,
    "ping": SIGNED_IN,
    # For load balancers and monitors: counts and ages only, no session read.
    "health": PUBLIC,
    "accounts:profile": SIGNED_IN,
    "accounts:claim": SIGNED_IN,
    # A forged claim link is refused as a bad request for everyone.
    "accounts:claim_confirm": SIGNED_IN.but(alice=BAD, bob=BAD, tom=BAD, rita=BAD, sara=BAD),
    # The list of one's qualification programs sends everyone straight to the only public one.
    "enrollments:qualification": SIGNED_IN.but(
        alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT
    ),
    # One program's journey page: anyone signed in may read it (reading writes nothing).
    "enrollments:qualification(code)": SIGNED_IN,
    "enrollments:self_assessment": SIGNED_IN,
    "enrollments:acknowledge": post_only(*SELF),
    "enrollments:register": post_only(*SELF),
    "enrollments:resolve": post_only(*SELF),
    # The self-directed route's application page: anyone signed in (alice, qualified, is told so).
    "enrollments:self_directed": SIGNED_IN,
    # Only alice is enrolled in the world; everyone else is sent to the Qualification page to start.
    # (They used to get OK only because an earlier GET of the dashboard had enrolled them.)
    "exams:intro": SIGNED_IN.but(bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT),
    "exams:start": post_only(*SELF),
    "exams:accommodation": SIGNED_IN,
    "payments:orders": SIGNED_IN,
    "certificates:mine": SIGNED_IN,
    # Asking to change the certified name (a holder sees the form, others are told they hold none).
    "certificates:name_change": SIGNED_IN,
    "renewals:renewal": SIGNED_IN,
    "trainers:agreement": SIGNED_IN,
    "trainers:apply": post_only(*SELF),
    "trainers:pay": post_only(*SELF),
    "trainers:upload": post_only(*SELF),
    "trainers:orientation": post_only(*SELF),
    "trainers:course_info": post_only(*SELF),
    "trainers:renewal_meeting": post_only(*SELF),
    "trainers:renewal_pay": post_only(*SELF),
    "courses:register": post_only(*SELF),
    "courses:switch": post_only(*SELF),
    "training:complete": post_only(*SELF),
    # The lesson page's study reports: only someone with access to the course is heard (403 JSON).
    "training:progress": post_only("alice"),
    # The online training is for enrolled, registered candidates: the others are sent to the
    # qualification page rather than shown the content.
    "training:course": SIGNED_IN.but(bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT),
    "training:lesson": SIGNED_IN.but(bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT),
    # A course document is a download, not a page to redirect from: 404 without access.
    "training:file": OWNER,
    # --- alice's objects: nobody else learns they exist --------------------------------------------
    # Her submitted attempt's page sends her on to the result.
    "exams:attempt": OWNER.but(alice=REDIRECT),
    "exams:result": OWNER,
    "exams:save": post_only("alice"),
    "exams:submit": post_only("alice"),
    "exams:accommodation_withdraw": post_only("alice"),
    "exams:accommodation_document": OWNER_OR_STAFF,
    "enrollments:self_directed_document": OWNER_OR_STAFF,
    "payments:order": OWNER_OR_STAFF,
    "payments:receipt": OWNER_OR_STAFF,
    "payments:receipt_pdf": OWNER_OR_STAFF,
    "payments:pay": post_only("alice"),
    # Back from the card page: on to the order page (staff see every order).
    "payments:stripe_return": OWNER_OR_STAFF.but(alice=REDIRECT, sara=REDIRECT),
    "payments:testmode_checkout": OWNER,
    "certificates:pdf": OWNER_OR_STAFF,
    "certificates:credential": OWNER_OR_STAFF,
    # The document attached to her name change request.
    "certificates:name_change_document": OWNER_OR_STAFF,
    "certificates:name_change_withdraw": post_only("alice"),
    "renewals:start": post_only("alice"),
    # Her seat: she has not attended yet, so the survey sends her back to the session.
    "courses:survey": OWNER.but(alice=REDIRECT),
    "courses:accept_offer": post_only("alice"),
    "courses:cancel_seat": post_only("alice"),
    "trainers:application": OWNER,
    "trainers:remove_document": post_only("alice"),
    # The applicant, staff, and an assigned reviewer who declared no conflict.
    "trainers:document": OWNER_OR_STAFF.but(rita=OK),
    # --- Trainers of Record: their own sessions; staff may step in -------------------------------
    "courses:mine": STAFF.but(tom=OK, sara=FORBIDDEN),
    "courses:new": STAFF.but(tom=OK, sara=FORBIDDEN),
    "courses:edit": STAFF.but(tom=OK),
    "courses:cancel": STAFF.but(tom=OK),
    "courses:plan": STAFF.but(tom=OK),
    "courses:roster": STAFF.but(tom=OK),
    "courses:sign_in_pdf": STAFF.but(tom=OK),
    # --- Reviewers ---------------------------------------------------------------------------------
    "trainers:reviews": STAFF.but(rita=OK, sara=FORBIDDEN),
    "trainers:review": STAFF.but(rita=OK, sara=FORBIDDEN),
    # --- Staff ---------------------------------------------------------------------------------------
    "staff_home": STAFF,
    "emails:outbox": STAFF,
    "emails:message": STAFF,
    "email_send_again": STAFF_POST,
    "audit:events": STAFF,
    "payments:staff_orders": STAFF,
    "payments:staff_order": STAFF,
    "payments:staff_order_record_payment": STAFF_POST,
    "payments:staff_order_refund": STAFF_POST,
    "payments:staff_order_cancel": STAFF_POST,
    "enrollments:staff_list": STAFF,
    "enrollments:staff_detail": STAFF,
    "enrollments:staff_self_directed": STAFF_POST,
    "exams:staff_exams": STAFF,
    "exams:staff_stats": STAFF,
    "exams:staff_accommodations": STAFF,
    "enrollments:staff_self_directed_queue": STAFF,
    "enrollments:staff_self_directed_decide": STAFF_POST,
    "exams:staff_accommodation_grant": STAFF_POST,
    "exams:staff_accommodation_end": STAFF_POST,
    "exams:staff_accommodation_decide": STAFF_POST,
    "exams:staff_bank_upload": STAFF_POST,
    "exams:staff_bank_import": STAFF,
    "exams:staff_bank_import_confirm": STAFF_POST,
    "exams:staff_bank_import_discard": STAFF_POST,
    "exams:staff_bank_export": STAFF,
    "courses:staff_plans": STAFF,
    "courses:staff_decide": STAFF,
    "courses:staff_surveys": STAFF,
    "courses:staff_queue": STAFF,
    "courses:staff_queue_session": STAFF,
    "courses:staff_queue_reassign": STAFF_POST,
    "courses:staff_queue_cancel": STAFF_POST,
    "trainers:staff_home": STAFF,
    "trainers:staff_new_cycle": STAFF,
    "trainers:staff_cycle": STAFF,
    "trainers:staff_application": STAFF,
    "trainers:staff_confirm_renewal": STAFF_POST,
    "trainers:staff_end_term": STAFF,
    "trainers:staff_assign": STAFF,
    "trainers:staff_content": STAFF,
    "trainers:staff_send_fee_notice": STAFF_POST,
    # Program content: selected candidates and Trainers of Record of the program (tom), and staff.
    "trainers:content": Rule(visitor=LOGIN, alice=FORBIDDEN, bob=FORBIDDEN, tom=OK, rita=FORBIDDEN, sara=OK),
    "trainers:content_document": Rule(
        visitor=LOGIN, alice=FORBIDDEN, bob=FORBIDDEN, tom=OK, rita=FORBIDDEN, sara=OK
    ),
    "trainers:content_attended": post_only("tom", "sara"),
    "certificates:staff_list": STAFF,
    "certificates:staff_detail": STAFF,
    "certificates:staff_revoke": STAFF_POST,
    "certificates:staff_reinstate": STAFF_POST,
    "certificates:staff_name_changes": STAFF,
    "certificates:staff_name_change_decide": STAFF_POST,
    "backoffice:people": STAFF,
    "backoffice:person": STAFF,
    "backoffice:imports": STAFF,
    "backoffice:import_sample": STAFF,
    "backoffice:import_run": STAFF,
    "backoffice:import_columns": STAFF,
    "backoffice:import_check": STAFF_POST,
    "backoffice:import_apply": STAFF_POST,
    "backoffice:import_report": STAFF,
    "backoffice:claims": STAFF,
    "backoffice:claim_decide": STAFF_POST,
    "backoffice:reports": STAFF,
    "backoffice:report_csv": STAFF,
    "backoffice:programs": STAFF,
    "backoffice:rules_new": STAFF,
    "backoffice:fee_new": STAFF,
    # --- allauth's own views (accounts/ and accounts/2fa/) -----------------------------------------
    # Signed-in people are sent on from the login and signup pages; key links with a wrong key
    # show allauth's "bad link" page.
    "account_login": PUBLIC.but(alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT),
    "account_signup": PUBLIC.but(alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT),
    "account_logout": SIGNED_IN.but(visitor=REDIRECT),
    "account_inactive": PUBLIC,
    "account_email_verification_sent": PUBLIC,
    "account_confirm_email": PUBLIC,
    "account_reset_password": PUBLIC,
    "account_reset_password_done": PUBLIC,
    "account_reset_password_from_key": PUBLIC,
    "account_reset_password_from_key_done": PUBLIC,
    "account_email": SIGNED_IN,
    "account_change_password": SIGNED_IN,
    "account_reauthenticate": SIGNED_IN,
    # Everyone has a password already; there is no login code pending.
    "account_set_password": SIGNED_IN.but(
        alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT
    ),
    # Asking for a one-time sign-in code by email (ACCOUNT_LOGIN_BY_CODE_ENABLED).
    "account_request_login_code": PUBLIC.but(
        alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT
    ),
    "account_confirm_login_code": SIGNED_IN.but(
        alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT
    ),
    "mfa_index": SIGNED_IN,
    # Nothing to authenticate mid-login; TOTP activation sends on (sara has it already; the others
    # are sent to reauthenticate first).
    "mfa_authenticate": SIGNED_IN.but(
        alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT
    ),
    "mfa_activate_totp": SIGNED_IN.but(
        alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT
    ),
    "mfa_generate_recovery_codes": SIGNED_IN.but(
        alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, sara=REDIRECT
    ),
    # Only someone with an authenticator can deactivate it or reauthenticate with it.
    # stan has an authenticator (like sara): these are about his own account, not staff powers.
    "mfa_deactivate_totp": SIGNED_IN.but(
        alice=NOT_FOUND, bob=NOT_FOUND, tom=NOT_FOUND, rita=NOT_FOUND, sara=REDIRECT, stan=REDIRECT
    ),
    "mfa_reauthenticate": SIGNED_IN.but(alice=REDIRECT, bob=REDIRECT, tom=REDIRECT, rita=REDIRECT, stan=OK),
    # Recovery codes are not enabled (MFA_SUPPORTED_TYPES is TOTP only).
    "mfa_view_recovery_codes": SIGNED_IN.but(
        alice=NOT_FOUND, bob=NOT_FOUND, tom=NOT_FOUND, rita=NOT_FOUND, sara=NOT_FOUND
    ),
    "mfa_download_recovery_codes": SIGNED_IN.but(
        alice=NOT_FOUND, bob=NOT_FOUND, tom=NOT_FOUND, rita=NOT_FOUND, sara=NOT_FOUND
    ),
}
