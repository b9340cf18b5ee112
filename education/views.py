from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.access import patient_required


@patient_required
@require_GET
def my_modules(request):
    return render(request, "education/my_modules.html")
