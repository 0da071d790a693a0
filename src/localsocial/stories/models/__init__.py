"""Stories: what people tell about a service, how it is moderated, answered and changed.

The models are split by part of the module; import them from here::

    from localsocial.stories.models import Story, Response, Tag
"""

from localsocial.stories.models.alerts import AlertDelivery, AlertFrequency, AlertSubscription
from localsocial.stories.models.listing import ListingScope, StoryListing
from localsocial.stories.models.moderation import (
    ProviderDecision,
    ProviderNotice,
    RejectionTemplate,
    StoryRevision,
)
from localsocial.stories.models.reading import MeToo, StoryFollower, StoryRead
from localsocial.stories.models.responses import (
    ChangeKind,
    HelpfulRating,
    Response,
    ResponseStatus,
    ResponseTemplate,
    SignatureStyle,
    StoryOrganisationSettings,
)
from localsocial.stories.models.story import (
    AgeGroup,
    AuthorRole,
    Criticality,
    Progress,
    Story,
    StoryService,
    StoryStatus,
    SubmissionRoute,
    Tag,
    TagPolarity,
    TagSuggestion,
)
from localsocial.stories.models.totals import StoryDayTagTotal, StoryDayTotal

__all__ = [
    "AgeGroup",
    "AlertDelivery",
    "AlertFrequency",
    "AlertSubscription",
    "AuthorRole",
    "ChangeKind",
    "Criticality",
    "HelpfulRating",
    "ListingScope",
    "MeToo",
    "Progress",
    "ProviderDecision",
    "ProviderNotice",
    "RejectionTemplate",
    "Response",
    "ResponseStatus",
    "ResponseTemplate",
    "SignatureStyle",
    "Story",
    "StoryDayTagTotal",
    "StoryDayTotal",
    "StoryFollower",
    "StoryListing",
    "StoryOrganisationSettings",
    "StoryRead",
    "StoryRevision",
    "StoryService",
    "StoryStatus",
    "SubmissionRoute",
    "Tag",
    "TagPolarity",
    "TagSuggestion",
]
