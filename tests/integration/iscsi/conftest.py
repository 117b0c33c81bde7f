"""A real Strato iSCSI target on loopback for each test module (see tests/iscsitarget.py)."""
from iscsitarget import StandaloneTarget, chap_target, need, run, target, tools  # noqa: F401
