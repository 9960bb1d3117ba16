"""The `gps` console script of a pip-installed gps_ssl: runs the gps CLI in gps_ssl/bin."""
import os
import sys


def main():
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "gps")
    if not os.path.exists(exe):
        sys.exit(f"gps: {exe} is missing (gps_ssl was not installed with pip install .)")
    os.execv(exe, [exe] + sys.argv[1:])


if __name__ == "__main__":
    main()
