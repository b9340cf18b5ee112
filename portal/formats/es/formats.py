# The portal's dates in Spanish: "23 de noviembre de 2026". Django's own Spanish formats
# fill in the rest (a comma for decimals, a point between thousands).
DATE_FORMAT = r"j \d\e F \d\e Y"
DATETIME_FORMAT = r"j \d\e F \d\e Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
