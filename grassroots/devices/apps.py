from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "grassroots.devices"
    label = "devices"
    verbose_name = "Thiết bị"
