"""What this app plugs into: payment fulfilments for the SOQ fee and the yearly fee, and the
courses app's question "may this person teach" (answered by trainers.standing)."""

from stormcert.courses.hooks import register_standing
from stormcert.payments.fulfilment import register
from stormcert.trainers import applications, standing, yearly

register(applications.SOQ)(applications.fulfil_soq)
register(yearly.TERM_FEE)(yearly.fulfil_term_fee)
register_standing(standing.teaching_problems, standing.able_to_teach)
