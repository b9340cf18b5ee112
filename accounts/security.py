def username_for_lockout(request, credentials):
    """The address as accounts store it, so PAT@Example.org and pat@example.org share
    one failure count."""
    typed = (credentials or {}).get("username") or request.POST.get("username", "")
    return typed.strip().lower()
