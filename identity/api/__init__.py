"""The identity HTTP API (aiohttp): a thin adapter over store, authenticate, tokens and policy."""
