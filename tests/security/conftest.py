from tests.exams.conftest import midterm

__all__ = ["midterm"]
