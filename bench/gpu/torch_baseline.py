#!/usr/bin/env python3
"""PyTorch baseline for bench/gpu/run.sh: torchvision MobileNetV2 (weights=None: random weights, the
speed is the same), eval mode, inference only, same batch sizes as the Marquee rows, img/s.

The timed work matches Marquee's `embedding` output: features -> global average pool -> flatten ->
L2 normalise (1280-d), no classifier. Modes:
  fp32       input already on the GPU, float32 (PyTorch defaults: cuDNN may use TF32 for convolutions;
             the flags are in the JSON)
  bf16       the same under torch.autocast(dtype=bfloat16)
  fp32_host  float32, input copied host -> GPU and the embeddings copied back every batch: the same
             transfers Marquee's inference-only figure includes

Each cell: warm-up, then trials of k back-to-back batches between two cuda synchronises; best trial.
Prints one JSON object (also written to --out). Without PyTorch or without CUDA it prints
{"ok": false, "error": ...} and exits 3, so the caller can show the failure as a row.

  python3 bench/gpu/torch_baseline.py --batch 32,64,128,256 [--trial-s 1] [--trials 3] [--out FILE]
  (--device cpu only to check the script on a machine without a GPU)
"""
import argparse
import json
import math
import platform
import sys
import time


def emit(res, out):
    if not res.get("ok") and res.get("error"):
        print("[torch] " + res["error"], file=sys.stderr, flush=True)
    text = json.dumps(res, indent=2)
    print(text, flush=True)
    if out:
        with open(out, "w") as f:
            f.write(text + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", default="32,64,128,256")
    ap.add_argument("--modes", default="fp32,bf16,fp32_host")
    ap.add_argument("--trial-s", type=float, default=1.0)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=3, help="warm-up batches per cell (after cuDNN autotuning)")
    ap.add_argument("--budget-s", type=float, default=None, help="skip the remaining cells after this many seconds")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    t_start = time.perf_counter()
    batches = [int(b) for b in args.batch.split(",") if b.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    res = {
        "bench": "torch",
        "ok": False,
        "device": args.device,
        "python": platform.python_version(),
        "batch_sizes": batches,
        "modes": modes,
        "results": {},
    }

    try:
        import torch
        import torch.nn.functional as F
        import torchvision
    except Exception as e:  # ImportError, or a broken install raising something else
        res["error"] = "PyTorch not importable (%s: %s)" % (type(e).__name__, e)
        emit(res, args.out)
        return 3
    res["torch"] = torch.__version__
    res["torchvision"] = torchvision.__version__
    res["cpu_threads"] = torch.get_num_threads()

    dev = torch.device(args.device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            res["error"] = "CUDA not available to PyTorch %s (torch.version.cuda=%s)" % (torch.__version__, torch.version.cuda)
            emit(res, args.out)
            return 3
        res["gpu"] = torch.cuda.get_device_name(dev)
        cap = torch.cuda.get_device_capability(dev)
        res["capability"] = "%d.%d" % cap
        res["gpu_memory_gib"] = round(torch.cuda.get_device_properties(dev).total_memory / 2**30, 1)
        res["cuda"] = torch.version.cuda
        res["cudnn"] = torch.backends.cudnn.version()
        torch.backends.cudnn.benchmark = True
        res["cudnn_benchmark"] = True
        res["cudnn_allow_tf32"] = bool(torch.backends.cudnn.allow_tf32)
        res["matmul_allow_tf32"] = bool(torch.backends.cuda.matmul.allow_tf32)
    else:
        res["gpu"] = None
        res["cpu"] = platform.processor() or platform.machine()

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    try:
        model = torchvision.models.mobilenet_v2(weights=None).eval().to(dev)
    except Exception as e:
        res["error"] = "model setup failed (%s: %s)" % (type(e).__name__, e)
        emit(res, args.out)
        return 3

    def embed(x):
        f = model.features(x)
        f = torch.flatten(F.adaptive_avg_pool2d(f, 1), 1)
        return F.normalize(f.float(), dim=1)

    res["ok"] = True
    for mode in modes:
        res["results"][mode] = {}
        for b in batches:
            if args.budget_s is not None and time.perf_counter() - t_start > args.budget_s:
                res["results"][mode][str(b)] = {"error": "skipped: time budget spent"}
                continue
            try:
                if mode not in ("fp32", "bf16", "fp32_host"):
                    raise ValueError("unknown mode %r" % mode)
                x_host = torch.randn(b, 3, 224, 224)
                x_dev = x_host.to(dev)

                def step():
                    if mode == "fp32_host":
                        return embed(x_host.to(dev)).cpu()
                    if mode == "bf16":
                        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16):
                            return embed(x_dev)
                    return embed(x_dev)

                with torch.inference_mode():
                    step()  # cuDNN autotuning for this shape
                    sync()
                    t = time.perf_counter()
                    for _ in range(max(1, args.warmup)):
                        step()
                    sync()
                    per = (time.perf_counter() - t) / max(1, args.warmup)
                    k = max(3, int(math.ceil(args.trial_s / max(per, 1e-6))))
                    best = 0.0
                    for _ in range(max(1, args.trials)):
                        sync()
                        t = time.perf_counter()
                        for _ in range(k):
                            out = step()
                        sync()
                        dt = time.perf_counter() - t
                        best = max(best, k * b / dt)
                    if out.shape != (b, 1280) or not bool(torch.isfinite(out.float()).all()):
                        raise RuntimeError("bad output %s" % (tuple(out.shape),))
                res["results"][mode][str(b)] = {"img_s": round(best, 1), "ms_per_batch": round(1000.0 * b / best, 2), "runs": k}
                print("[torch] %s batch %d: %.1f img/s" % (mode, b, best), file=sys.stderr, flush=True)
            except Exception as e:
                msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                res["results"][mode][str(b)] = {"error": "%s: %s" % (type(e).__name__, msg)}
                print("[torch] %s batch %d failed: %s" % (mode, b, msg), file=sys.stderr, flush=True)
                if dev.type == "cuda":
                    torch.cuda.empty_cache()
    res["seconds"] = round(time.perf_counter() - t_start, 1)
    emit(res, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
