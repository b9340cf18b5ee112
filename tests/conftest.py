def pytest_configure(config):
    from django.conf import settings

    # Real hashing costs ~0.3 s a password; tests check behaviour, not key stretching.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
