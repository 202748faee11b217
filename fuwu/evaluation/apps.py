from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "fuwu.evaluation"
    label = "evaluation"
    verbose_name = "Evaluation"
    default_auto_field = "django.db.models.BigAutoField"
