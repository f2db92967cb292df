from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for sign-ins that come with an HTTP request.

    ``authenticate()`` without a request (the shell, the test client's
    ``login()``) is not a web sign-in: nobody can guess passwords through it,
    so it passes on to ``ModelBackend`` instead of failing.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
