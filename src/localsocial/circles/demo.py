"""Demo circles: two circles with coordinators, bundles, partners and a few members (one who
joined online, two joined by phone with a coordinator), a paid fee, tokens bought by card and
with a cheque, and a gift from a member's daughter.  Then the circle's life: a member who
became a vetted helper, a visit arranged and a request waiting in the matching queue, events
with answers (one given by phone), a referral each way, wellbeing check-ins, and example
savings values (marked as examples, not sourced figures).

A demo step (``core/demo_registry.py``): ``localsocial demo`` runs it after the platform's
directory, demo people and postcodes, and after the stories.  Everything goes
through the circles services, exactly as coordinators and members using the site would make
it.  Idempotent: nothing is added when the first demo circle exists already.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from localsocial.accounts.models import SiteRole, User
from localsocial.circles.models import (
    Circle,
    CircleCoordinator,
    DbsStatus,
    EventKind,
    HelpCategory,
    HelpPlace,
    PaymentMethod,
    PaymentPurpose,
    SavingsBasis,
)
from localsocial.core.demo_registry import DemoContext, demo_step
from localsocial.directory.models import Area, Organisation

SOUTHWARK = "southwark-circle"
SUFFOLK = "suffolk-circle"


@demo_step("circles", order=200)
def circles_demo(ctx: DemoContext) -> dict[str, int]:
    """The demo circles: coordinated by the demo coordinator, joined online by the member of the public."""
    return demo_circles_load(coordinator_email=ctx.with_site_role(SiteRole.CIRCLE_COORDINATOR).email,
                             member_email=ctx.people["public"].email)


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
    counts.update(_demo_circle_life(southwark=southwark, suffolk=suffolk, coordinator=coordinator,
                                    alex=online, doreen=doreen))
    return counts


def _demo_circle_life(*, southwark: Circle, suffolk: Circle, coordinator: User, alex: Any, doreen: Any) -> dict[str, int]:
    """Help, events, referrals, wellbeing and savings values, made through the services."""
    from localsocial.circles.services.events import EventDetails, event_create, rsvp_set
    from localsocial.circles.services.help import help_request_create, match_propose, match_respond
    from localsocial.circles.services.helpers import (
        helper_profile_set,
        helper_vetting_update,
        member_become_helper,
    )
    from localsocial.circles.services.referrals import (
        ReferredPerson,
        referral_in_create,
        referral_out_create,
    )
    from localsocial.circles.services.reports import savings_proxy_set
    from localsocial.circles.services.wellbeing import (
        Answers,
        wellbeing_checkin_record,
        wellbeing_opt_set,
    )

    today = timezone.localdate()
    at = timezone.get_current_timezone()

    def on(days: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(hour, minute), tzinfo=at)

    # Alex helps too: a member helper, vetted (DBS clear, references, induction), free on weekday mornings.
    helper = member_become_helper(member=alex, actor=coordinator, travel_radius_km=5)
    helper = helper_vetting_update(helper=helper, actor=coordinator, dbs_status=DbsStatus.CLEAR,
                                   dbs_checked_on=today - dt.timedelta(days=60), dbs_expires_on=today + dt.timedelta(days=3 * 365),
                                   references_checked=True, training_completed_on=today - dt.timedelta(days=30), is_active=True)
    helper_profile_set(helper=helper, categories=[HelpCategory.GARDEN, HelpCategory.TECH, HelpCategory.SHOPPING],
                       slots=[(day, dt.time(9), dt.time(13)) for day in range(5)], actor=coordinator)
    # Doreen's hedge: offered to Alex, who said yes.  Her new phone: waiting in the queue.
    hedge = help_request_create(
        member=doreen, actor=coordinator, category=HelpCategory.GARDEN, place=HelpPlace.HOME,
        description="Cut back the hedge by the front door; it is over the path.", starts_at=on(3, 10),
        estimated_quarters=8, idempotency_key="demo-doreen-hedge",
    )
    match_respond(match=match_propose(help_request=hedge, helper=helper, actor=coordinator),
                  actor=alex.user, accept=True)
    help_request_create(
        member=doreen, actor=coordinator, category=HelpCategory.TECH, place=HelpPlace.HOME,
        description="Set up my new phone so I can video call my grandchildren.", starts_at=on(5, 14),
        estimated_quarters=4, idempotency_key="demo-doreen-phone",
    )

    tea = event_create(circle=southwark, actor=coordinator, details=EventDetails(
        title="Tea and cake afternoon", kind=EventKind.SOCIAL, starts_at=on(7, 14), ends_at=on(7, 16),
        place_name="Bermondsey Community Hall", place_address="20 Market Street, London", postcode="SE1 3ER",
        accessibility="Step-free entrance, hearing loop, accessible toilet. Bus 47 stops outside.", places=20,
        description="A cup of tea, cake from the bakery on the corner and good company.",
    ))
    event_create(circle=southwark, actor=coordinator, details=EventDetails(
        title="Getting started with video calls", kind=EventKind.LEARNING, starts_at=on(14, 10, 30),
        ends_at=on(14, 12), place_name="Southwark Library, meeting room 2", places=8,
        description="Bring your phone or tablet: we will help you make your first video call.",
        accessibility="Lift to the first floor. Large-print handouts.",
    ))
    event_create(circle=suffolk, actor=coordinator, details=EventDetails(
        title="Monthly lunch club", kind=EventKind.SOCIAL, starts_at=on(10, 12, 30), ends_at=on(10, 14, 30),
        place_name="The Crown, Woodbridge", places=30, cost_pence=800,
        description="Two courses and a chat. Lifts can be arranged: ask your coordinator.",
    ))
    rsvp_set(event=tea, member=alex, status="going", actor=alex.user)
    rsvp_set(event=tea, member=doreen, status="going", places=2, note="Coming with my daughter Sarah.",
             actor=coordinator)

    partners = list(southwark.partners.select_related("organisation").order_by("organisation__name"))
    referrals = 0
    if partners:
        referral_in_create(
            circle=southwark, partner=partners[0].organisation, actor=coordinator, consent=True,
            idempotency_key="demo-referral-in",
            person=ReferredPerson(name="Iris Bennett", phone="020 7946 0301", postcode="SE1 7PB",
                                  reason="Lives alone since her husband died and would like company and help in the garden.",
                                  needs="Uses a walking frame. Best to call in the morning."),
        )
        referral_out_create(member=doreen, partner=partners[-1].organisation, actor=coordinator, consent=True,
                            reason="Would like a benefits check: she may be entitled to Attendance Allowance.",
                            phone=doreen.phone, idempotency_key="demo-referral-out")
        referrals = 2

    # Doreen answers the three loneliness questions on the phone, three months apart.
    wellbeing_opt_set(member=doreen, actor=coordinator, opt_in=True, consent=True)
    wellbeing_checkin_record(member=doreen, actor=coordinator, answers=Answers(3, 2, 3),
                             taken_on=today - dt.timedelta(days=91))
    wellbeing_checkin_record(member=doreen, actor=coordinator, answers=Answers(2, 2, 1), taken_on=today)

    for category, value in ((HelpCategory.GARDEN, 2000), (HelpCategory.COMPANY, 3000)):
        savings_proxy_set(circle=southwark, actor=coordinator, category=category, basis=SavingsBasis.PER_HOUR,
                          value_pence=value, attribution_percent=50,
                          source="Example value for the demo only: replace it with a sourced unit cost.")
    return {"circle helpers": 1, "circle requests": 2, "circle events": 3, "circle referrals": referrals,
            "wellbeing check-ins": 2}
