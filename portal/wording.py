from django.utils.formats import number_format


def grouped(count: int) -> str:
    """A count as the active language writes it: 1,000 in English, 1.000 in Spanish."""
    return number_format(count, force_grouping=True)
