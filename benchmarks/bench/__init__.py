"""`make bench`: the portal served by gunicorn in production settings, page by page against a floor."""
