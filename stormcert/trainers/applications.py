"""The yearly ToR application: cycles, statements of qualifications, reviews, selection,
notices, the candidate's additional steps and approval.

`check_*` say why something cannot happen; verbs change state under a row lock and audit it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from stormcert.accounts.models import Role, User
from stormcert.audit.services import record
from stormcert.certificates.models import Certificate, Source, Status
from stormcert.certificates.services import issue_certificate
from stormcert.emails.services import send_once, send_templated_email
from stormcert.lib.db import claim_stamp, lock
from stormcert.lib.links import absolute_url
from stormcert.lib.uploads import UploadRefused, check_pdf
from stormcert.payments.models import Order
from stormcert.payments.services import get_or_create_order, pending_order
from stormcert.programs.models import Fee, Program
from stormcert.programs.rules import program_today, rules_in_force
from stormcert.trainers.models import (
    AgreementSignature,
    AgreementVersion,
    Application,
    ApplicationCycle,
    ApplicationDocument,
    ApplicationStatus,
    Criterion,
    ReviewAssignment,
    ReviewScore,
    TrainerTerm,
)
from stormcert.trainers.services import TrainerError, active_term, grant_term

SOQ = "trainers.soq"


def active_certificate(user: User, program: Program, now: datetime) -> Certificate | None:
    """The person's current certificate of `program`, if any."""
    today = program_today(program, now)
    for certificate in Certificate.objects.filter(holder=user, program=program, superseded_at__isnull=True):
        if certificate.status_on(today) == Status.ACTIVE:
            return certificate
    return None


def required_programs(program: Program) -> list[Program]:
    """The programs whose current certificate a member of the trainer `program` must hold."""
    return list(program.requires.order_by("position", "code"))


def required_certificates(user: User, program: Program, now: datetime) -> list[Certificate]:
    """The person's current certificates in the programs `program` requires (those they hold)."""
    found = (active_certificate(user, required, now) for required in required_programs(program))
    return [c for c in found if c is not None]


def missing_certificates(user: User, program: Program, now: datetime) -> list[str]:
    """One sentence for each program `program` requires in which the person holds no current
    certificate."""
    return [
        f"You need a current (active) {required.short_name} certificate."
        for required in required_programs(program)
        if active_certificate(user, required, now) is None
    ]


def missing_certificate_names(user: User, program: Program, now: datetime) -> list[str]:
    """The same, as list items: "an active <short name> certificate"."""
    return [
        f"an active {required.short_name} certificate"
        for required in required_programs(program)
        if active_certificate(user, required, now) is None
    ]


def holders_of_required(user_ids: set[int], program: Program, now: datetime) -> set[int]:
    """Of `user_ids`, who holds a current certificate in every program `program` requires."""
    holders = set(user_ids)
    for required in required_programs(program):
        if not holders:
            break
        today = program_today(required, now)
        holders &= {
            c.holder_id
            for c in Certificate.objects.filter(
                program=required, holder_id__in=holders, superseded_at__isnull=True
            )
            if c.status_on(today) == Status.ACTIVE
        }
    return holders


# --- Cycles ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    weight: int
    max_score: int
    description: str = ""


