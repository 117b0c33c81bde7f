"""The volume API (Cinder v3 subset) over aiohttp: `create_app(config)`."""
from blockserver.api.app import create_app

__all__ = ["create_app"]
