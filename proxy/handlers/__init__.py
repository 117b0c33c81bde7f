"""aiohttp handlers of the Swift API: thin adapters from requests to proxy.core calls."""
