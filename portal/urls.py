from django.contrib import admin
from django.urls import include, path

from portal import views

# Clinician pages: the clinic's patients.
clinician_patterns = [
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/new/", views.patient_new, name="patient_new"),
    path("patients/<uuid:code>/", views.patient_detail, name="patient_detail"),
    path(
        "patients/<uuid:code>/resend-invitation/",
        views.patient_resend_invitation,
        name="patient_resend_invitation",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Sign-in, sign-out, password change and reset: Django's own views and names.
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("accounts.urls")),
    # The patient's pages.
    path("", include("education.urls")),
    path("", include((clinician_patterns, "portal"))),
    path("admin/", admin.site.urls),
]
