from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from portal import views
from portal.views import (
    access_log,
    caregivers,
    dev_emails,
    integration,
    library,
    patients,
    questions,
    receipts,
    sign_in_links,
    staff,
    texts,
    visits,
)

# The clinic's pages (and the reminder settings). Records appear in URLs only by their
# random code.
clinician_patterns = [
    path("patients/", views.dashboard, name="dashboard"),
    path("patients/search/", views.dashboard_search, name="dashboard_search"),
    path("patients/bulk-assign/", views.bulk_assign, name="bulk_assign"),
    path("patients/new/", views.patient_new, name="patient_new"),
    path("patients/<uuid:code>/", views.patient_detail, name="patient_detail"),
    path("patients/<uuid:code>/assign/", views.patient_assign, name="patient_assign"),
    path("patients/<uuid:code>/visits/new/", visits.visit_new, name="visit_new"),
    path("patients/<uuid:code>/edit/", patients.patient_edit, name="patient_edit"),
    path("patients/<uuid:code>/deactivate/", patients.patient_deactivate, name="patient_deactivate"),
    path("patients/<uuid:code>/reactivate/", patients.patient_reactivate, name="patient_reactivate"),
    path("patients/<uuid:code>/move/", patients.patient_transfer, name="patient_transfer"),
    path(
        "patients/<uuid:code>/resend-invitation/",
        views.patient_resend_invitation,
        name="patient_resend_invitation",
    ),
    path("patients/<uuid:code>/caregivers/", caregivers.patient_caregivers, name="patient_caregivers"),
    path(
        "caregivers/<uuid:code>/revoke/", caregivers.patient_caregiver_revoke, name="patient_caregiver_revoke"
    ),
    path("assignments/<uuid:code>/cancel/", views.assignment_cancel, name="assignment_cancel"),
    path("visits/<uuid:code>/", visits.visit_summary, name="visit_summary"),
    path("visits/<uuid:code>/pdf/", visits.visit_pdf, name="visit_pdf"),
    path("visits/<uuid:code>/held/", visits.visit_held, name="visit_held"),
    path("visits/<uuid:code>/missed/", visits.visit_no_show, name="visit_no_show"),
    path("visits/<uuid:code>/cancel/", visits.visit_cancel, name="visit_cancel"),
    path("visits/<uuid:code>/move/", visits.visit_reschedule, name="visit_reschedule"),
    path("visits/<uuid:code>/teach-back/", visits.visit_teach_back, name="visit_teach_back"),
    path("visits/<uuid:code>/assign-again/", visits.visit_assign_again, name="visit_assign_again"),
    path("questions/<uuid:code>/answered/", questions.question_answered, name="question_answered"),
    path("receipts/verify/", receipts.verify_receipt, name="verify_receipt"),
    path("overview/", views.overview, name="overview"),
    path("audit/", views.audit_trail, name="audit_trail"),
    # The clinic admins' staff page.
    path("staff/", staff.staff_list, name="staff"),
    path("staff/invite/", staff.staff_invite, name="staff_invite"),
    path("staff/<uuid:clinic>/<uuid:code>/resend/", staff.staff_resend, name="staff_resend"),
    path("staff/<uuid:clinic>/<uuid:code>/role/", staff.staff_role, name="staff_role"),
    path("staff/<uuid:clinic>/<uuid:code>/remove/", staff.staff_remove, name="staff_remove"),
    # The clinic admins' record-system page: API clients and clinical event rules.
    path("integration/", integration.integration, name="integration"),
    path(
        "integration/<uuid:clinic>/clients/new/",
        integration.integration_client_new,
        name="integration_client_new",
    ),
    path(
        "integration/<uuid:clinic>/clients/<uuid:code>/revoke/",
        integration.integration_client_revoke,
        name="integration_client_revoke",
    ),
    path(
        "integration/<uuid:clinic>/rules/<slug:kind>/", integration.integration_rule, name="integration_rule"
    ),
    path("audit/patients/<uuid:code>.csv", views.audit_patient_csv, name="audit_patient_csv"),
    path("export/assignments.csv", views.export_assignments, name="export_assignments"),
    # The content editors' review of the module library.
    path("library/review/", library.review_list, name="library_review"),
    path("library/review/load/", library.load_drafts, name="library_load"),
    path("library/versions/<uuid:code>/", library.version_detail, name="library_version"),
    path("library/versions/<uuid:code>/compare/", library.version_diff, name="library_diff"),
    path("library/versions/<uuid:code>/approve/", library.version_approve, name="library_approve"),
    path("library/versions/<uuid:code>/reject/", library.version_reject, name="library_reject"),
    # The patient's settings, and the unsubscribe link of reminder emails (no sign-in).
    path("settings/", views.patient_settings, name="patient_settings"),
    path("settings/who-viewed-my-record/", access_log.access_log, name="access_log"),
    # Who the patient shares their modules with.
    path("settings/caregivers/", caregivers.my_caregivers, name="caregivers"),
    path("settings/caregivers/<uuid:code>/revoke/", caregivers.my_caregiver_revoke, name="caregiver_revoke"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # The SMS provider's webhook for replies (STOP), signed by the provider.
    path("sms/inbound/", texts.sms_inbound, name="sms_inbound"),
    # Development only (404 with a real mail server or in production): the emails sent.
    path("dev/emails/", dev_emails.dev_emails, name="dev_emails"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Sign-in, sign-out, password change and reset: Django's own views and names; the
    # password change announces itself for the audit trail.
    path("accounts/password_change/", account_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_reset/", views.ThrottledPasswordResetView.as_view(), name="password_reset"),
    # A patient's one-time sign-in link by email (no password).
    path("accounts/sign-in-link/", sign_in_links.sign_in_link, name="sign_in_link"),
    path("accounts/sign-in-link/<str:token>/", sign_in_links.sign_in_link_use, name="sign_in_link_use"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("accounts.urls")),
    # The patient's pages.
    path("", include("education.urls")),
    path("", include((clinician_patterns, "portal"))),
    # The caregiver's pages (portal/caregivers).
    path("", include("portal.caregivers.urls")),
    # The record system's API: FHIR R4 reads and clinical events (portal/interop).
    path("", include("portal.interop.urls")),
    path("admin/", admin.site.urls),
]

# A database outage answers 503 ("nothing was saved, try again"), other errors 500.
handler500 = "portal.views.errors.server_error"