@transaction.atomic
def open_cycle(
    *,
    program: Program,
    actor: User | None,
    title: str,
    rfq_text: str,
    opens_at: datetime,
    closes_at: datetime,
    notice_on: Any,
    criteria: list[CriterionSpec],
    soq_fee: Decimal,
    resubmittal_fee: Decimal,
    rfq_document: UploadedFile | None = None,
    now: datetime | None = None,
) -> ApplicationCycle:
    now = now or timezone.now()
    if program.kind != "trainer":
        raise TrainerError(f"{program} is not a trainer program.")
    if closes_at <= opens_at:
        raise TrainerError("The cycle must close after it opens.")
    if notice_on < timezone.localtime(closes_at, program.zone).date():
        raise TrainerError("The selection notice date must be on or after the closing date.")
    if not criteria:
        raise TrainerError("Give at least one review criterion.")
    if resubmittal_fee > soq_fee:
        raise TrainerError("The resubmittal fee is the lower one: it cannot exceed the SOQ fee.")
    if rfq_document is not None:
        # Checked like every other upload (type from the content, size capped): this one is
        # served to the public from the ToR page.
        try:
            check_pdf(rfq_document)
        except UploadRefused as exc:
            raise TrainerError(f"The RFQ document was not accepted: {exc}") from None
    cycle = ApplicationCycle.objects.create(
        program=program,
        title=title,
        rfq_text=rfq_text,
        opens_at=opens_at,
        closes_at=closes_at,
        notice_on=notice_on,
        created_at=now,
        created_by=actor,
    )
    if rfq_document is not None:
        cycle.rfq_document.save(f"rfq-{cycle.pk}.pdf", rfq_document, save=True)
    for position, spec in enumerate(criteria, start=1):
        Criterion.objects.create(
            cycle=cycle,
            position=position,
            name=spec.name,
            weight=spec.weight,
            max_score=spec.max_score,
            description=spec.description,
        )
    # The cycle's fees are program data like every other fee: a new amount takes effect the day
    # the cycle opens, and orders keep the amount they were made at.
    open_day = timezone.localtime(opens_at, program.zone).date()
    in_force = rules_in_force(program, open_day).fees
    for code, amount in (("soq", soq_fee), ("soq_resubmittal", resubmittal_fee)):
        current = in_force.get(code)
        if current is None or current.amount != amount:
            Fee.objects.update_or_create(
                program=program,
                code=code,
                effective_from=open_day,
                defaults={
                    "amount": amount,
                    "name": current.name if current else code,
                    "refundable": False,
                    "description": f"Set for {title}.",
                },
            )
    record(
        actor=actor,
        verb="trainers.cycle_opened",
        obj=cycle,
        data={
            "opens_at": opens_at.isoformat(),
            "closes_at": closes_at.isoformat(),
            "notice_on": str(notice_on),
            "soq_fee": soq_fee,
            "resubmittal_fee": resubmittal_fee,
            "criteria": [f"{c.name} ×{c.weight} /{c.max_score}" for c in criteria],
        },
        now=now,
    )
    return cycle


def my_application(user: User, program: Program, now: datetime) -> Application | None:
    """The application a person's ToR page is about: the current cycle's, else the latest one
    still waiting for its result (a new cycle opening does not hide a pending one), else None."""
    cycle = current_cycle(program, now)
    mine = Application.objects.filter(applicant=user, cycle__program=program).select_related("cycle__program")
    current = mine.filter(cycle=cycle).first() if cycle else None
    if current is not None:
        return current
    return (
        mine.filter(
            notified_at__isnull=True, status__in=[ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED]
        )
        .order_by("-cycle__opens_at")
        .first()
    )


def current_cycle(program: Program, now: datetime) -> ApplicationCycle | None:
    """The trainer program's cycle open now, else the next one to open, else the latest."""
    cycles = ApplicationCycle.objects.filter(program=program)
    return (
        cycles.filter(opens_at__lte=now, closes_at__gt=now).first()
        or cycles.filter(opens_at__gt=now).order_by("opens_at").first()
        or cycles.first()
    )


# --- Applying -----------------------------------------------------------------------------------


def soq_fee_code(applicant: User, cycle: ApplicationCycle) -> str:
    """Earlier applicants who were not selected pay the lower resubmittal fee."""
    earlier = Application.objects.filter(
        applicant=applicant, status=ApplicationStatus.NOT_SELECTED, cycle__opens_at__lt=cycle.opens_at
    )
    return "soq_resubmittal" if earlier.exists() else "soq"


def check_can_apply(*, user: User, cycle: ApplicationCycle, now: datetime) -> list[Certificate]:
    """Why the person may not apply to `cycle` now, or the required certificates they hold."""
    if now < cycle.opens_at:
        raise TrainerError(
            f"Applications open on {timezone.localtime(cycle.opens_at, cycle.program.zone):%B %-d, %Y}."
        )
    if now >= cycle.closes_at:
        raise TrainerError(
            f"Applications closed on {timezone.localtime(cycle.closes_at, cycle.program.zone):%B %-d, %Y at %-I:%M %p %Z}."
        )
    term = active_term(user, now, program=cycle.program)
    if term is not None:
        raise TrainerError(
            f"You are a Trainer of Record of {cycle.program.short_name} through "
            f"{term.ends_on:%B} {term.ends_on.day}, {term.ends_on.year}: you renew each year rather than apply again."
        )
    missing = missing_certificate_names(user, cycle.program, now)
    if missing:
        raise TrainerError("Applicants must hold " + " and ".join(missing) + ".")
    return required_certificates(user, cycle.program, now)


