"""The Fernet key repository: Keystone's staged/primary/secondary layout, rotation and purge."""
import os

import pytest

from identity import keys
from identity.tokens import InvalidToken, TokenCodec


def names(key_dir):
    return sorted(int(n) for n in os.listdir(key_dir) if n.isdigit())


def test_setup_creates_staged_and_primary(tmp_path):
    key_dir = str(tmp_path / "k")
    keys.setup(key_dir)
    assert names(key_dir) == [0, 1]
    assert oct(os.stat(os.path.join(key_dir, "1")).st_mode & 0o777) == "0o600"
    before = keys.load(key_dir)
    keys.setup(key_dir)  # idempotent: keys are not replaced
    assert keys.load(key_dir) == before


def test_rotation_promotes_the_staged_key(tmp_path):
    key_dir = str(tmp_path / "k")
    keys.setup(key_dir)
    staged = keys.load(key_dir)[-1]
    assert keys.rotate(key_dir) == 2
    assert names(key_dir) == [0, 1, 2]
    loaded = keys.load(key_dir)
    assert loaded[0] == staged  # the old staged key now encrypts


def test_rotation_purges_beyond_max_active(tmp_path):
    key_dir = str(tmp_path / "k")
    keys.setup(key_dir)
    for _ in range(5):
        keys.rotate(key_dir, max_active=3)
    assert names(key_dir) == [0, 5, 6]


def test_token_survives_rotations_within_the_window(tmp_path, make_ctx):
    key_dir = str(tmp_path / "k")
    keys.setup(key_dir)
    token = TokenCodec(keys.load(key_dir)).seal(make_ctx())
    keys.rotate(key_dir, max_active=3)
    assert TokenCodec(keys.load(key_dir)).open(token).user_id == "u1"
    keys.rotate(key_dir, max_active=3)
    keys.rotate(key_dir, max_active=3)
    with pytest.raises(InvalidToken):  # its key was purged
        TokenCodec(keys.load(key_dir)).open(token)


def test_staged_key_already_validates_tokens_of_the_next_primary(tmp_path, make_ctx):
    """A validator that loaded the keys before a rotation accepts tokens sealed after it."""
    key_dir = str(tmp_path / "k")
    keys.setup(key_dir)
    old_view = TokenCodec(keys.load(key_dir))
    keys.rotate(key_dir)
    token = TokenCodec(keys.load(key_dir)).seal(make_ctx())
    assert old_view.open(token).user_id == "u1"


def test_max_active_keys_covers_the_token_lifetime():
    assert keys.max_active_keys(3600, 24) == 3
    assert keys.max_active_keys(3600, 0.5) == 4
    assert keys.max_active_keys(86400, 1) == 26


def test_primary_age(tmp_path):
    key_dir = str(tmp_path / "k")
    keys.setup(key_dir)
    primary = os.path.join(key_dir, "1")
    os.utime(primary, (1000, 1000))
    assert keys.primary_age(key_dir, 1500) == 500
    keys.rotate(key_dir)
    assert keys.primary_age(key_dir, os.stat(os.path.join(key_dir, "2")).st_mtime) == 0


def test_load_of_an_empty_repository_fails(tmp_path):
    with pytest.raises(FileNotFoundError):
        keys.load(str(tmp_path))
