from django.urls import path

from portal.caregivers import views

app_name = "caregivers"

# The caregiver's pages. A patient's modules appear only by the access's random code and
# the module version's, never by topic.
urlpatterns = [
    path("caregiving/", views.home, name="home"),
    path("caregiving/<uuid:access>/modules/<uuid:version>/", views.reader, name="reader"),
    path("caregiving/<uuid:access>/modules/<uuid:version>/quiz/", views.quiz, name="quiz"),
    path(
        "caregiving/<uuid:access>/modules/<uuid:version>/acknowledge/", views.acknowledge, name="acknowledge"
    ),
    path("caregiving/quiz-results/<uuid:code>/", views.quiz_result, name="quiz_result"),
]