@transaction.atomic
def start_application(*, user: User, cycle: ApplicationCycle, now: datetime | None = None) -> Application:
    """Open (or return) the person's application and its fee order."""
    now = now or timezone.now()
    held = check_can_apply(user=user, cycle=cycle, now=now)
    application, created = Application.objects.get_or_create(
        cycle=cycle,
        applicant=user,
        defaults={
            "qisp_number": held[0].number if held else "",
            "fee_code": soq_fee_code(user, cycle),
            "created_at": now,
        },
    )
    if created:
        record(actor=user, verb="trainers.application_started", obj=application, now=now)
    return application


def open_fee_order(application: Application) -> Order | None:
    return pending_order(
        user_id=application.applicant_id, purpose=SOQ, reference="application", target=application.pk
    )


@transaction.atomic
def start_fee_payment(*, application: Application, now: datetime | None = None) -> Order:
    now = now or timezone.now()
    application = lock(application, "cycle")
    if application.paid_at is not None:
        raise TrainerError("The SOQ fee is already paid.")
    check_can_apply(user=application.applicant, cycle=application.cycle, now=now)
    order, _ = get_or_create_order(
        user=application.applicant,
        program=application.cycle.program,
        fee_code=application.fee_code,
        purpose=SOQ,
        reference={"application": application.pk},
        key="application",
        description=f"SOQ submittal fee: {application.cycle.title}",
        now=now,
    )
    return order


def fulfil_soq(line: Any, now: datetime) -> None:
    updated = Application.objects.filter(pk=line.reference["application"], paid_at__isnull=True).update(
        paid_at=now
    )
    if updated:
        record(
            actor=None,
            verb="trainers.soq_paid",
            obj=Application.objects.get(pk=line.reference["application"]),
            now=now,
        )


ANSWER_FIELDS = ("experience", "teaching", "certifications", "regions", "delivery")


def _require_draft(application: Application, now: datetime) -> None:
    if not application.is_draft:
        raise TrainerError("The statement has been submitted; it can no longer be changed.")
    if now >= application.cycle.closes_at:
        raise TrainerError(
            "The deadline has passed: applications closed on "
            f"{timezone.localtime(application.cycle.closes_at, application.cycle.program.zone):%B %-d, %Y at %-I:%M %p %Z}."
        )


@transaction.atomic
def save_draft(
    *, application: Application, answers: dict[str, str], now: datetime | None = None
) -> Application:
    now = now or timezone.now()
    application = lock(application, "cycle__program")
    _require_draft(application, now)
    for key in ANSWER_FIELDS:
        if key in answers:
            setattr(application, key, answers[key].strip())
    application.updated_at = now
    application.save()
    return application


def add_document(
    *, application: Application, label: str, upload: UploadedFile, now: datetime | None = None
) -> ApplicationDocument:
    """Keep a PDF: the type is checked from its content, not its name, and the size is capped."""
    now = now or timezone.now()
    _require_draft(application, now)
    try:
        checked = check_pdf(upload)
    except UploadRefused as exc:
        raise TrainerError(str(exc)) from None
    if not label.strip():
        raise TrainerError("Say what the document is (for example “Résumé”).")
    document = ApplicationDocument(
        application=application,
        label=label.strip()[:120],
        original_name=checked.original_name,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_at=now,
    )
    document.file.save("upload.pdf", upload, save=False)
    document.save()
    record(
        actor=application.applicant,
        verb="trainers.document_added",
        obj=application,
        data={"label": document.label, "size": document.size, "sha256": document.sha256},
        now=now,
    )
    return document


def remove_document(*, document: ApplicationDocument, now: datetime | None = None) -> None:
    now = now or timezone.now()
    _require_draft(document.application, now)
    record(
        actor=document.application.applicant,
        verb="trainers.document_removed",
        obj=document.application,
        data={"label": document.label},
        now=now,
    )
    document.file.delete(save=False)
    document.delete()


