"""The background frame writer keeps the order, the data and the errors of a serial write."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tdgl_stt.errors import OutputError
from tdgl_stt.fft import HAVE_PYFFTW, RealFFT
from tdgl_stt.frame_pipeline import BackgroundFrameWriter


class RecordingWriter:
    """Stands in for RunWriter: records (t, copies of values, thread) and can fail on a frame."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.frames: list[tuple[float, dict, str]] = []
        self.fail_at = fail_at

    @property
    def n_written(self) -> int:
        return len(self.frames)

    def write_frame(self, t, values) -> None:
        if len(self.frames) == self.fail_at:
            raise OutputError("disk full (simulated)")
        self.frames.append((t, {k: v.copy() for k, v in values.items()}, threading.current_thread().name))


def test_frames_arrive_in_order_with_their_data_from_two_alternating_buffers() -> None:
    rec = RecordingWriter()
    buffers = [np.empty(4), np.empty(4)]
    with BackgroundFrameWriter(rec) as sink:
        for n in range(50):
            buf = buffers[n % 2]
            buf[...] = n  # the contract: a buffer is reused only after the next submit returned
            sink.submit(float(n), {"theta": buf})
        sink.wait()
        assert sink.n_written == 50
    assert [t for t, _, _ in rec.frames] == [float(n) for n in range(50)]
    assert all(np.all(v["theta"] == t) for t, v, _ in rec.frames)
    assert all(name.startswith("tdgl-stt-writer") for _, _, name in rec.frames)


def test_a_failed_write_is_raised_by_the_next_call_in_the_callers_thread() -> None:
    rec = RecordingWriter(fail_at=3)
    sink = BackgroundFrameWriter(rec)
    with pytest.raises(OutputError, match="disk full"):
        for n in range(10):
            sink.submit(float(n), {"theta": np.zeros(2)})
        sink.wait()
    sink.close()
    assert rec.n_written == 3  # frames 0-2 committed, nothing after the failure


@pytest.mark.parametrize("backend", ["scipy"] + (["pyfftw"] if HAVE_PYFFTW else []))
def test_inverse_into_a_given_buffer_equals_the_internal_one(backend: str) -> None:
    fft = RealFFT((16, 12), backend=backend)
    X = fft.forward(np.random.default_rng(1).standard_normal((16, 12)))
    out = fft.output_buffer()
    a = fft.inverse(X, out=out)
    assert a is out
    np.testing.assert_array_equal(out, fft.inverse(X).copy())


class CheckpointRecordingWriter(RecordingWriter):
    """Also records checkpoints as ("checkpoint", frame, copy, thread) in the same event list."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple] = []

    def write_frame(self, t, values) -> None:
        super().write_frame(t, values)
        self.events.append(("frame", len(self.frames) - 1))

    def write_checkpoint(self, frame, arrays) -> None:
        self.events.append(("checkpoint", frame, arrays["state"].copy(), threading.current_thread().name))


def test_a_checkpoint_is_written_after_its_frame_on_the_writer_thread() -> None:
    rec = CheckpointRecordingWriter()
    states = [np.zeros(3), np.zeros(3)]
    with BackgroundFrameWriter(rec) as sink:
        for n in range(6):
            states[n % 2][...] = n
            sink.submit(float(n), {"theta": np.full(2, float(n))},
                        checkpoint={"state": states[n % 2]} if n % 3 == 0 else None)
    order = [e[:2] for e in rec.events]
    assert order == [("frame", 0), ("checkpoint", 0), ("frame", 1), ("frame", 2), ("frame", 3),
                     ("checkpoint", 3), ("frame", 4), ("frame", 5)]
    for event in rec.events:
        if event[0] == "checkpoint":
            assert np.all(event[2] == event[1]) and event[3].startswith("tdgl-stt-writer")
