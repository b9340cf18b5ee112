from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("two-step/setup/", views.mfa_setup, name="mfa_setup"),
    path("two-step/", views.mfa_verify, name="mfa_verify"),
    path("language/", views.choose_language, name="choose_language"),
]
