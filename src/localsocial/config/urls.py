"""URL map: one include per app; the admin sits behind a site-administrator check."""

import os

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from localsocial.core.admin_site import restrict_admin_to_site_administrators

restrict_admin_to_site_administrators(admin.site)

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("localsocial.core.urls")),
    path("accounts/", include("localsocial.accounts.urls")),
    path("directory/", include("localsocial.directory.urls")),
    path("stories/", include("localsocial.stories.urls")),
    path("circles/", include("localsocial.circles.urls")),
    path("green/", include("localsocial.green.urls")),
    path("communities/", include("localsocial.communities.urls")),
    path("insight/", include("localsocial.insight.urls")),
    path("engage/", include("localsocial.engage.urls")),
    path("api/", include("localsocial.api.urls")),
    path("developers/", include("localsocial.api.urls_pages")),
    path("site-admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("i18n/", include("django.conf.urls.i18n"))]

if os.environ.get("LOCALSOCIAL_BENCH") == "1":
    # The benchmark's baseline view (bench/run.sh); absent from every normal deployment.
    urlpatterns += [path("", include("localsocial.core.bench_urls"))]

handler404 = "localsocial.core.views.error_404"
handler403 = "localsocial.core.views.error_403"
handler500 = "localsocial.core.views.error_500"
