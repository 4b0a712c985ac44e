from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.payments.fulfilment import register
from stormcert.payments.models import Order, OrderLine
from stormcert.payments.services import create_order
from stormcert.programs.models import Program
from tests.payments.stripe_standin import StripeStandIn

WEBHOOK_SECRET = "whsec_test_standin_secret"


@register("tests.thing")
def fulfil_test_thing(line: OrderLine, now: datetime) -> None:
    # Leaves a trace the tests can count: fulfilment must happen exactly once.
    record(actor=None, verb="tests.fulfilled", obj=line.order, now=now)


def make_order(
    user: User, fee_code: str = "registration", program_code: str = "QISP", **kwargs: Any
) -> Order:
    return create_order(
        user=user,
        program=Program.objects.get(code=program_code),
        fee_code=fee_code,
        purpose="tests.thing",
        **kwargs,
    )


@pytest.fixture
def stripe_api(settings: Any) -> Iterator[StripeStandIn]:
    with StripeStandIn() as standin:
        settings.STRIPE_SECRET_KEY = "sk_test_standin"
        settings.STRIPE_API_BASE = standin.url
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        yield standin
