"""What this app plugs into: payment fulfilments for the SOQ fee and the yearly fee."""

from stormcert.payments.fulfilment import register
from stormcert.trainers import applications, yearly

register(applications.SOQ)(applications.fulfil_soq)
register(yearly.TERM_FEE)(yearly.fulfil_term_fee)
