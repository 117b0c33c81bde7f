"""Generated credentials must work as command-line values: one urlsafe token in 64 starts with "-",
and `swift --os-password -x...` then fails with "expected one argument" (a CI run hit it)."""
import secrets

from strato import aio
from strato.generated_secrets import cli_safe_token


def test_a_token_starting_with_a_dash_is_drawn_again(monkeypatch):
    drawn = iter(["-Leading", "_fine-token"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda nbytes: next(drawn))
    assert cli_safe_token(12) == "_fine-token"


def test_every_generated_aio_credential_is_cli_safe(monkeypatch):
    # Every other draw starts with "-": each credential must skip those draws.
    counter = iter(range(10_000))
    monkeypatch.setattr(secrets, "token_urlsafe",
                        lambda nbytes: ("-" if next(counter) % 2 == 0 else "k") + "x" * nbytes)
    generated = aio.generated_settings(test_users=False)
    keys = [user.split(":")[2] for user in generated["proxy"]["users"]]
    keys += [line.split()[1] for line in generated["s3"]["credentials"]]
    keys.append(generated["identity"]["admin_password"])
    assert keys and all(not key.startswith("-") for key in keys), keys
