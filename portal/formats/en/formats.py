# The portal's dates in English: day first, month in words ("23 November 2026"), for clinics
# and patients alike. Django's own English formats fill in the rest.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
