from django.urls import path

from localsocial.directory import views

app_name = "directory"

urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("import/", views.directory_import_page, name="import"),
    path("export.csv", views.directory_export_download, name="export"),
    path("open-data/directory.csv", views.directory_open_data_csv, name="open_data_csv"),
    path("organisations/<slug:slug>/", views.organisation, name="organisation"),
    path("organisations/<slug:slug>/staff/", views.staff_list, name="staff"),
    path("organisations/<slug:slug>/staff/add/", views.staff_add, name="staff_add"),
    path("organisations/<slug:slug>/staff/<int:membership_id>/", views.staff_change, name="staff_change"),
    path(
        "organisations/<slug:slug>/staff/<int:membership_id>/remove/",
        views.staff_remove,
        name="staff_remove",
    ),
    path("services/<slug:slug>/", views.service, name="service"),
]
