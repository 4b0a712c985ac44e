from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "stormcert.courses"
    label = "courses"
    verbose_name = "Course sessions (taught by Trainers of Record)"
