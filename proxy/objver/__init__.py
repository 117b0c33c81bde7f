"""Object versioning as Swift 2.38's object_versioning middleware (X-Versions-Enabled).

names.py    reserved names ("\\x00versions\\x00<c>", "\\x00<obj>\\x00<~timestamp>") and version ids
listing.py  version-aware container and account listings (pure)
writes.py   PUT/DELETE in a versioned container, hooked into SwiftCore (every writer versions)
objects.py  ?version-id requests and version headers, around the object handler
container.py, account.py  enabling, listings, deleting, around those handlers
"""
