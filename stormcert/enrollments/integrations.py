"""What this app plugs into: payment fulfilments and the training app's hooks."""

from stormcert.enrollments import services
from stormcert.payments.fulfilment import register
from stormcert.training.hooks import on_complete, register_access
from stormcert.training.models import CourseKind

register(services.REGISTRATION)(services.fulfil_registration)
register(services.CONSEQUENCE)(services.fulfil_resolution)
register_access(CourseKind.TRAINING, services.training_access)
on_complete(CourseKind.TRAINING, services.training_completed)
