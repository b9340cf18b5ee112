"""Content editors browse the library here. Everything is read-only: a change to a
module is a change to its file, reviewed like code and loaded as a new version."""

from django.contrib import admin

from education.models import Choice, Module, ModuleVersion, Question


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class VersionInline(ReadOnlyInline):
    model = ModuleVersion
    fields = ["number", "title", "reading_grade", "smog_grade", "word_count", "reviewed_on", "published_at"]
    show_change_link = True


class QuestionInline(ReadOnlyInline):
    model = Question
    fields = ["position", "concept", "section", "text"]
    show_change_link = True


class ChoiceInline(ReadOnlyInline):
    model = Choice
    fields = ["position", "text", "is_correct", "explanation"]


@admin.register(Module)
class ModuleAdmin(ReadOnlyAdmin):
    list_display = ["title", "slug", "topic", "current_version"]
    list_filter = ["topic"]
    list_select_related = ["current_version"]
    inlines = [VersionInline]


@admin.register(ModuleVersion)
class ModuleVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "number",
        "module",
        "reading_grade",
        "smog_grade",
        "word_count",
        "reviewed_on",
        "content_check_due",
        "published_at",
    ]
    list_filter = ["module"]
    list_select_related = ["module"]
    inlines = [QuestionInline]

    @admin.display(boolean=True, description="Content check due")
    def content_check_due(self, version):
        """Not checked against its sources for 12 months."""
        return version.review_due


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = ["text", "version", "position"]
    list_select_related = ["version"]
    inlines = [ChoiceInline]
