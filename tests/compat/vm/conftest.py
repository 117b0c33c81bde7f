import os
import sys

# vmboot.py (the VM harness) sits beside the tests that use it.
sys.path.insert(0, os.path.dirname(__file__))
