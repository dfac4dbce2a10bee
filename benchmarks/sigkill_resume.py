"""Kill runs with SIGKILL at random moments and resume them: how often is a file left unusable?

Each trial starts ``tdgl-stt run`` on a small, fast run (1D, a hot spot, thermal noise: the
process spends much of its time inside HDF5 writes, close to the worst case of
docs/output-format.md), kills it once its file holds a few frames, then tries to open the file
and ``tdgl-stt run --resume`` it, and compares the result bit for bit with an uninterrupted run.

    python benchmarks/sigkill_resume.py [--kills 100] [--seed 0] [--keep-failures DIR]

It prints one line per trial and the counts: resumed bitwise, resumed after a rebuild (the file
could not be extended in place), finished before the kill (not a trial), file unreadable after
the kill, resume refused or failed, resumed but different. A reliability measurement, not a
test: it takes about 1-10 s per kill.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import netCDF4
import numpy as np
import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from physics_cases import NOISY_PROFILE_RUN  # the run the SIGKILL test kills

CONFIG = {**NOISY_PROFILE_RUN, "output": {"checkpoint_every": 7}}
FIELDS = ("theta", "Phi", "mu")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tdgl_stt.cli", *args], capture_output=True, text=True, check=False)


def fields(path: Path) -> bytes:
    with netCDF4.Dataset(path) as nc:
        return b"".join(np.asarray(nc[name][:]).tobytes() for name in ("t", *FIELDS))


def trial(work: Path, cfg: Path, reference: bytes, rng: random.Random, index: int) -> tuple[str, str]:
    out = work / f"run{index}.nc"
    proc = subprocess.Popen([sys.executable, "-m", "tdgl_stt.cli", "run", str(cfg), "-q", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not (out.exists() and out.stat().st_size > 200_000) and proc.poll() is None:
        if time.monotonic() - t0 > 120:
            proc.kill()
            return "no frame written", ""
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, 0.4))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    try:
        with netCDF4.Dataset(out) as nc:
            status = str(nc.getncattr("status"))
    except OSError as exc:
        return "unreadable after the kill", str(exc)
    if status == "complete":
        return "finished before the kill", ""
    resumed = cli("run", "--resume", str(out))
    if resumed.returncode != 0:
        return "resume refused or failed", resumed.stderr.strip()
    if fields(out) != reference:
        return "resumed but different", ""
    return ("resumed after a rebuild" if "rebuilding" in resumed.stderr else "resumed bitwise"), ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep-failures", type=Path, help="copy files that failed here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        cfg = work / "run.toml"
        cfg.write_text(tomli_w.dumps(CONFIG))
        ref = work / "ref.nc"
        done = cli("run", str(cfg), "-q", "-o", str(ref))
        if done.returncode != 0:
            sys.exit(f"the reference run failed: {done.stderr}")
        reference = fields(ref)
        kills = 0
        index = 0
        while kills < args.kills:
            index += 1
            outcome, detail = trial(work, cfg, reference, rng, index)
            counts[outcome] += 1
            kills += outcome != "finished before the kill"
            print(f"{index:4d} {outcome}{': ' + detail if detail else ''}", flush=True)
            out = work / f"run{index}.nc"
            if args.keep_failures and outcome not in ("resumed bitwise", "finished before the kill") and out.exists():
                args.keep_failures.mkdir(parents=True, exist_ok=True)
                shutil.copy(out, args.keep_failures / out.name)
            out.unlink(missing_ok=True)
    print(f"{args.kills} kills (seed {args.seed}):")
    for outcome, n in counts.most_common():
        print(f"  {outcome}: {n}")


if __name__ == "__main__":
    main()
