"""Matching by distance once postcode data is loaded: help requests and helpers are placed on
the map from their postcodes, and a helper 2 km away ranks above one 15 km away even when the
far one lives in the same postcode district."""

from __future__ import annotations

import pytest

from localsocial.circles.models import HelpCategory, Helper, HelpPlace
from localsocial.circles.selectors.help import helpers_rank_for_request
from localsocial.circles.services.help import help_request_create
from localsocial.circles.services.helpers import helper_profile_set, member_become_helper
from localsocial.directory.postcodes import postcodes_load
from tests.circles.factories import CircleFactory, MemberFactory
from tests.circles.test_help_support import coordinator_of, in_days, skilled

pytestmark = pytest.mark.django_db

# Made-up places on one line of longitude: 0.018° of latitude is 2 km, 0.135° is 15 km.
POSTCODES = [
    "postcode,latitude,longitude",
    "SE1 7PB,51.5,-0.09",  # the member asking for help
    "SE5 8QY,51.518,-0.09",  # 2 km away, another district
    "SE1 9SG,51.635,-0.09",  # 15 km away, the member's own district
]


def ask(member):
    return help_request_create(
        member=member, actor=member.user, category=HelpCategory.GARDEN, description="Cut back the hedge",
        starts_at=in_days(3), estimated_quarters=4, place=HelpPlace.HOME, idempotency_key="hedge",
    )


def helper_at(circle, coordinator, postcode: str, name: str) -> Helper:
    member = MemberFactory(circle=circle, display_name=name, postcode=postcode)
    return skilled(member_become_helper(member=member, actor=coordinator, travel_radius_km=20), HelpCategory.GARDEN)


def test_a_helper_2_km_away_ranks_above_one_15_km_away_once_postcodes_are_loaded():
    # Given postcode data, a member in SE1 7PB and two helpers who travel up to 20 km
    postcodes_load(lines=POSTCODES)
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    near = helper_at(circle, coordinator, "SE5 8QY", "Near")
    far = helper_at(circle, coordinator, "se19sg", "Far")

    # When the member asks for help at home
    help_request = ask(MemberFactory(circle=circle, postcode="SE1 7PB"))
    ranked = helpers_rank_for_request(help_request=help_request)

    # Then the request and helpers are on the map, and the nearer helper comes first
    assert (help_request.latitude, help_request.longitude) == (51.5, -0.09)
    assert (near.latitude, far.latitude) == (51.518, 51.635)
    assert [c.helper for c in ranked] == [near, far]
    assert "2.0 km away, within the 20.0 km they travel" in ranked[0].reason
    assert "15.0 km away, within the 20.0 km they travel" in ranked[1].reason


def test_without_postcode_data_matching_falls_back_to_the_district():
    # Given no postcode data at all
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    near = helper_at(circle, coordinator, "SE5 8QY", "Near")
    far = helper_at(circle, coordinator, "SE1 9SG", "Far")

    # When the member asks for help
    help_request = ask(MemberFactory(circle=circle, postcode="SE1 7PB"))
    ranked = helpers_rank_for_request(help_request=help_request)

    # Then nobody has coordinates and the helper in the member's district comes first
    assert help_request.latitude is None
    assert near.latitude is None
    assert [c.helper for c in ranked] == [far, near]
    assert "same postcode district (SE1)" in ranked[0].reason


def test_a_helper_saving_their_profile_is_placed_from_postcode_data_loaded_since():
    # Given a helper who joined before the postcode data was loaded
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    helper = helper_at(circle, coordinator, "SE5 8QY", "Near")
    postcodes_load(lines=POSTCODES)

    # When they save their profile
    helper_profile_set(helper=helper, categories=[HelpCategory.GARDEN], slots=[], actor=helper.user)

    # Then they are on the map
    helper.refresh_from_db()
    assert (helper.latitude, helper.longitude) == (51.518, -0.09)


def test_a_member_who_helps_and_moves_is_matched_from_their_new_home():
    # Given postcode data, and a member who helps, living 15 km from the member asking
    from localsocial.circles.services.membership import MemberDetails, member_details_update

    postcodes_load(lines=POSTCODES)
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    helper = helper_at(circle, coordinator, "SE1 9SG", "Mover")
    member = helper.member

    # When they move 13 km closer and change their details
    member_details_update(member=member, actor=member.user, details=MemberDetails(
        display_name=member.display_name, phone="020 7946 0999", postcode="SE5 8QY", contact_preference="phone",
    ))

    # Then their helper record moved with them: new postcode, new place on the map
    helper.refresh_from_db()
    assert helper.postcode == "SE5 8QY"
    assert (helper.latitude, helper.longitude) == (51.518, -0.09)
