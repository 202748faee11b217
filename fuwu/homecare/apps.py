from django.apps import AppConfig


class HomeCareConfig(AppConfig):
    name = "fuwu.homecare"
    label = "homecare"
    verbose_name = "Home care"

    def ready(self) -> None:
        from fuwu.homecare.permissions import VISIT_DAY_GRANT, caregiver_on_visit_day
        from fuwu.residents.permissions import register_contact_grant

        # The elder's phone and emergency contact, for the caregivers of a visit on its day (the visit page).
        register_contact_grant(VISIT_DAY_GRANT, caregiver_on_visit_day)
