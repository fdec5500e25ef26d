"""``python -m vncoverage``: the same command as ``vncoverage`` (e.g. under a profiler,
``python -m cProfile -m vncoverage run ...``, or where the script folder is not on PATH)."""

from vncoverage.cli import main

if __name__ == "__main__":
    main(prog_name="vncoverage")
