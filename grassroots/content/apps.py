from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "grassroots.content"
    label = "content"
    verbose_name = "Bản tin"
