from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts import signals
from accounts.models import Clinic, Invitation, Membership, User


class ClinicMembershipInline(admin.TabularInline):
    """On a user's page: the clinics they work in."""

    model = Membership
    fields = ["clinic", "role"]
    extra = 0


class StaffMembershipInline(admin.TabularInline):
    """On a clinic's page: its staff."""

    model = Membership
    fields = ["user", "role"]
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    fields = ["name", "time_zone"]
    list_display = ["name", "time_zone"]
    search_fields = ["name"]
    inlines = [StaffMembershipInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Staff joining or leaving a clinic goes on that clinic's audit trail.
        if any(formset.has_changed() for formset in formsets):
            signals.access_changed.send(
                sender=User, request=request, user=None, clinic_ids=[form.instance.pk]
            )


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "full_name", "role", "clinic"]


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        # Listed, not "__all__": a new field must be added here on purpose.
        fields = [
            "email",
            "password",
            "full_name",
            "role",
            "clinic",
            "date_of_birth",
            "record_number",
            "reminder_emails",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
            "last_login",
            "date_joined",
        ]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """For staff accounts and support. Patients join through the clinician's invitation."""

    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "clinic", "is_active"]
    list_filter = ["role", "is_active", "is_staff", "groups"]
    list_select_related = ["clinic"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["code", "last_login", "date_joined"]
    inlines = [ClinicMembershipInline]
    fieldsets = [
        (None, {"fields": ["code", "email", "password"]}),
        (
            "Person",
            {"fields": ["full_name", "role", "clinic", "date_of_birth", "record_number", "reminder_emails"]},
        ),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]

    def save_related(self, request, form, formsets, change):
        before = set(form.instance.memberships.values_list("clinic_id", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        # Roles, groups and clinic memberships decide what a person may see: record changes.
        if form.has_changed() or any(formset.has_changed() for formset in formsets):
            after = set(form.instance.memberships.values_list("clinic_id", flat=True))
            clinic_ids = sorted(before | after | ({form.instance.clinic_id} - {None}))
            signals.access_changed.send(
                sender=User, request=request, user=form.instance, clinic_ids=clinic_ids
            )

    add_fieldsets = [
        (
            None,
            {"fields": ["email", "full_name", "role", "clinic", "usable_password", "password1", "password2"]},
        ),
    ]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are created and used only through the portal's services."""

    list_display = ["invitee", "sent_by", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_select_related = ["invitee", "sent_by"]
    # Listed explicitly; the token's hash is never shown.
    fields = ["code", "invitee", "sent_by", "created_at", "expires_at", "accepted_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
