"""TensorBoard event files from a gps run's metrics.jsonl.

    python -m gps_ssl.tensorboard RUN_DIR [--logdir DIR] [--follow]
    tensorboard --logdir RUN_DIR/tensorboard

Every numeric field of a record becomes a scalar at the record's step,
tagged "train/<field>" (or "<event>/<field>" for event records such as the
periodic kNN); the final evaluation of summary.json is added under "eval/".
--follow keeps reading while the run writes, so curves can be watched live,
and stops when the run's summary.json says it has finished.
"""
import argparse
import json
import os
import sys
import time

from .runs import read_run

_SKIP = {"step", "epoch"}


def _scalars(record):
    tag = record.get("event", "train")
    for key, value in record.items():
        if key in _SKIP or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        yield f"{tag}/{key}", float(value)


class _Tail:
    """The complete lines appended to a file since the last call."""

    def __init__(self, path):
        self.path, self.offset, self.rest = path, 0, b""

    def lines(self):
        if not os.path.exists(self.path):
            return []
        size = os.path.getsize(self.path)
        if size < self.offset:  # rewritten by a resumed run
            self.offset, self.rest = 0, b""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        parts = (self.rest + data).split(b"\n")
        self.rest = parts.pop()
        return [p.decode() for p in parts if p.strip()]


def export(run_dir, logdir=None, follow=False, poll_seconds=2.0, timeout_seconds=None):
    """Writes the event files of `run_dir` into `logdir` (default RUN_DIR/tensorboard).
    Returns the number of scalars written."""
    from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

    run = read_run(run_dir)  # checks that this is a run directory
    logdir = logdir or os.path.join(run.path, "tensorboard")
    writer = SummaryWriter(logdir)
    tail = _Tail(os.path.join(run.path, "metrics.jsonl"))
    written, last_step, start = 0, 0, time.time()
    while True:
        for line in tail.lines():
            record = json.loads(line)
            step = int(record.get("step", last_step))
            last_step = max(last_step, step)
            for tag, value in _scalars(record):
                writer.add_scalar(tag, value, step)
                written += 1
        writer.flush()
        summary = read_run(run.path).summary
        finished = summary is not None and not summary.get("interrupted", False)
        if not follow or finished or (timeout_seconds is not None and time.time() - start > timeout_seconds):
            break
        time.sleep(poll_seconds)
    summary = read_run(run.path).summary
    if summary and summary.get("eval"):
        for key, value in summary["eval"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                writer.add_scalar(f"eval/{key}", float(value), last_step)
                written += 1
    writer.close()
    return written


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m gps_ssl.tensorboard", description=__doc__.split("\n\n")[0])
    p.add_argument("run_dir", help="a gps run directory (holds config.yaml and metrics.jsonl)")
    p.add_argument("--logdir", help="where the event files go (default RUN_DIR/tensorboard)")
    p.add_argument("--follow", action="store_true", help="keep reading until the run finishes")
    p.add_argument("--poll", type=float, default=2.0, help="seconds between reads with --follow")
    a = p.parse_args(argv)
    try:
        n = export(a.run_dir, a.logdir, a.follow, a.poll)
    except FileNotFoundError as e:
        sys.exit(f"gps_ssl.tensorboard: {e}")
    print(f"wrote {n} scalars to {a.logdir or os.path.join(a.run_dir, 'tensorboard')}")


if __name__ == "__main__":
    main()
