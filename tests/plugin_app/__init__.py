"""A throwaway app for tests/test_plugins.py: it adds a person-page section, an
indicator, an import kind and a demo step through the discovery modules only,
without a line in ``communities/`` or the machinery.  Not in INSTALLED_APPS
outside that test."""
