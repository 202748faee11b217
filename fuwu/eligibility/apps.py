from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "fuwu.eligibility"
    label = "eligibility"
    verbose_name = "Eligibility"

    def ready(self) -> None:
        from fuwu.eligibility import checks  # noqa: F401 - registers the in-place screening check
