"""Demo data for `make run` (`manage.py demo_data`), one module per part of the program.

It lives in core, the composition root, because a realistic demo crosses every app: Tom's
sessions need his Trainer of Record term, the directory's holders need certificates, a year of
history runs candidates through training, courses, exams and payments. The apps themselves know
nothing of it. Each loader is idempotent: running `demo_data` again changes nothing.
"""