def missing_for_submission(application: Application) -> list[str]:
    missing = []
    if application.paid_at is None:
        missing.append("pay the SOQ submittal fee")
    labels = {
        "experience": "industrial stormwater experience",
        "teaching": "training and teaching experience",
        "regions": "where you would teach",
        "delivery": "how you would teach",
    }
    missing += [f"answer “{label}”" for key, label in labels.items() if not getattr(application, key)]
    if not application.documents.exists():
        missing.append("upload at least one document (your résumé)")
    return missing


@transaction.atomic
def submit_application(*, application: Application, now: datetime | None = None) -> Application:
    now = now or timezone.now()
    application = lock(application, "cycle__program")
    _require_draft(application, now)
    missing = missing_for_submission(application)
    if missing:
        raise TrainerError("Before submitting: " + "; ".join(missing) + ".")
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = now
    application.save(update_fields=["status", "submitted_at"])
    record(actor=application.applicant, verb="trainers.application_submitted", obj=application, now=now)
    send_templated_email(
        template="trainers/email/application_submitted",
        to=application.applicant.email,
        user=application.applicant,
        context={
            "application": application,
            "program": application.cycle.program,
            "url": absolute_url("trainers:home", application.cycle.program.code),
        },
    )
    return application


def can_read_documents(user: Any, application: Application, *, staff: bool) -> bool:
    """The applicant, a request with staff powers (`staff`, from the view's `has_staff_powers`),
    and reviewers assigned to it who declared no conflict."""
    if not getattr(user, "is_authenticated", False):
        return False
    if staff or application.applicant_id == user.pk:
        return True
    return ReviewAssignment.objects.filter(application=application, reviewer=user, conflict=False).exists()


# --- Reviews and selection ----------------------------------------------------------------------


def reviewers() -> list[User]:
    return list(
        User.objects.filter(groups__name=Role.REVIEWER, is_active=True).order_by("last_name", "email")
    )


@transaction.atomic
def assign_reviewer(
    *, application: Application, reviewer: User, actor: User, now: datetime | None = None
) -> ReviewAssignment:
    now = now or timezone.now()
    if not reviewer.groups.filter(name=Role.REVIEWER).exists():
        raise TrainerError(f"{reviewer} is not a reviewer.")
    if reviewer.pk == application.applicant_id:
        raise TrainerError("Applicants cannot review their own statement.")
    if application.status == ApplicationStatus.DRAFT:
        raise TrainerError("Only submitted statements are reviewed.")
    assignment, created = ReviewAssignment.objects.get_or_create(
        application=application, reviewer=reviewer, defaults={"assigned_at": now, "assigned_by": actor}
    )
    if not created:
        raise TrainerError(f"{reviewer} is already assigned to this statement.")
    record(
        actor=actor,
        verb="trainers.reviewer_assigned",
        obj=application,
        data={"reviewer": reviewer.email},
        now=now,
    )
    return assignment


def get_assignment_for_reviewer(*, user: Any, assignment_id: int) -> ReviewAssignment:
    return ReviewAssignment.objects.select_related("application__cycle", "application__applicant").get(
        pk=assignment_id, reviewer_id=getattr(user, "pk", None)
    )


@transaction.atomic
def declare_conflict(
    *, assignment: ReviewAssignment, conflict: bool, note: str, now: datetime | None = None
) -> ReviewAssignment:
    now = now or timezone.now()
    assignment = lock(assignment)
    if assignment.declared_at is not None:
        raise TrainerError("You have already declared whether you have a conflict of interest.")
    if conflict and not note.strip():
        raise TrainerError("Describe the conflict of interest.")
    assignment.conflict = conflict
    assignment.conflict_note = note.strip()
    assignment.declared_at = now
    assignment.save(update_fields=["conflict", "conflict_note", "declared_at"])
    record(
        actor=assignment.reviewer,
        verb="trainers.conflict_declared",
        obj=assignment.application,
        data={"conflict": conflict},
        reason=note,
        now=now,
    )
    return assignment


