from django.urls import path

from education import views

app_name = "education"

urlpatterns = [
    path("modules/", views.my_modules, name="my_modules"),
]
