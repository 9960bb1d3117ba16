"""Does this LibTorch's oneDNN still corrupt the heap on a strided 1x1
convolution in channels-last with fewer than 8 input channels?

The rule gps applies (include/gps/core/precision.h, channels_last_hazard)
comes from this repro: under AVX2 kernels (a CPU without AVX-512, or
ONEDNN_MAX_CPU_ISA=AVX2 on one with it), LibTorch 2.11's
jit_avx2_1x1_convolution_bwd_weights_t writes past its buffer: the process
hangs, segfaults or aborts with "corrupted size vs. prev_size". Each case
runs in its own process with a 20 s limit:

    ONEDNN_MAX_CPU_ISA=AVX2 /opt/gps-venv/bin/python scripts/onednn_channels_last_repro.py

When every case reports "ok" on a new LibTorch, the rule can be lifted.
"""
import subprocess
import sys

CASE = r"""
import sys, torch, torch.nn as nn
torch.set_num_threads(int(sys.argv[4]))
i, o, st = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pre = nn.Conv2d(1, i, 3, 1, 1, bias=False).to(memory_format=torch.channels_last)
m = nn.Conv2d(i, o, 1, st, bias=False).to(memory_format=torch.channels_last)
x0 = torch.randn(128, 1, 28, 28).contiguous(memory_format=torch.channels_last)
for _ in range(3):
    m(torch.relu(pre(x0))).pow(2).mean().backward()
"""


def main():
    print(f"torch {__import__('torch').__version__}")
    for ic in (2, 4, 6, 7, 8, 16):
        for threads in (1, 2):
            try:
                r = subprocess.run([sys.executable, "-c", CASE, str(ic), str(2 * ic), "2", str(threads)],
                                   capture_output=True, text=True, timeout=20)
                what = "ok" if r.returncode == 0 else f"exit {r.returncode} {r.stderr.strip()[-60:]}"
            except subprocess.TimeoutExpired:
                what = "hung (killed after 20 s)"
            print(f"1x1 conv stride 2, {ic:2d} -> {2 * ic:2d} channels, {threads} thread(s): {what}", flush=True)


if __name__ == "__main__":
    main()