@transaction.atomic
def submit_scores(
    *, assignment: ReviewAssignment, scores: dict[int, int], comment: str, now: datetime | None = None
) -> ReviewAssignment:
    now = now or timezone.now()
    assignment = lock(assignment, "application__cycle")
    if assignment.declared_at is None:
        raise TrainerError("Declare first whether you have a conflict of interest.")
    if assignment.conflict:
        raise TrainerError("You declared a conflict of interest, so you do not score this statement.")
    if assignment.submitted_at is not None:
        raise TrainerError("Your scores are already submitted.")
    if assignment.application.status not in (ApplicationStatus.SUBMITTED,):
        raise TrainerError("A decision has been made; scores are closed.")
    criteria = list(assignment.application.cycle.criteria.all())
    for criterion in criteria:
        value = scores.get(criterion.pk)
        if value is None:
            raise TrainerError(f"Score “{criterion.name}”.")
        if not 0 <= value <= criterion.max_score:
            raise TrainerError(f"“{criterion.name}” is scored from 0 to {criterion.max_score}.")
    ReviewScore.objects.bulk_create(
        ReviewScore(assignment=assignment, criterion=c, score=scores[c.pk]) for c in criteria
    )
    assignment.comment = comment.strip()
    assignment.submitted_at = now
    assignment.save(update_fields=["comment", "submitted_at"])
    record(
        actor=assignment.reviewer,
        verb="trainers.scores_submitted",
        obj=assignment.application,
        data={"total": assignment.weighted_total()},
        now=now,
    )
    return assignment


def scored_reviews(application: Application) -> int:
    """Reviews that count toward a decision: submitted with scores (a declared conflict has none)."""
    return application.reviews.filter(submitted_at__isnull=False).exclude(conflict=True).count()


def decision_blocker(application: Application, now: datetime) -> str:
    """Why staff may not decide yet ("" when they may): the program's minimum of scored reviews."""
    program = application.cycle.program
    minimum = int(rules_in_force(program, program_today(program, now)).value("review.minimum_reviewers"))
    scored = scored_reviews(application)
    if scored >= minimum:
        return ""
    return (
        f"At least {minimum} reviewer{'s' if minimum != 1 else ''} must score this statement before a decision; "
        f"{scored} {'has' if scored == 1 else 'have'} so far. Assign reviewers below."
    )


@transaction.atomic
def decide(
    *, application: Application, selected: bool, actor: User, reason: str, now: datetime | None = None
) -> Application:
    now = now or timezone.now()
    if not reason.strip():
        raise TrainerError("Give a reason: it is kept in the audit log.")
    application = lock(application, "cycle")
    if application.status == ApplicationStatus.DRAFT:
        raise TrainerError("This statement was never submitted.")
    if application.notified_at is not None:
        raise TrainerError("The applicant has already been told the result.")
    if now < application.cycle.closes_at:
        raise TrainerError("Decide once the cycle has closed.")
    problem = decision_blocker(application, now)
    if problem:
        raise TrainerError(problem)
    before = application.status
    application.status = ApplicationStatus.SELECTED if selected else ApplicationStatus.NOT_SELECTED
    application.decided_at = now
    application.decided_by = actor
    application.decision_note = reason.strip()
    application.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
    record(
        actor=actor,
        verb="trainers.application_decided",
        obj=application,
        data={"from": before, "to": application.status},
        reason=reason,
        now=now,
    )
    return application


def send_notices(*, now: datetime | None = None) -> int:
    """On (or after) each cycle's notice date, email every decided applicant once."""
    now = now or timezone.now()
    sent = 0
    for cycle in ApplicationCycle.objects.filter(notices_sent_at__isnull=True).select_related("program"):
        if program_today(cycle.program, now) < cycle.notice_on:
            continue
        decided = cycle.applications.filter(
            status__in=[ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED], notified_at__isnull=True
        ).select_related("applicant")
        for application in decided:
            with transaction.atomic():
                # A second tick at the same moment loses the claim and sends nothing.
                if not send_once(
                    claim=partial(claim_stamp, application, "notified_at", now),
                    template="trainers/email/result",
                    to=application.applicant.email,
                    user=application.applicant,
                    context={
                        "application": application,
                        "selected": application.status == ApplicationStatus.SELECTED,
                        "program": cycle.program,
                        "url": absolute_url("trainers:home", cycle.program.code),
                    },
                ):
                    continue
                record(
                    actor=None,
                    verb="trainers.result_sent",
                    obj=application,
                    data={"status": application.status},
                    now=now,
                )
            sent += 1
        if not cycle.applications.filter(status=ApplicationStatus.SUBMITTED).exists():
            ApplicationCycle.objects.filter(pk=cycle.pk).update(notices_sent_at=now)
    return sent


