"""Words the pages build around numbers."""


def counted(count: int, noun: str, plural: str = "") -> str:
    """ "1 module", "2 modules", "1,000 patients": real plurals, not "module(s)"."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
