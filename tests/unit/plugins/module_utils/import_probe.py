# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a piece of code imports, seen from a fresh interpreter (the test process has imported everything already)."""

from __future__ import annotations

import os
import subprocess
import sys


def modules_imported_by(code, wanted):
    """The sorted names in sys.modules, after ``code`` ran in a new interpreter, for which ``wanted(name)`` holds."""
    probe = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    done = subprocess.run([sys.executable, '-c', probe], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [name for name in done.stdout.split() if wanted(name)]