# --- The selected candidate's additional steps and approval ------------------------------------


def agreement_in_force(program: Program, now: datetime) -> AgreementVersion | None:
    return (
        AgreementVersion.objects.filter(program=program, effective_from__lte=program_today(program, now))
        .order_by("-effective_from")
        .first()
    )


def has_signed_current(user: User, program: Program, now: datetime) -> bool:
    agreement = agreement_in_force(program, now)
    return (
        agreement is not None and AgreementSignature.objects.filter(agreement=agreement, user=user).exists()
    )


@transaction.atomic
def sign_agreement(
    *,
    user: User,
    program: Program,
    typed_name: str,
    ip_address: str | None,
    user_agent: str,
    now: datetime | None = None,
) -> AgreementSignature:
    now = now or timezone.now()
    agreement = agreement_in_force(program, now)
    if agreement is None:
        raise TrainerError("There is no Compliance Agreement to sign yet.")
    expected = (user.get_full_name() or "").strip().lower()
    if not typed_name.strip():
        raise TrainerError("Type your full name to sign.")
    if expected and typed_name.strip().lower() != expected:
        raise TrainerError(f"Type your full name as it is on your account ({user.get_full_name()}).")
    signature, created = AgreementSignature.objects.get_or_create(
        agreement=agreement,
        user=user,
        defaults={
            "typed_name": typed_name.strip(),
            "signed_at": now,
            "ip_address": ip_address,
            "user_agent": user_agent[:300],
        },
    )
    if not created:
        raise TrainerError(f"You signed version {agreement.version} on {signature.signed_at:%B %-d, %Y}.")
    record(
        actor=user,
        verb="trainers.agreement_signed",
        obj=signature,
        data={"version": agreement.version, "typed_name": signature.typed_name, "ip": ip_address},
        now=now,
    )
    return signature


