from django.urls import path

from education import views

app_name = "education"

# The patient's pages. Records appear in URLs only by their random code, never by topic.
urlpatterns = [
    path("modules/", views.my_modules, name="my_modules"),
    path("modules/<uuid:code>/", views.reader, name="reader"),
    path("modules/<uuid:code>/quiz/", views.quiz, name="quiz"),
    path("modules/<uuid:code>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("quiz-results/<uuid:code>/", views.quiz_result, name="quiz_result"),
]
