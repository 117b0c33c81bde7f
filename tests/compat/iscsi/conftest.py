"""Compat tier: real initiators (qemu-img, libiscsi's iscsi-test-cu) against the standalone
exporter (see tests/iscsitarget.py)."""
from iscsitarget import StandaloneTarget, chap_target, need, run, target, tools  # noqa: F401
