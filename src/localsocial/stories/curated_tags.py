"""The curated tags every new site starts with (a data migration loads them; moderators add
more from authors' suggestions).  Each is (slug, name, polarity).  Names are short, plain and
about the experience, not the organisation, so they work for councils and the NHS alike."""

from __future__ import annotations

from localsocial.stories.models import Tag

GOOD = "good"
IMPROVE = "improve"

CURATED_TAGS: tuple[tuple[str, str, str], ...] = (
    ("kind-staff", "Kind staff", GOOD),
    ("listened-to-me", "Listened to me", GOOD),
    ("clear-information", "Clear information", GOOD),
    ("quick-service", "Quick service", GOOD),
    ("treated-with-dignity", "Treated with dignity", GOOD),
    ("felt-safe", "Felt safe", GOOD),
    ("clean-and-tidy", "Clean and tidy", GOOD),
    ("well-organised", "Well organised", GOOD),
    ("helpful-on-the-phone", "Helpful on the phone", GOOD),
    ("problem-put-right", "Problem put right", GOOD),
    ("easy-to-get-to", "Easy to get to", GOOD),
    ("good-food", "Good food", GOOD),
    ("kept-me-informed", "Kept me informed", GOOD),
    ("involved-my-family", "Involved my family", GOOD),
    ("waiting-time", "Waiting time", IMPROVE),
    ("communication", "Communication", IMPROVE),
    ("getting-an-appointment", "Getting an appointment", IMPROVE),
    ("staff-attitude", "Staff attitude", IMPROVE),
    ("cleanliness", "Cleanliness", IMPROVE),
    ("information-given", "Information given", IMPROVE),
    ("phone-not-answered", "Phone not answered", IMPROVE),
    ("repairs-not-done", "Repairs not done", IMPROVE),
    ("missed-collection", "Missed collection", IMPROVE),
    ("discharge", "Leaving hospital", IMPROVE),
    ("pain-relief", "Pain relief", IMPROVE),
    ("privacy-and-dignity", "Privacy and dignity", IMPROVE),
    ("access-for-disabled-people", "Access for disabled people", IMPROVE),
    ("noise-at-night", "Noise at night", IMPROVE),
    ("parking", "Parking", IMPROVE),
    ("food-and-drink", "Food and drink", IMPROVE),
)


def curated_tags_load() -> int:
    """Create the curated tags that are missing (by id); return how many were created."""
    existing = set(Tag.objects.values_list("slug", flat=True))
    missing = [Tag(slug=slug, name=name, polarity=polarity) for slug, name, polarity in CURATED_TAGS if slug not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)
