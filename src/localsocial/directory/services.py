"""Every write to the directory."""

from __future__ import annotations

from django.db import transaction

from localsocial.directory.models import PATH_SEGMENT, Organisation


@transaction.atomic
def organisation_set_path(*, organisation: Organisation) -> Organisation:
    """Recompute the materialised path and depth of an organisation from its parent."""
    segment = f"{organisation.pk:0{PATH_SEGMENT}d}."
    if organisation.parent_id is None:
        path, depth = segment, 0
    else:
        parent = Organisation.objects.only("path", "depth").get(pk=organisation.parent_id)
        path, depth = parent.path + segment, parent.depth + 1
    Organisation.objects.filter(pk=organisation.pk).update(path=path, depth=depth)
    organisation.path, organisation.depth = path, depth
    return organisation
