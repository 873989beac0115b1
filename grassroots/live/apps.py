from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "grassroots.live"
    label = "live"
    verbose_name = "Phát trực tiếp"
