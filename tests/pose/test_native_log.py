# ruff: noqa: E501, W291  (native log lines are quoted verbatim, trailing spaces included)
"""The native-log filter: MediaPipe's C++ log lines are dropped, everything else passes.

The lines below are verbatim from mediapipe 1.2.3 (task creation, the first pose, close,
and a model whose two .tflite files are swapped).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from itbcoach.pose.native_log import NativeLogFilter, filtered_stderr

NOISE = b"""INFO: [environment.cc:36] Creating LiteRT environment with options
INFO: [accelerator_registry.cc:54] RegisterAccelerator: ptr=0x7f0584003520, name=CpuAccelerator
INFO: [cpu_registry.cc:75] XNNPACK CPU accelerator registered.
WARNING: [model_load.cc:402] Sparsity tensors may not yet be fully supported.
INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
WARNING: Logging before InitGoogle() is written to STDERR
W0000 00:00:1796286225.201902    3649 inference_runner_litert.cc:1433] Input tensor memory is not aligned according to LiteRt's memory alignment requirements. Reallocating memory and copying data.
W0000 00:00:1796286225.289808    3648 landmark_projection_calculator.cc:81] Using NORM_RECT without IMAGE_DIMENSIONS is only supported for the square ROI. Provide IMAGE_DIMENSIONS or use PROJECTION_MATRIX.
INFO: [accelerator_registry.cc:43] DestroyAccelerator: ptr=0x7f0584003520, name=CpuAccelerator
"""

ERROR_BLOCK = b"""E0000 00:00:1796286706.121451   28410 tensors_to_detections_calculator.cc:467] INTERNAL: RET_CHECK failure (third_party/mediapipe/calculators/tensor/tensors_to_detections_calculator.cc:467) input_tensors.size() == 4 (5 vs. 4) 
Stack trace:
    @     0x7fbb6ece20cd  absl::StatusBuilder::CreateStatusAndConditionallyLog()
    @     0x7fbb6cfc5885  mediapipe::api2::TensorsToDetectionsCalculator::ProcessCPU()
    @     0x7fbbc22521f5  (unknown)
E0000 00:00:1796286706.165404   28407 calculator_graph.cc:946] INTERNAL: CalculatorGraph::Run() failed: \nCalculator::Process() for node "TensorsToDetectionsCalculator" failed: RET_CHECK failure (tensors_to_detections_calculator.cc:467) input_tensors.size() == 4 (5 vs. 4) \n=== Source Location Trace: === \nthird_party/mediapipe/calculators/tensor/tensors_to_detections_calculator.cc:467
third_party/mediapipe/framework/calculator_node.cc:1014

"""

PYTHON_TRACEBACK = b"""Traceback (most recent call last):
  File "worker.py", line 3, in <module>
RuntimeError: a worker failed
"""


def run(data: bytes, chunk: int = 7) -> bytes:
    """Feed ``data`` in small chunks (lines arrive split across reads)."""
    flt = NativeLogFilter()
    out = b"".join(flt.feed(data[i:i + chunk]) for i in range(0, len(data), chunk))
    return out + flt.flush()


def test_native_info_warning_and_error_lines_are_dropped() -> None:
    assert run(NOISE) == b""
    assert run(ERROR_BLOCK) == b""
    assert run(NOISE + ERROR_BLOCK + NOISE) == b""


def test_other_lines_pass_unchanged_in_order() -> None:
    progress = b"clip.mp4:  10%|#         | 41/414\rclip.mp4:  20%|##        | 83/414\r"
    ours = b"itbcoach: input not found: x.mp4\n"
    data = NOISE + progress + ERROR_BLOCK + PYTHON_TRACEBACK + NOISE + ours
    assert run(data) == progress + PYTHON_TRACEBACK + ours
    # an ERROR block without its closing blank line still ends at a Python traceback
    assert run(ERROR_BLOCK.rstrip(b"\n") + b"\n" + PYTHON_TRACEBACK) == PYTHON_TRACEBACK


def test_a_fatal_line_and_the_crash_trace_after_it_pass() -> None:
    fatal = (b"F0000 00:00:1796286706.1 28407 graph.cc:12] Check failed: ok\n"
             b"*** Check failure stack trace: ***\n"
             b"    @     0x7fbb6ece20cd  mediapipe::Graph::Run()\n"
             b"INFO: [accelerator_registry.cc:43] DestroyAccelerator\n")
    assert run(NOISE + fatal) == fatal


def test_partial_lines_wait_only_while_they_may_be_native() -> None:
    flt = NativeLogFilter()
    assert flt.feed(b"INFO: [environment.cc:36] Creat") == b""
    assert flt.pending() == b""  # may still be a native line: held back
    assert flt.feed(b"ing LiteRT environment\nclip.mp4:  5%|") == b""
    assert flt.pending() == b"clip.mp4:  5%|"  # a progress bar: passed on after a pause


CHILD = textwrap.dedent("""
    import os, sys
    from itbcoach.pose.native_log import filtered_stderr
    with filtered_stderr():
        os.write(2, {noise!r})
        print("itbcoach: our line", file=sys.stderr)
        os.write(2, {tail!r})
        {end}
""")


def _child(end: str, tail: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    code = CHILD.format(noise=NOISE + ERROR_BLOCK, tail=tail, end=end)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)


def test_process_stderr_keeps_only_our_lines() -> None:
    proc = _child("pass", tail=NOISE + b"a plain line from native code\n")
    assert proc.returncode == 0
    assert proc.stderr.decode().splitlines() == ["itbcoach: our line",
                                                 "a plain line from native code"]


def test_a_native_abort_still_shows_its_fatal_line() -> None:
    fatal = b"F0000 00:00:1796286706.1 28407 graph.cc:12] Check failed: ok\n"
    proc = _child("os.abort()", tail=fatal)
    assert proc.returncode != 0  # killed by SIGABRT
    lines = proc.stderr.decode().splitlines()
    assert lines == ["itbcoach: our line", fatal.decode().strip()]


def test_nothing_is_filtered_when_disabled(capfd: pytest.CaptureFixture[str]) -> None:
    import os

    with filtered_stderr(enabled=False):
        os.write(2, NOISE)
    assert capfd.readouterr().err == NOISE.decode()