def selected_application(user: User, program: Program) -> Application | None:
    """The person's latest selection (told by notice) in the trainer `program`."""
    return (
        Application.objects.filter(
            applicant=user,
            cycle__program=program,
            status=ApplicationStatus.SELECTED,
            notified_at__isnull=False,
        )
        .select_related("cycle__program")
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def record_orientation(*, application: Application, how: str, now: datetime | None = None) -> Application:
    now = now or timezone.now()
    if how not in ("attended", "viewed"):
        raise TrainerError("Say whether you attended the orientation or viewed its recording.")
    application = lock(application)
    if application.orientation_at is None:
        application.orientation_at = now
        application.orientation_how = how
        application.save(update_fields=["orientation_at", "orientation_how"])
        record(
            actor=application.applicant,
            verb="trainers.orientation_recorded",
            obj=application,
            data={"how": how},
            now=now,
        )
    return application


@transaction.atomic
def acknowledge_course_info(*, application: Application, now: datetime | None = None) -> Application:
    now = now or timezone.now()
    application = lock(application)
    if application.course_info_at is None:
        application.course_info_at = now
        application.save(update_fields=["course_info_at"])
        record(actor=application.applicant, verb="trainers.course_info_read", obj=application, now=now)
    return application


def approval_missing(application: Application, now: datetime) -> list[str]:
    missing = []
    if application.orientation_at is None:
        missing.append("the orientation (attended or viewed)")
    if application.course_info_at is None:
        missing.append("the ToR course information")
    if not has_signed_current(application.applicant, application.cycle.program, now):
        missing.append("the Compliance Agreement (current version)")
    missing += missing_certificate_names(application.applicant, application.cycle.program, now)
    return missing


def candidates_to_approve() -> QuerySet[Application]:
    """Selected candidates told their result and not yet approved: the staff queue."""
    return Application.objects.filter(
        status=ApplicationStatus.SELECTED, notified_at__isnull=False, approved_at__isnull=True
    )


@transaction.atomic
def approve_candidate(
    *, application: Application, actor: User, reason: str, now: datetime | None = None
) -> TrainerTerm:
    """Staff approve a selected candidate: a ToR term and certificate for the current term."""
    now = now or timezone.now()
    # The applicant's row too, as every change to someone's terms takes it (services.end_term).
    application = lock(application, "cycle__program", "applicant", also=("applicant",))
    if application.status != ApplicationStatus.SELECTED:
        raise TrainerError("Only selected candidates are approved.")
    if application.approved_at is not None:
        raise TrainerError("Already approved.")
    missing = approval_missing(application, now)
    if missing:
        raise TrainerError("Still missing: " + "; ".join(missing) + ".")
    term = grant_term(
        user=application.applicant,
        program=application.cycle.program,
        actor=actor,
        reason=reason,
        source="selection",
        now=now,
    )
    issue_term_certificate(term=term, actor=actor, now=now)
    application.approved_at = now
    application.approved_by = actor
    application.save(update_fields=["approved_at", "approved_by"])
    record(actor=actor, verb="trainers.candidate_approved", obj=application, reason=reason, now=now)
    return term


@transaction.atomic
def issue_term_certificate(*, term: TrainerTerm, actor: User | None, now: datetime) -> Certificate:
    """One ToR certificate per term, valid to the term's last day."""
    term = lock(term, "program", "user")
    if term.certificate_id is not None:
        return term.certificate  # type: ignore[return-value]
    if term.ended_on is not None:
        raise TrainerError(f"This term was ended on {term.ended_on:%B %-d, %Y}: {term.end_reason}")
    previous = (
        Certificate.objects.filter(holder=term.user, program=term.program, superseded_at__isnull=True)
        .exclude(trainer_term=term)
        .order_by("-issued_on")
        .first()
    )
    certificate = issue_certificate(
        holder=term.user,
        program=term.program,
        issued_on=max(program_today(term.program, now), term.starts_on),
        expires_on=term.ends_on,
        source=Source.TRAINER_TERM,
        renews=previous,
        actor=actor,
        now=now,
    )
    term.certificate = certificate
    term.save(update_fields=["certificate"])
    return certificate


def public_trainers(
    now: datetime, *, program: Program | None = None, in_standing_only: bool = True
) -> list[TrainerTerm]:
    """The public list of Trainers of Record of `program` (None: of every public trainer
    program, by program): terms in force whose holder is in standing in that program
    (trainers.standing), so the list and the calendar never disagree. Staff pages pass
    `in_standing_only=False` to see every term in force."""
    from stormcert.programs.lookup import trainer_programs
    from stormcert.trainers.standing import in_standing  # standing builds on this module

    programs = [program] if program is not None else list(trainer_programs(public_only=in_standing_only))
    terms: list[TrainerTerm] = []
    for each in programs:
        today = program_today(each, now)
        found = list(
            TrainerTerm.objects.filter(program=each)
            .in_force_on(today)
            .select_related("user", "user__profile", "certificate", "program")
            .order_by("user__last_name", "user__first_name")
        )
        if in_standing_only:
            able = in_standing([t.user_id for t in found], each, now)
            found = [t for t in found if t.user_id in able]
        terms += found
    _attach_certified_names(terms)
    return terms


def _attach_certified_names(terms: list[TrainerTerm]) -> None:
    """`term.certified_name`: the name the program certified (the term's ToR certificate, else
    the person's latest current certificate, as `certificates.services.certified_name` picks),
    never the editable profile name; a term whose holder holds no certificate at all shows none."""
    from stormcert.certificates.models import Certificate

    latest: dict[int, str] = {}
    rows = (
        Certificate.objects.filter(holder_id__in={t.user_id for t in terms}, superseded_at__isnull=True)
        .order_by("holder_id", "-issued_at", "-id")
        .values_list("holder_id", "holder_name")
    )
    for holder_id, name in rows:
        latest.setdefault(holder_id, name)
    for term in terms:
        term.certified_name = (  # type: ignore[attr-defined]
            term.certificate.holder_name if term.certificate else latest.get(term.user_id, "")
        )
