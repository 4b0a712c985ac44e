"""Reading GIFT, Aiken and Moodle XML: the questions taken, and every other one with where it is
and why it was left out."""

from __future__ import annotations

import pytest

from stormcert.exams.importers import detect_format, parse_aiken, parse_file, parse_gift, parse_moodle_xml

GIFT = """// A sample bank
$CATEGORY: $course$/QISP/Monitoring

::Q1:: How many QSEs are sampled each reporting year? {
  =Four#Right: two per half year
  ~One#Too few
  ~Twelve
  ####Check the permit's sampling section.
}

What does NAL stand for? {=Numeric Action Level ~National Air Limit ~New Application Letter}

$CATEGORY: $course$/QISP/Permit basics
Which document ends permit coverage? {=A Notice of Termination ~A Notice of Intent \\= escaped ~Nothing}
"""


def test_gift_questions_topics_titles_and_feedback() -> None:
    report = parse_gift(GIFT)
    assert not report.rejected
    assert [(q.topic, q.name, q.text, q.choices[q.correct], q.where) for q in report.questions] == [
        ("Monitoring", "Q1", "How many QSEs are sampled each reporting year?", "Four", "line 4"),
        ("Monitoring", "", "What does NAL stand for?", "Numeric Action Level", "line 11"),
        ("Permit basics", "", "Which document ends permit coverage?", "A Notice of Termination", "line 14"),
    ]
    first = report.questions[0]
    assert first.choices == ["Four", "One", "Twelve"]
    assert first.feedback == ["Right: two per half year", "Too few", ""]
    assert first.general_feedback == "Check the permit's sampling section."
    assert report.questions[1].feedback == []  # none given: nothing stored
    assert report.questions[2].choices[1] == "A Notice of Intent = escaped"


def test_gift_escapes_crlf_and_unicode() -> None:
    text = (
        "$CATEGORY: $course$/Qualité/Échantillonnage — été\r\n\r\n"
        "::Bräche\\: 1:: Which sign is \\{not\\} a \\~tilde\\, \\#hash or \\=equals\\: 水質?\r\n"
        "{\r\n=\\~ tilde#it is \\# not a comment\r\n~\\= equals\r\n~\\{brace\\}\r\n}\r\n"
    )
    report = parse_gift(text)
    assert not report.rejected
    q = report.questions[0]
    assert q.topic == "Échantillonnage — été"
    assert q.name == "Bräche: 1"
    assert q.text == "Which sign is {not} a ~tilde\\, #hash or =equals: 水質?"
    assert q.choices == ["~ tilde", "= equals", "{brace}"] and q.correct == 0
    assert q.feedback[0] == "it is # not a comment"
    # The file as bytes, with a BOM: the same reading.
    assert parse_file("bank.gift", ("\ufeff" + text).encode()).questions == report.questions


def test_gift_true_false_with_feedback() -> None:
    report = parse_gift(
        "The permit applies statewide. {T}\n\n"
        "::Rain:: Sampling is optional in a drought. {FALSE#It is never optional.#Right.}\n\n"
        "Lower case works too. {true}\n\n"
        "Is a NOI needed? {TRUE####Always.}\n"
    )
    assert not report.rejected
    assert [(q.choices, q.correct) for q in report.questions] == [
        (["True", "False"], 0),
        (["True", "False"], 1),
        (["True", "False"], 0),
        (["True", "False"], 0),
    ]
    rain = report.questions[1]
    # GIFT: the first feedback is for a wrong answer (True here), the second for the right one.
    assert rain.name == "Rain" and rain.feedback == ["It is never optional.", "Right."]
    assert report.questions[3].general_feedback == "Always."


def test_gift_formats_markdown_html_plain_and_multi_line_text() -> None:
    report = parse_gift(
        "::Markdown title::[markdown]Which is **bold**?\\n\\n- one\\n- two {=one ~two}\n\n"
        "[html]<p>Is 5 &lt; 6 <b>always</b>?</p><script>alert(1)</script> {T}\n\n"
        "[plain]A <b> is shown as typed {T}\n\n"
        "[moodle]Moodle format\n  over two lines {T}\n"
    )
    assert not report.rejected
    md, html, plain, moodle = report.questions
    assert (md.name, md.text_format, md.text) == (
        "Markdown title",
        "markdown",
        "Which is **bold**?\n\n- one\n- two",
    )
    assert html.text_format == "html" and html.text == "<p>Is 5 &lt; 6 <b>always</b>?</p>"
    assert (plain.text_format, plain.text) == ("plain", "A <b> is shown as typed")
    assert (moodle.text_format, moodle.text) == ("plain", "Moodle format over two lines")


