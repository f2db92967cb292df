from communities.tests.conftest import world  # noqa: F401  (the shared data set)
