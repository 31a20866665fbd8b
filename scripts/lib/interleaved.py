"""Runs of the engine and of a reference interleaved in time, for ratios a changing machine
cannot skew: the 2-vCPU machines measured change speed for seconds to minutes at a time, so two
sides measured one after the other can each land in a different state."""
import json
import statistics
import subprocess
import time


class PacedEngine:
    """`galaxy-bench engine time --paced`: the model loaded and warm, one run per request."""

    def __init__(self, arguments):
        self.process = subprocess.Popen(arguments + ["--paced"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if not json.loads(self.process.stdout.readline()).get("ready"):
            raise RuntimeError(f"{arguments[0]} did not start")

    def run(self):
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["images_per_second"]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def timed_run(call, images_per_call, seconds):
    """A function doing one timed run of `call` (at least `seconds`), returning images/s."""

    def run():
        images, start = 0, time.perf_counter()
        while True:
            call()
            images += images_per_call
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        time.sleep(0.05)  # let onnxruntime's spinning threads go idle before the next side's run
        return images / elapsed
    return run


def interleaved_medians(sides, runs):
    """Median rate of each side (a function doing one timed run, returning images/s) over `runs`
    rounds; the order of the sides turns round by round, so none always runs first."""
    rates = [[] for _ in sides]
    for round_ in range(runs):
        order = list(range(len(sides)))
        shift = round_ % len(sides)
        for i in order[shift:] + order[:shift]:
            rates[i].append(sides[i]())
    return [statistics.median(r) for r in rates]
