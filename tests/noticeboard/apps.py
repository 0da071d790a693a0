from django.apps import AppConfig


class NoticeboardConfig(AppConfig):
    name = "tests.noticeboard"
    label = "noticeboard"
    # A module outside the localsocial package says that it is one (api.registry).
    localsocial_module = True