def test_gift_missing_word_question() -> None:
    q = parse_gift("The {=NOT ~NOI ~SWPPP} ends coverage.\n").questions[0]
    assert q.text == "The _____ ends coverage." and q.choices[q.correct] == "NOT"


GIFT_BAD = """Good question? {=Yes ~No}

Which are BMPs? {~%50%Sweeping ~%50%Training ~Nothing}

Name the system. {=SMARTS =smarts}

Match them. {=a -> 1 =b -> 2}

How many inches? {#1.5}

Write about it. {}

Unclosed? {=a ~b
~c

Which two? {=a =b ~c}

Which one? {~a ~b}

Alone? {=a}

Same? {=a ~a}

Empty answer? {=a ~ ~b}

Stray } brace {=a ~b}

Two {=a ~b} blocks {=c ~d}

Nested {=a {~b}

Just a description, no answers.

Starts wrong {a =b ~c}

Weighted right {=%100%a ~%0%b}
"""


def test_gift_every_rejection_says_where_and_why() -> None:
    report = parse_gift(GIFT_BAD)
    assert [q.where for q in report.questions] == ["line 1", "line 36"]
    assert report.rejected == [
        (
            "line 3",
            "answer “Sweeping” gives partial credit (50%); mark one answer = (right) and the others ~ (wrong)",
        ),
        (
            "line 5",
            "every answer is marked = and none ~ (wrong): a short-answer question, which is not supported; "
            "give the wrong choices with ~",
        ),
        ("line 7", "it is a matching question (a -> b), which is not supported"),
        ("line 9", "it is a numeric question ({#…}), which is not supported"),
        ("line 11", "its answer block {} is empty: an essay question, which is not supported"),
        ("line 13", "the answer block opened on line 13 is never closed (no “}” before the next blank line)"),
        (
            "line 16",
            "2 answers are marked correct; exactly one must be (several correct answers are not supported)",
        ),
        ("line 18", "no answer is marked correct; exactly one must be"),
        (
            "line 20",
            "every answer is marked = and none ~ (wrong): a short-answer question, which is not supported; "
            "give the wrong choices with ~",
        ),
        ("line 22", "answers 1 and 2 are the same (“a”); each choice must differ"),
        ("line 24", "answer 2 has no text"),
        ("line 26", "the “}” on line 26 closes no answer block; write \\} for a brace in the text"),
        (
            "line 28",
            "it has two answer blocks (on line 28); a question has one, write \\{ and \\} for braces in the text",
        ),
        (
            "line 30",
            "a second “{” on line 30 opens inside the answer block opened on line 30; write \\{ for a brace in the text",
        ),
        ("line 32", "it has no answer block {…}: text without answers (a description) is not a question"),
        (
            "line 34",
            "its answer block starts with “a =b ~c”; each answer must start with = (right) or ~ (wrong)",
        ),
    ]
    weighted = report.questions[1]
    assert weighted.choices == ["a", "b"] and weighted.correct == 0


def test_gift_unclosed_block_names_the_line_it_opened_on() -> None:
    report = parse_gift("// intro\n\nFirst line\nsecond line {\n=a\n~b\n\nNext? {=x ~y}\n")
    assert report.rejected == [
        ("line 3", "the answer block opened on line 4 is never closed (no “}” before the next blank line)")
    ]
    assert [q.text for q in report.questions] == ["Next?"]


AIKEN = """Which document ends permit coverage?
A. A Notice of Termination
B) A Notice of Intent
C. A SWPPP
ANSWER: A

What does NAL stand for,
in the permit?
A. National Air Limit
B. Numeric Action Level
ANSWER: B
Who files the Annual Report — the discharger?
A. Yes
B. No
ANSWER: A
"""


def test_aiken_questions() -> None:
    report = parse_aiken(AIKEN, "Permit basics")
    assert not report.rejected
    assert [(q.where, q.topic, q.text, q.choices[q.correct]) for q in report.questions] == [
        ("line 1", "Permit basics", "Which document ends permit coverage?", "A Notice of Termination"),
        ("line 7", "Permit basics", "What does NAL stand for, in the permit?", "Numeric Action Level"),
        ("line 12", "Permit basics", "Who files the Annual Report — the discharger?", "Yes"),
    ]
    assert parse_file("bank.txt", AIKEN.replace("\n", "\r\n").encode()).file_format == "aiken"


