from django.urls import path

from portal.interop import views

app_name = "interop"

# The record system's API. Ids in URLs are the records' random codes.
urlpatterns = [
    path("fhir/R4/metadata", views.capability_statement, name="metadata"),
    path("fhir/R4/<str:resource_type>", views.search_resources, name="search"),
    path("fhir/R4/<str:resource_type>/<uuid:code>", views.read_resource, name="read"),
    path("api/v1/events", views.receive_event, name="events"),
]
