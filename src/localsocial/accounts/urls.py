from django.urls import path

from localsocial.accounts import views

app_name = "accounts"

urlpatterns = [
    # Signing up, confirming the address, signing in and out
    path("sign-up/", views.sign_up, name="sign_up"),
    path("sign-up/check-your-email/", views.check_email, name="check_email"),
    path("confirm-email/<str:token>/", views.verify_email, name="verify_email"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/confirm-your-email/", views.email_unconfirmed, name="email_unconfirmed"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/check-your-email/", views.password_reset_sent, name="password_reset_sent"),
    path("password-reset/<str:uidb64>/<str:token>/", views.password_reset_confirm, name="password_reset_confirm"),
    # The person's own account
    path("profile/", views.profile, name="profile"),
    path("profile/details/", views.profile_details, name="profile_details"),
    path("profile/email/", views.email_change, name="email_change"),
    path("profile/password/", views.password_change, name="password_change"),
    path("profile/your-data/", views.data_export, name="data_export"),
    path("profile/your-data/download/", views.data_export_download, name="data_export_download"),
    path("profile/delete/", views.account_delete, name="account_delete"),
    path("deleted/", views.account_deleted, name="account_deleted"),
    # Two-step verification
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/backup-codes/", views.backup_codes, name="two_factor_backup_codes"),
    path("two-factor/backup-codes/new/", views.backup_codes_new, name="two_factor_backup_codes_new"),
    # Site administrators: people and their site roles
    path("people/", views.people, name="people"),
    path("people/<int:user_id>/", views.person, name="person"),
    path("people/<int:user_id>/roles/grant/", views.person_role_grant, name="person_role_grant"),
    path("people/<int:user_id>/roles/revoke/", views.person_role_revoke, name="person_role_revoke"),
    path("people/<int:user_id>/two-factor/reset/", views.person_two_factor_reset, name="person_two_factor_reset"),
]
