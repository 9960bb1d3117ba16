"""Reading a gps run directory: config, metrics, summary, evaluation."""
import json
import os
from dataclasses import dataclass, field

from . import _core


@dataclass
class Run:
    """What one `gps train` run wrote.

    config:   the resolved config as a nested dict of typed values (config.yaml)
    metrics:  the records of metrics.jsonl, in order (dicts with step, epoch, loss, lr, ...)
    summary:  summary.json (None while the run is going)
    eval:     summary["eval"]: linear_top1, knn_top1, ... (None before evaluation)
    env:      env.json: versions, CPU, threads, GPU
    checkpoints: checkpoint files, oldest first: checkpoints/step-<N>.pt, then checkpoint.pt
    """
    path: str
    config: dict
    metrics: list
    summary: dict = None
    eval: dict = None
    env: dict = None
    command: str = ""
    checkpoints: list = field(default_factory=list)

    def series(self, key):
        """(steps, values) of a metric over the records that hold it, e.g. run.series("loss")."""
        rows = [(r["step"], r[key]) for r in self.metrics if key in r and "step" in r]
        return [s for s, _ in rows], [v for _, v in rows]


def _json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def read_metrics(path):
    """The records of a metrics.jsonl; a last line cut by a crash is skipped."""
    records = []
    if not os.path.exists(path):
        return records
    with open(path) as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if i < len(lines) - 2:  # only the last, unterminated line may be partial
                raise ValueError(f"{path}:{i + 1}: not a JSON record: {line[:80]!r}")
    return records


def read_run(path):
    """Reads run directory `path`. Raises FileNotFoundError when it holds no config.yaml."""
    path = os.fspath(path)
    cfg_path = os.path.join(path, "config.yaml")
    if not os.path.exists(cfg_path):
        raise FileNotFoundError(f"{path}: not a gps run directory (no config.yaml)")
    files = _core.read_run_files(path)  # the C++ run reader: one layout, one summary reader
    summary = None if files["summary"] is None else json.loads(files["summary"])
    command = ""
    if os.path.exists(os.path.join(path, "command.txt")):
        with open(os.path.join(path, "command.txt")) as f:
            command = f.read().strip()
    return Run(path=path, config=_core.load_config(files["config"], []),
               metrics=read_metrics(os.path.join(path, "metrics.jsonl")), summary=summary,
               eval=None if summary is None else summary.get("eval"), env=_json(os.path.join(path, "env.json")),
               command=command, checkpoints=list(files["checkpoints"]))
