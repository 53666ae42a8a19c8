# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip script ansible-test downloads to bootstrap pip into its virtual environments.

hacking/sanity.sh copies it to ~/.ansible/test/cache/get_pip_<version>.py. ansible-test runs it with get-pip's
command line (pip options, pinned packages, --no-setuptools/--no-wheel): pip comes from the interpreter's bundled
ensurepip, then the pinned packages are installed from the package index as usual.
"""

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = {'--no-setuptools', '--no-wheel'}


def main():
    """Bootstrap pip with ensurepip, then install what get-pip would have installed."""
    arguments = sys.argv[1:]
    pip_arguments = [argument for argument in arguments if argument not in GET_PIP_ONLY_OPTIONS]
    subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--quiet'] + pip_arguments, check=True)
    if '--no-setuptools' in arguments:
        # get-pip leaves setuptools out on request; Python 3.11's ensurepip always brings it.
        subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '--quiet', '--yes', 'setuptools'], check=False)


if __name__ == '__main__':
    main()
