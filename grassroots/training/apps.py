from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "grassroots.training"
    label = "training"
    verbose_name = "Đào tạo, bồi dưỡng"
