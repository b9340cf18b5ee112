import datetime

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Clinic, Membership, User
from education import progress as patient_progress
from portal.models import FollowUpVisit

PASSWORD = "a-long-test-passphrase"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    time_zone = "Europe/London"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class PatientFactory(UserFactory):
    """A patient; invited=True for one who has not set a password yet."""

    role = User.Role.PATIENT
    clinic = factory.SubFactory(ClinicFactory)

    class Params:
        invited = factory.Trait(password=factory.LazyFunction(lambda: make_password(None)))

    @factory.post_generation
    def on_dashboard(self, create, extracted, **kwargs):
        # As invite_patient does: a new patient has a progress row from the start.
        if create:
            patient_progress.refresh([self.pk])


class ClinicianFactory(UserFactory):
    """A clinician; pass clinics=[...] to make them a member of those clinics."""

    role = User.Role.CLINICIAN
    clinic = None

    @factory.post_generation
    def clinics(self, create, clinics, **kwargs):
        for clinic in clinics or []:
            Membership.objects.create(user=self, clinic=clinic, role=kwargs.get("role", "clinician"))


class VisitFactory(factory.django.DjangoModelFactory):
    """A follow-up visit `in_days` days from now (2 by default), scheduled by its own
    clinician; pass assignments=[...] to link the modules to talk about."""

    class Meta:
        model = FollowUpVisit
        skip_postgeneration_save = True

    class Params:
        in_days = 2

    patient = factory.SubFactory(PatientFactory)
    clinician = factory.SubFactory(ClinicianFactory)
    created_by = factory.SelfAttribute("clinician")
    scheduled_at = factory.LazyAttribute(
        lambda visit: timezone.now() + datetime.timedelta(days=visit.in_days)
    )

    @factory.post_generation
    def assignments(self, create, assignments, **kwargs):
        if assignments:
            self.assignments.set(assignments)
