"""The developer pages, under /developers/."""

from django.urls import path

from localsocial.api import views

app_name = "developers"

_WEBHOOKS = "organisations/<slug:slug>/webhooks/"

urlpatterns = [
    path("", views.index, name="index"),
    path("problems/", views.problem_list, name="problems"),
    path("problems/<slug:slug>/", views.problem_detail, name="problem"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:token_id>/created/", views.token_created, name="token_created"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path(_WEBHOOKS, views.webhook_list, name="webhooks"),
    path(_WEBHOOKS + "new/", views.webhook_create, name="webhook_create"),
    path(_WEBHOOKS + "<int:endpoint_id>/", views.webhook_detail, name="webhook"),
    path(_WEBHOOKS + "<int:endpoint_id>/secret/", views.webhook_secret, name="webhook_secret"),
    path(_WEBHOOKS + "<int:endpoint_id>/rotate/", views.webhook_rotate, name="webhook_rotate"),
    path(_WEBHOOKS + "<int:endpoint_id>/active/", views.webhook_toggle, name="webhook_toggle"),
    path(_WEBHOOKS + "<int:endpoint_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path(_WEBHOOKS + "<int:endpoint_id>/deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path(
        _WEBHOOKS + "<int:endpoint_id>/deliveries/<int:delivery_id>/send-again/",
        views.delivery_resend,
        name="delivery_resend",
    ),
]