def test_aiken_rejections() -> None:
    report = parse_aiken(
        "No answer line?\nA. a\nB. b\n\nNext question\nA. a\nB. b\nANSWER: E\n\n"
        "Out of order\nA. a\nC. c\nANSWER: A\n\nOne option\nA. a\nANSWER: A\n\n"
        "ANSWER: B\n\nDangling\nA. a\nB. b\n"
    )
    assert report.rejected == [
        ("line 1", "no ANSWER line after its options (line 5 is neither an option nor ANSWER:)"),
        ("line 5", "“ANSWER: E” on line 8 names no option; give one letter of A, B"),
        ("line 10", "option “C” on line 12 should be “B”: options run A, B, C… in order"),
        ("line 15", "it has only one answer; a multiple-choice question needs at least one wrong answer too"),
        ("line 19", "the ANSWER line on line 19 comes before any options (A. …, B. …)"),
        ("line 21", "the file ends before its ANSWER line"),
    ]


XML = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Exceedance response</text></category></question>
  <question type="multichoice">
    <name><text>Level 1</text></name>
    <questiontext format="html"><text><![CDATA[<p>Who prepares the <b>Level 1</b> ERA report when 5 &lt; 6 &amp; so on?</p>]]></text></questiontext>
    <generalfeedback format="html"><text>&lt;p&gt;See the permit&lt;/p&gt;</text></generalfeedback>
    <single>true</single>
    <answer fraction="100" format="html"><text>&lt;p&gt;A QISP &amp;amp; nobody else&lt;/p&gt;</text><feedback><text>Yes</text></feedback></answer>
    <answer fraction="0"><text>The laboratory</text></answer>
    <answer fraction="0" format="plain_text"><text>A &lt;b&gt; neighbor</text></answer>
  </question>
  <question type="truefalse">
    <name><text>Dry year</text></name>
    <questiontext format="moodle_auto_format"><text>A dry year moves a facility to Level 1.</text></questiontext>
    <answer fraction="0"><text>true</text><feedback><text>No: an exceedance does.</text></feedback></answer>
    <answer fraction="100"><text>false</text><feedback><text>Right.</text></feedback></answer>
  </question>
</quiz>
"""


def test_moodle_xml_multichoice_and_true_false_entities_decoded_once() -> None:
    report = parse_moodle_xml(XML.encode())
    assert not report.rejected
    level1, dry = report.questions
    assert (level1.where, level1.topic, level1.name, level1.text_format) == (
        "question 1 (“Level 1”)",
        "Exceedance response",
        "Level 1",
        "html",
    )
    # HTML stays HTML: &lt; is shown by the browser as "<", once; never as the text "&lt;".
    assert level1.text == "<p>Who prepares the <b>Level 1</b> ERA report when 5 &lt; 6 &amp; so on?</p>"
    assert level1.choices == ["A QISP & nobody else", "The laboratory", "A <b> neighbor"]
    assert level1.feedback == ["Yes", "", ""] and level1.general_feedback == "See the permit"
    assert (dry.choices, dry.correct, dry.text_format) == (["True", "False"], 1, "plain")
    assert dry.feedback == ["No: an exceedance does.", "Right."]


XML_MIXED = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Mixed</text></category></question>
  <question type="multichoice"><name><text>Multi</text></name><questiontext><text>Pick two</text></questiontext>
    <single>false</single><answer fraction="50"><text>a</text></answer><answer fraction="50"><text>b</text></answer></question>
  <question type="multichoice"><name><text>Partial</text></name><questiontext><text>Pick</text></questiontext>
    <answer fraction="100"><text>a</text></answer><answer fraction="-25"><text>b</text></answer></question>
  <question type="shortanswer"><name><text>SA</text></name><questiontext><text>Name it</text></questiontext></question>
  <question type="essay"><name><text>Essay</text></name><questiontext><text>Discuss</text></questiontext></question>
  <question type="matching"><name><text>Match</text></name><questiontext><text>Match</text></questiontext></question>
  <question type="description"><name><text>Intro</text></name><questiontext><text>Read this</text></questiontext></question>
  <question type="numerical"><name><text>Num</text></name><questiontext><text>How many</text></questiontext></question>
  <question type="ordering"><name><text>Order</text></name><questiontext><text>Order</text></questiontext></question>
  <question type="multichoice"><name><text>Image</text></name><questiontext format="html"><text>&lt;img src="@@PLUGINFILE@@/a.png"&gt; What?</text></questiontext>
    <answer fraction="100"><text>a</text></answer><answer fraction="0"><text>b</text></answer></question>
  <question type="multichoice"><name><text>None right</text></name><questiontext><text>Pick</text></questiontext>
    <answer fraction="0"><text>a</text></answer><answer fraction="0"><text>b</text></answer></question>
  <question type="truefalse"><name><text>Bad TF</text></name><questiontext><text>Yes?</text></questiontext></question>
  <question type="multichoice"><name><text>Fine</text></name><questiontext><text>Pick</text></questiontext>
    <answer fraction="100"><text>a</text></answer><answer fraction="0"><text>b</text></answer></question>
  <question type="truefalse"><name><text>水質 — été</text></name><questiontext format="plain_text"><text>Is 水質 “water quality” — en été?</text></questiontext>
    <answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer></question>
</quiz>
"""


