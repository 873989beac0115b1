from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "grassroots.exchange"
    label = "exchange"
    verbose_name = "Liên thông hệ thống trung ương"
