"""What the admins' own list filters share."""


class AppliedWhenGivenMixin:
    """A ``SimpleListFilter`` that filters by a value given in the URL even when none of
    its choices names it.

    Django leaves a filter that offers no choice out of the list, and its value with
    it: a link carrying such a value (a year without monitoring lines, a date) would
    list every row instead of the rows it names.
    """

    def has_output(self):
        return bool(self.lookup_choices) or self.value() is not None
