"""A second qualification program for tests that run two side by side."""

# A second, small qualification program, complete per the rule keys its shape requires.
SECOND = """
[[program]]
code = "CGX"
name = "Certified Gully Examiner"
short_name = "CGX"
kind = "qualification"
time_zone = "America/Los_Angeles"
summary = "A second, smaller qualification program that runs beside the first."
figures_source = "Figures from the minutes of the test board."

[[program.step]]
code = "account"
title = "Create an account"
kind = "account"

[[program.step]]
code = "read_rules"
title = "Read the gully rules"
kind = "acknowledge"

[[program.step]]
code = "registration"
title = "Register for the gully course"
kind = "payment"

[[program.step]]
code = "final"
title = "Gully exam"
kind = "exam"

[[program.policy]]
name = "Gully board 2024"
effective_from = 2024-01-01

[program.policy.values]
"enrollment.window_years" = 1
"final.question_count" = 10
"final.pass_percent" = 80
"final.duration_minutes" = 30
"final.attempts" = 3
"certificate.validity_years" = 3
"certificate.number_format" = "CGX-{year}-{seq:04d}"
"exam.review" = "score_only"
"consequence.final_failed_out" = { fee = "re_registration", redo = ["final"], extends_window = false }
"consequence.window_expired" = { fee = "re_registration", redo = ["*"], extends_window = false }
"renewal.opens_days_before_expiry" = 60
"renewal.reminder_days" = [60, 0]
"renewal.requalify_after_days" = 0
"renewal.extends_from_expiry_if_on_time" = true
"renewal.reminder_catch_up_days" = 7

[[program.fee]]
code = "registration"
name = "Gully registration"
amount = "99.00"
effective_from = 2024-01-01

[[program.fee]]
code = "re_registration"
name = "Gully re-registration"
amount = "25.00"
effective_from = 2024-01-01
"""
