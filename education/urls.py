from django.urls import path

from education import views
from education.views import questions, receipts

app_name = "education"

# The patient's pages. Records appear in URLs only by their random code, never by topic.
urlpatterns = [
    path("modules/", views.my_modules, name="my_modules"),
    path("modules/<uuid:code>/", views.reader, name="reader"),
    path("modules/<uuid:code>/quiz/", views.quiz, name="quiz"),
    path("modules/<uuid:code>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("modules/<uuid:code>/questions/", questions.ask, name="ask_question"),
    path("quiz-results/<uuid:code>/", views.quiz_result, name="quiz_result"),
    path("questions/", questions.my_questions, name="my_questions"),
    path("questions/<uuid:code>/withdraw/", questions.withdraw, name="withdraw_question"),
    path("acknowledgments/<uuid:code>/receipt/", receipts.receipt, name="receipt"),
]
