"""What this app plugs into: the renewal payment's fulfilment and the review-module hooks."""

from stormcert.payments.fulfilment import register, register_pricer
from stormcert.renewals import services
from stormcert.training.hooks import on_complete, register_access
from stormcert.training.models import CourseKind

register(services.PURPOSE)(services.fulfil_renewal)
register_pricer(services.PURPOSE)(services.renewal_price)
register_access(CourseKind.REVIEW, services.review_access)
on_complete(CourseKind.REVIEW, services.review_completed)
