"""Original sample questions and the two QISP exams, for the demo, and the builders any program's
demo exams use (`build_exams`, `sit`). The real bank is not public; staff import theirs (GIFT or
Moodle XML)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction

from stormcert.accounts.models import User
from stormcert.exams.models import Answer, Attempt, BlueprintItem, Exam, Question, QuestionBank
from stormcert.exams.services import start_attempt, submit_attempt
from stormcert.programs.models import Program

BMP_CATEGORIES = [
    "Good housekeeping",
    "Preventive maintenance",
    "Spill and leak prevention and response",
    "Material handling and waste management",
    "Erosion and sediment controls",
    "Employee training program",
    "Quality assurance and record keeping",
]
BMP_EXAMPLES = [
    ("Sweeping paved yards and loading docks on a schedule", 0),
    ("Keeping dumpster lids closed", 0),
    ("Covering stockpiles of raw materials", 0),
    ("Cleaning up tracked-out dirt at the site entrance", 0),
    ("Inspecting forklifts for hydraulic leaks", 1),
    ("Replacing worn hoses on outdoor equipment before they fail", 1),
    ("Checking secondary containment for cracks", 1),
    ("Servicing drain inlet filters before the wet season", 1),
    ("Keeping spill kits next to fueling areas", 2),
    ("Using drip pans under parked equipment", 2),
    ("Having a written procedure for responding to spills", 2),
    ("Cleaning up leaks promptly with dry methods", 2),
    ("Loading and unloading materials under a roof", 3),
    ("Storing drums of liquids inside a bermed area", 3),
    ("Keeping waste containers labeled and closed", 3),
    ("Moving outdoor storage of metal scrap under cover", 3),
    ("Stabilizing bare soil with mulch or vegetation", 4),
    ("Placing fiber rolls along the edge of an unpaved lot", 4),
    ("Protecting drain inlets from sediment", 4),
    ("Repairing eroded slopes near a drainage ditch", 4),
    ("Teaching new staff where the drain inlets are", 5),
    ("Annual refresher sessions on the SWPPP for the stormwater team", 5),
    ("Training staff who handle hazardous materials on spill response", 5),
    ("Documenting who attended stormwater training", 5),
    ("Keeping records of inspections and BMP maintenance", 6),
    ("Having written procedures to check that BMPs are carried out", 6),
    ("Keeping sampling records with the SWPPP", 6),
    ("Tracking corrective actions until they are finished", 6),
]
FACTS = {
    "Permit basics": [
        (
            "What does SWPPP stand for?",
            "Storm Water Pollution Prevention Plan",
            [
                "Stormwater Permit Processing Procedure",
                "Site Water Pollution Penalty Program",
                "State Water Permit Priority Plan",
            ],
        ),
        (
            "What does a facility file to obtain coverage under the Industrial General Permit?",
            "A Notice of Intent (NOI)",
            ["A Notice of Termination", "A building permit", "A Level 2 ERA Technical Report"],
        ),
        (
            "What does a facility file to end its permit coverage?",
            "A Notice of Termination (NOT)",
            ["A Notice of Intent", "An annual report", "A change of information only"],
        ),
        (
            "What can a facility with no exposure of industrial activities to stormwater file?",
            "A No Exposure Certification (NEC)",
            ["A Level 1 ERA Report", "A Notice of Intent", "Nothing; every facility must sample"],
        ),
        (
            "What is a best management practice (BMP)?",
            "A practice or control that prevents or reduces pollutants in stormwater discharges",
            ["A sampling method", "A type of laboratory analysis", "A permit fee category"],
        ),
        (
            "Who must use a QISP under the Industrial General Permit?",
            "Facilities in Level 1 or Level 2 of the Exceedance Response Action process",
            [
                "Every facility, every year",
                "Only facilities that file a Notice of Termination",
                "Only construction sites",
            ],
        ),
        (
            "What are the two broad groups of BMPs in the permit?",
            "Minimum BMPs and advanced BMPs",
            ["Wet BMPs and dry BMPs", "Federal BMPs and state BMPs", "Temporary BMPs and paper BMPs"],
        ),
        (
            "Which of these is an advanced BMP category?",
            "Treatment control BMPs",
            ["Good housekeeping", "Employee training program", "Quality assurance and record keeping"],
        ),
        (
            "Which of these is an advanced BMP category?",
            "Exposure minimization BMPs",
            ["Preventive maintenance", "Spill and leak prevention", "Erosion and sediment controls"],
        ),
        (
            "What must a SWPPP include about the site?",
            "A site map showing drainage areas, discharge locations and pollutant sources",
            ["The owner's tax records", "Weather forecasts for the year", "A list of nearby facilities"],
        ),
        (
            "When must a facility update its SWPPP?",
            "When there are significant changes to the site or its activities",
            ["Only every ten years", "Never, once approved", "Only when the owner changes"],
        ),
        (
            "Which water board adopted the Industrial General Permit?",
            "The State Water Resources Control Board",
            ["The U.S. Coast Guard", "A city council", "The county assessor"],
        ),
        (
            "What does the permit aim to protect?",
            "Receiving waters such as rivers, lakes and the ocean",
            ["Only drinking water wells", "Only groundwater", "Only the facility's own buildings"],
        ),
    ],
    "Monitoring": [
        (
            "What is a Qualifying Storm Event (QSE)?",
            "A precipitation event that produces a discharge and follows 48 hours without discharge",
            ["Any rain over one inch", "A storm the weather service names", "Any day with clouds"],
        ),
        (
            "How many QSEs must most facilities sample each reporting year?",
            "Four: two in each half of the reporting year",
            ["One", "Twelve, one a month", "As many as it rains"],
        ),
        (
            "What is the permit's reporting year?",
            "July 1 to June 30",
            ["January 1 to December 31", "October 1 to September 30", "April 1 to March 31"],
        ),
        (
            "Which parameters must every sampling facility analyze?",
            "pH, total suspended solids and oil and grease",
            ["Only temperature", "Only dissolved oxygen", "Only bacteria"],
        ),
        (
            "What does NAL stand for?",
            "Numeric Action Level",
            ["National Air Limit", "New Application Letter", "Notice of Annual Liability"],
        ),
        (
            "How is an annual NAL exceedance determined?",
            "The average of a parameter's results in a reporting year is above the annual NAL",
            [
                "Any single result above the limit",
                "The highest result of the decade",
                "The laboratory decides",
            ],
        ),
        (
            "How is an instantaneous maximum NAL exceedance determined?",
            "Two or more results in a reporting year are above the instantaneous maximum NAL",
            ["One result in five years", "The average over all years", "Any result after June 30"],
        ),
        (
            "Where should samples be taken?",
            "At the discharge locations identified in the SWPPP",
            ["Anywhere on the roof", "From the nearest river", "From tap water"],
        ),
        (
            "What are visual observations for?",
            "Spotting signs of pollution such as sheen, odor, color or floating material",
            ["Counting vehicles", "Measuring rainfall exactly", "Replacing laboratory analysis of pH"],
        ),
        (
            "Why must sampling follow approved methods?",
            "So results are reliable and comparable with the action levels",
            ["So samples can be skipped", "To reduce the number of QSEs", "Because the SWPPP is optional"],
        ),
        (
            "When must samples be collected during a QSE?",
            "Within the first four hours of discharge or the start of facility operations",
            ["A week later", "Only on weekends", "Before it starts raining"],
        ),
        (
            "What is a sampling parameter selected for a facility's industry based on?",
            "The facility's industrial category and potential pollutant sources",
            ["The owner's preference", "The color of the buildings", "The number of employees only"],
        ),
        (
            "What should happen to sampling results?",
            "They are reported in SMARTS as the permit requires",
            ["They are kept secret", "They are discarded after a week", "They are mailed to neighbors"],
        ),
    ],
    "Exceedance response": [
        (
            "What moves a facility from Baseline to Level 1 status?",
            "An annual or instantaneous maximum NAL exceedance",
            ["Filing a Notice of Intent", "Hiring a new manager", "A dry reporting year"],
        ),
        (
            "Who prepares the Level 1 ERA evaluation and report?",
            "A QISP",
            ["The regional board's inspector", "Any employee", "The laboratory"],
        ),
        (
            "What does a Level 1 ERA evaluation look at?",
            "The industrial pollutant sources and whether BMPs need to change",
            ["Only employee attendance", "Only the property deed", "Only rainfall totals"],
        ),
        (
            "What can move a facility from Level 1 to Level 2?",
            "Further exceedances of the same parameter after Level 1",
            ["Filing its annual report on time", "A QISP's vacation", "A change of the facility's name"],
        ),
        (
            "What does a Level 2 facility prepare?",
            "A Level 2 ERA Action Plan and Technical Report",
            ["Nothing further", "A new Notice of Intent", "Only a phone call to the board"],
        ),
        (
            "What can a Level 2 Technical Report demonstrate?",
            "That the exceedances are from non-industrial or natural background sources, or that BMPs are adequate",
            [
                "That sampling is no longer needed forever",
                "That the permit does not apply to California",
                "That the QISP is retired",
            ],
        ),
        (
            "What should a facility do after a Level 1 evaluation recommends changes?",
            "Implement the recommended BMP revisions and update the SWPPP",
            ["Ignore them until the next year", "Stop sampling", "File a Notice of Termination"],
        ),
        (
            "Who must certify ERA reports submitted in SMARTS?",
            "The facility's legally responsible person or duly authorized representative",
            ["A neighbor", "The laboratory technician", "Anyone with a SMARTS password"],
        ),
        (
            "What is the purpose of the ERA process?",
            "To respond to exceedances by improving BMPs",
            ["To collect fees", "To close facilities automatically", "To replace the SWPPP"],
        ),
        (
            "Can a facility return to Baseline status?",
            "Yes, after consecutive QSE results without exceedances of the parameter",
            ["Never", "Only by paying a fine", "Only by changing owners"],
        ),
        (
            "Which document should reflect BMP changes made after an exceedance?",
            "The SWPPP",
            ["The NOT", "The lease", "The insurance policy"],
        ),
        (
            "What does a QISP need to keep to stay qualified?",
            "A current certificate, renewed every two years",
            ["Nothing after the first exam", "A new exam every month", "A construction license"],
        ),
    ],
    "SMARTS and reporting": [
        (
            "What is SMARTS?",
            "The State Water Board's online Storm Water Multiple Application and Report Tracking System",
            ["A laboratory method", "A brand of rain gauge", "A type of BMP"],
        ),
        (
            "When is the annual report due?",
            "July 15, after the end of the reporting year",
            ["January 1", "On the owner's birthday", "Every month"],
        ),
        (
            "Where are sampling results uploaded?",
            "In SMARTS",
            ["On social media", "Only in the SWPPP binder", "Nowhere"],
        ),
        (
            "Who may submit documents in SMARTS on the facility's behalf?",
            "The legally responsible person or a duly authorized representative",
            ["Anyone who finds the password", "Only the QISP", "Only the laboratory"],
        ),
        (
            "What should a facility file in SMARTS when its information changes?",
            "A change of information (COI)",
            ["A new NOT", "Nothing", "A new NEC every week"],
        ),
        (
            "Where is the SWPPP submitted?",
            "It is uploaded in SMARTS and kept current",
            [
                "It is never shared",
                "It is mailed to the federal government",
                "It is posted at the entrance only",
            ],
        ),
        (
            "Which guide explains how to use SMARTS?",
            "The Discharger's Guide to the SMARTS Database",
            ["The tax code", "A vehicle manual", "The building code"],
        ),
        (
            "Why keep SMARTS records accurate?",
            "Regulators and the public rely on them to see compliance",
            ["They are never read", "Only for internal use", "To avoid sampling"],
        ),
        (
            "What does an ad hoc report in SMARTS allow?",
            "Submitting monitoring data or documents outside the regular schedule",
            ["Skipping the annual report", "Changing the permit", "Ending coverage"],
        ),
        (
            "What happens when a facility ends operations?",
            "It files a Notice of Termination in SMARTS",
            ["Nothing", "It files a new NOI", "It stops answering mail"],
        ),
    ],
}
MIDTERM = {
    "Minimum BMPs": 12,
    "Permit basics": 8,
    "Monitoring": 6,
    "Exceedance response": 5,
    "SMARTS and reporting": 4,
}
FINAL = {
    "Minimum BMPs": 24,
    "Permit basics": 13,
    "Monitoring": 13,
    "Exceedance response": 12,
    "SMARTS and reporting": 8,
}


def sample_questions() -> list[tuple[str, str, list[str], int]]:
    rng = random.Random(2026)  # noqa: S311 - fixed layout for sample content, not security
    questions: list[tuple[str, str, list[str], int]] = []
    for example, category in BMP_EXAMPLES:
        wrong = [c for i, c in enumerate(BMP_CATEGORIES) if i != category]
        choices = [BMP_CATEGORIES[category], *rng.sample(wrong, 3)]
        questions.append(
            (
                "Minimum BMPs",
                f"Which minimum BMP category does this practice belong to: “{example}”?",
                choices,
                0,
            )
        )
    for topic, facts in FACTS.items():
        for text, right, wrong in facts:
            questions.append((topic, text, [right, *wrong], 0))
    return questions


def build_exams(
    program: Program,
    *,
    bank_code: str,
    bank_title: str,
    questions: list[tuple[str, str, list[str], int]],
    exams: list[tuple[str, str, dict[str, int]]],
) -> bool:
    """A question bank of (topic, text, choices, index of the right one) and one exam per exam
    step, (step code, title, {topic: questions drawn}), once. Any program; each blueprint adds up
    to the step's `question_count` in the program's rules."""
    bank, created = QuestionBank.objects.get_or_create(
        code=bank_code, defaults={"program": program, "title": bank_title}
    )
    if created:
        Question.objects.bulk_create(
            Question(bank=bank, topic=topic, text=text, choices=choices, correct=correct, source="demo")
            for topic, text, choices, correct in questions
        )
    for code, title, blueprint in exams:
        exam, made = Exam.objects.get_or_create(
            program=program, step_code=code, defaults={"title": title, "bank": bank}
        )
        if made:
            created = True
            BlueprintItem.objects.bulk_create(
                BlueprintItem(exam=exam, topic=t, count=n) for t, n in blueprint.items()
            )
    return created


def sit(user: User, exam: Exam, share: float, start: datetime, *, timed_out: bool = False) -> Attempt:
    """One attempt answered with `share` of its questions right, submitted after seventy minutes
    (or, timed out, found overdue the next day and closed from its saved answers). Answers are
    saved straight onto the attempt's answer rows (what `save_answer` does one request at a time)
    so the demo loads fast."""
    attempt = start_attempt(user=user, exam=exam, now=start)
    answers = list(
        Answer.objects.filter(attempt=attempt).select_related("item__question").order_by("position")
    )
    right = round(share * len(answers))
    by_choice: dict[int, list[int]] = defaultdict(list)
    for index, answer in enumerate(answers):
        correct = answer.item.choice_order.index(answer.item.question.correct)
        by_choice[correct if index < right else (correct + 1) % answer.choice_count].append(answer.pk)
    # A handful of UPDATEs (one per choice shown) rather than one per answer.
    for choice, ids in by_choice.items():
        Answer.objects.filter(pk__in=ids).update(choice=choice, seq=1, saved_at=start + timedelta(minutes=30))
    finish = start + (timedelta(days=1) if timed_out else timedelta(minutes=70))
    return submit_attempt(attempt_id=attempt.pk, now=finish, timed_out=timed_out)


@transaction.atomic
def load_demo_exams() -> bool:
    """The QISP sample bank and its two exams, once."""
    return build_exams(
        Program.objects.get(code="QISP"),
        bank_code="qisp-sample",
        bank_title="QISP sample questions",
        questions=sample_questions(),
        exams=[("midterm", "Midterm exam", MIDTERM), ("final", "Final exam", FINAL)],
    )
