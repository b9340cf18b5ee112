"""Demo data for development and evaluation. Never runs in production."""

import random
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import CONTENT_EDITORS_GROUP, Clinic, Membership, User
from education import services as education_services
from education.models import Assignment, Module

DEMO_CLINIC_NAME = "Riverside Demo Clinic"
DEMO_PASSWORD = "portal-demo"  # noqa: S105 - the documented demo sign-in, refused in production
SYNTHETIC_EMAIL_PREFIX = "demo-patient-"
SYNTHETIC_BATCH_SIZE = 2000

FIRST_NAMES = [
    "Alex",
    "Blessing",
    "Carmen",
    "Dmitri",
    "Elena",
    "Farah",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Samir",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Adeyemi",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Gupta",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "O'Connor",
    "Patel",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Walsh",
    "Yilmaz",
    "Zhou",
]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    description: str


CLINICIAN = DemoAccount("clinician@example.org", "Dr Alex Morgan", "clinician")
PATIENT = DemoAccount("patient@example.org", "Jordan Lee", "patient")
CLINIC_ADMIN = DemoAccount("admin@example.org", "Robin Hayes", "clinic admin")
CONTENT_EDITOR = DemoAccount("editor@example.org", "Dr Casey Reid", "content editor")
DEMO_ACCOUNTS = [CLINICIAN, PATIENT, CLINIC_ADMIN, CONTENT_EDITOR]


@transaction.atomic
def seed_demo_accounts() -> Clinic:
    """Create or refresh the demo clinic and its four sign-ins; safe to run again."""
    clinic, _ = Clinic.objects.get_or_create(name=DEMO_CLINIC_NAME)
    password = make_password(DEMO_PASSWORD)
    for account, role in [
        (CLINICIAN, Membership.Role.CLINICIAN),
        (CLINIC_ADMIN, Membership.Role.ADMIN),
        (CONTENT_EDITOR, Membership.Role.CLINICIAN),
    ]:
        staff = _upsert_user(account, password, role=User.Role.CLINICIAN, clinic=None)
        Membership.objects.update_or_create(user=staff, clinic=clinic, defaults={"role": role})
    editor = User.objects.get(email=CONTENT_EDITOR.email)
    editor.is_staff = True
    editor.save(update_fields=["is_staff"])
    editor.groups.add(Group.objects.get(name=CONTENT_EDITORS_GROUP))
    patient = _upsert_user(PATIENT, password, role=User.Role.PATIENT, clinic=clinic, record_number="DEMO-0")
    education_services.load_library()
    _assign_every_module(patient, assigned_by=User.objects.get(email=CLINICIAN.email))
    return clinic


def _assign_every_module(patient: User, assigned_by: User) -> None:
    """Give the demo patient each module once, due over the next few weeks."""
    already = set(Assignment.objects.filter(patient=patient).not_cancelled().values_list("module", flat=True))
    today = patient.clinic.today()
    for weeks, module in enumerate(Module.objects.exclude(pk__in=already).order_by("slug"), 1):
        education_services.assign_modules(
            patients=[patient],
            modules=[module],
            assigned_by=assigned_by,
            due_date=today + timedelta(weeks=weeks),
        )


def _upsert_user(account: DemoAccount, password_hash: str, **fields) -> User:
    user, _ = User.objects.update_or_create(
        email=account.email,
        defaults={"full_name": account.full_name, "password": password_hash, "is_active": True, **fields},
    )
    return user


def add_synthetic_patients(clinic: Clinic, count: int) -> int:
    """Bulk-insert `count` more synthetic patients; returns the first new number.
    They share one password hash: hashing 10,000 passwords would take minutes."""
    first = User.objects.filter(clinic=clinic, email__startswith=SYNTHETIC_EMAIL_PREFIX).count() + 1
    password = make_password(DEMO_PASSWORD)
    numbers = range(first, first + count)
    for start in range(0, count, SYNTHETIC_BATCH_SIZE):
        batch = [
            _synthetic_patient(clinic, number, password)
            for number in numbers[start : start + SYNTHETIC_BATCH_SIZE]
        ]
        User.objects.bulk_create(batch)
    return first


def _synthetic_patient(clinic: Clinic, number: int, password_hash: str) -> User:
    # Not for secrets: the same number always gives the same synthetic person.
    pick = random.Random(number)  # noqa: S311
    return User(
        role=User.Role.PATIENT,
        clinic=clinic,
        email=f"{SYNTHETIC_EMAIL_PREFIX}{number}@example.org",
        full_name=f"{pick.choice(FIRST_NAMES)} {pick.choice(LAST_NAMES)}",
        record_number=f"DEMO-{number}",
        password=password_hash,
    )
