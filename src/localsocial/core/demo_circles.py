"""Demo circles: two circles with coordinators, bundles, partners and a few members (one who
joined online, two joined by phone with a coordinator), a paid fee, tokens bought by card and
with a cheque, and a gift from a member's daughter.

Loaded by ``localsocial demo`` after the directory and the demo people.  Everything goes
through the circles services, exactly as coordinators and members using the site would make
it.  Idempotent: nothing is added when the first demo circle exists already.
"""

from __future__ import annotations

from django.db import transaction

from localsocial.accounts.models import User
from localsocial.circles.models import Circle, CircleCoordinator, PaymentMethod, PaymentPurpose
from localsocial.directory.models import Area, Organisation

SOUTHWARK = "southwark-circle"
SUFFOLK = "suffolk-circle"


@transaction.atomic
def demo_circles_load(*, coordinator_email: str, member_email: str) -> dict[str, int]:
    """Add the demo circles if they are not there yet; return counts of what was made.
    ``coordinator_email`` coordinates both circles; ``member_email`` joins one online."""
    from localsocial.circles.services.circles import (
        bundle_save,
        circle_settings_update,
        partner_add,
    )
    from localsocial.circles.services.membership import (
        MemberDetails,
        member_join,
        member_join_assisted,
    )
    from localsocial.circles.services.payments import (
        payment_card_confirm,
        payment_card_start,
        payment_record,
    )

    counts = {"circles": 0, "circle members": 0, "circle payments": 0}
    if Circle.objects.filter(slug=SOUTHWARK).exists():
        return counts
    coordinator = User.objects.filter(email=coordinator_email).first()
    member_user = User.objects.filter(email=member_email).first()
    if coordinator is None or member_user is None:
        return counts
    area = Area.objects.order_by("gss_code").first()
    southwark = Circle.objects.create(
        name="Southwark Circle", slug=SOUTHWARK, area=area, annual_fee_pence=2000, minimum_age=50,
        description=(
            "Practical help at home and good company for people aged 50 or over: small jobs, lifts, "
            "shopping, help with forms and computers, and social events.\n\n"
            "Members pay a small yearly fee and buy time tokens for the help they get. One token is one hour."
        ),
    )
    suffolk = Circle.objects.create(
        name="Suffolk Circle", slug=SUFFOLK, area=area, annual_fee_pence=1500, minimum_age=50,
        description="Neighbours helping neighbours across the villages, with a monthly lunch club.",
    )
    counts["circles"] = 2
    for circle in (southwark, suffolk):
        CircleCoordinator.objects.get_or_create(circle=circle, user=coordinator)
        circle_settings_update(circle=circle, actor=coordinator, welcome_quarters=4, minimum_balance_quarters=-4)
        bundle_save(circle=circle, actor=coordinator, name="1 token", quarters=4, price_pence=1000)
        bundle_save(circle=circle, actor=coordinator, name="3 tokens", quarters=12, price_pence=3000)
        bundle_save(circle=circle, actor=coordinator, name="6 tokens", quarters=24, price_pence=5500)
    for organisation in Organisation.objects.order_by("depth", "name")[:2]:
        partner_add(circle=southwark, actor=coordinator, organisation=organisation)
    southwark.refresh_from_db()
    suffolk.refresh_from_db()
    three = southwark.bundles.get(name="3 tokens")

    online, _created = member_join(
        circle=southwark, user=member_user, eligibility_confirmed=True, terms_agreed=True,
        details=MemberDetails(display_name=member_user.display_name or "Alex Morgan", phone="020 7946 0101",
                              postal_address="12 River Walk\nLondon", postcode="SE1 7EH", contact_preference="email",
                              emergency_contact_name="Jo Morgan", emergency_contact_phone="020 7946 0102"),
    )
    doreen = member_join_assisted(
        circle=southwark, actor=coordinator, email="", eligibility_confirmed=True, consent=True,
        details=MemberDetails(display_name="Doreen Clarke", phone="020 7946 0201", postal_address="4 Elm Court\nLondon",
                              postcode="SE5 8QY", contact_preference="phone",
                              accessibility_needs="Hard of hearing: please speak clearly and face her.",
                              emergency_contact_name="Sarah Clarke", emergency_contact_phone="07700 900201"),
    )
    patrick = member_join_assisted(
        circle=suffolk, actor=coordinator, email="", eligibility_confirmed=True, consent=True,
        details=MemberDetails(display_name="Patrick O'Neill", phone="01473 960301",
                              postal_address="Rose Cottage\nChurch Lane\nWoodbridge", postcode="IP12 1AA",
                              contact_preference="post"),
    )
    counts["circle members"] = 3
    # Alex pays the fee and buys 3 tokens by card (the test provider, no money moves).
    for purpose, bundle, key in ((PaymentPurpose.FEE, None, "demo-fee"), (PaymentPurpose.TOKENS, three, "demo-tokens")):
        payment = payment_card_start(member=online, purpose=purpose, bundle=bundle, idempotency_key=key, actor=member_user)
        payment_card_confirm(reference=payment.provider_reference, outcome={"result": "pay"}, actor=member_user)
    # Doreen pays her fee in cash and buys tokens with a cheque; her daughter gives her 3 tokens.
    payment_record(circle=southwark, member=doreen, actor=coordinator, purpose=PaymentPurpose.FEE,
                   method=PaymentMethod.CASH, amount_pence=2000, idempotency_key="demo-doreen-fee")
    payment_record(circle=southwark, member=doreen, actor=coordinator, purpose=PaymentPurpose.TOKENS,
                   method=PaymentMethod.CHEQUE, amount_pence=3000, bundle=three, reference="Cheque 000123",
                   idempotency_key="demo-doreen-tokens")
    payment_record(circle=southwark, member=doreen, actor=coordinator, purpose=PaymentPurpose.GIFT,
                   method=PaymentMethod.BANK_TRANSFER, amount_pence=3000, bundle=three, payer_name="Sarah Clarke",
                   reference="CLARKE GIFT", idempotency_key="demo-doreen-gift")
    payment_record(circle=suffolk, member=patrick, actor=coordinator, purpose=PaymentPurpose.FEE,
                   method=PaymentMethod.CHEQUE, amount_pence=1500, reference="Cheque 000456",
                   idempotency_key="demo-patrick-fee")
    counts["circle payments"] = 6
    return counts
