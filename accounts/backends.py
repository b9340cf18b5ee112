from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UserWithClinicBackend(ModelBackend):
    """Django's password sign-in, loading the signed-in user with their clinic in the one
    query every page already makes: a patient's pages need the clinic for today's date."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("clinic").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
