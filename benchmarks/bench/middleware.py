from django.db import connection


class QueryCountMiddleware:
    """First in MIDDLEWARE: counts every query of the request, the session and the user
    included, and returns the count in the X-Queries response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Queries"] = str(count)
        return response