def test_moodle_xml_rejections_name_the_question_and_the_reason() -> None:
    report = parse_moodle_xml(XML_MIXED)
    assert [q.where for q in report.questions] == ["question 12 (“Fine”)", "question 13 (“水質 — été”)"]
    assert report.questions[1].text == "Is 水質 “water quality” — en été?"
    # The same file with a BOM and CRLF line ends reads the same.
    again = parse_file("moodle.xml", b"\xef\xbb\xbf" + XML_MIXED.replace("\n", "\r\n").encode())
    assert again.questions == report.questions and again.rejected == report.rejected
    assert report.rejected == [
        (
            "question 1 (“Multi”)",
            "it lets candidates pick several answers (<single>false</single>); exactly one correct answer is needed",
        ),
        (
            "question 2 (“Partial”)",
            "answer 2 (“b”) gives partial credit (-25%); use 100 for the one correct answer and 0 for the others",
        ),
        (
            "question 3 (“SA”)",
            "it is a short-answer question, which is not supported: candidates choose from options here",
        ),
        ("question 4 (“Essay”)", "it is an essay question, which is not supported"),
        ("question 5 (“Match”)", "it is a matching question, which is not supported"),
        ("question 6 (“Intro”)", "it is a description (text without a question); there is nothing to import"),
        ("question 7 (“Num”)", "it is a numeric question, which is not supported"),
        ("question 8 (“Order”)", "its type “ordering” is not supported; only multichoice and truefalse are"),
        (
            "question 9 (“Image”)",
            "its text uses a file embedded in the export (an image?), which is not imported",
        ),
        ("question 10 (“None right”)", "no answer is marked correct; exactly one must be"),
        (
            "question 11 (“Bad TF”)",
            "a true/false question needs the answers “true” and “false”, one with fraction 100",
        ),
    ]


def test_hostile_broken_or_foreign_files_are_refused() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><quiz>&b;</quiz>'
    assert parse_moodle_xml(bomb).rejected == [
        ("file", "the file declares entities (a DTD), which are refused for safety")
    ]
    assert "not valid Moodle XML" in parse_moodle_xml("<quiz>").rejected[0][1]
    assert parse_moodle_xml("<html/>").rejected == [("file", "the root element is <html>, expected <quiz>")]
    latin1 = "Qualité? {=oui ~non}".encode("latin-1")
    assert parse_file("bank.gift", latin1).rejected == [
        ("file", "the file is not UTF-8 text (byte 0xE9 at position 6); save it as UTF-8 and upload it again")
    ]
    assert "not UTF-8" in parse_file("bank.xml", b"<quiz>\xe9</quiz>").rejected[0][1]
    # An XML file that says it is Latin-1 is read as such.
    declared = '<?xml version="1.0" encoding="ISO-8859-1"?><quiz><question type="truefalse"><questiontext><text>Qualité?</text></questiontext><answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer></question></quiz>'
    assert parse_file("bank.xml", declared.encode("latin-1")).questions[0].text == "Qualité?"
    assert parse_file("bank.pdf", b"%PDF").rejected == [
        (
            "file",
            "choose a .gift or .txt (GIFT or Aiken) or .xml (Moodle XML) file, or say which format it is in",
        )
    ]
    assert parse_file("bank.pdf", b"Q? {T}", "gift").questions  # staff said which format
    assert parse_file("empty.gift", b"// nothing\n").rejected == [("file", "the file has no questions")]
    assert (
        parse_file("big.gift", b"x" * (5 * 1024 * 1024 + 1)).rejected[0][1].startswith("the file is larger")
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bank.xml", b"anything", "moodle_xml"),
        ("export.txt", b'\xef\xbb\xbf<?xml version="1.0"?><quiz/>', "moodle_xml"),
        ("bank.gift", b"Q? {=a ~b}", "gift"),
        ("bank.txt", b"Q? {=a ~b}", "gift"),
        ("bank.txt", AIKEN.encode(), "aiken"),
        ("bank.txt", b"Which ANSWER: is right? {=a ~b}\nANSWER: x", "gift"),
        ("bank.doc", b"Q? {=a ~b}", ""),
    ],
)
def test_format_detection(name: str, content: bytes, expected: str) -> None:
    assert detect_format(name, content) == expected
