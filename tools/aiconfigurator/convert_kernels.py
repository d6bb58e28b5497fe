#!/usr/bin/env python3
"""Measured GPU kernels -> SpecLab kernel tables (JSON), with provenance and fit errors.

Reads the per-operation latencies that NVIDIA's aiconfigurator-core (PyPI, Apache-2.0)
ships as parquet files under aiconfigurator_core/systems/data/<gpu>/<op>/<framework>/<version>/,
and writes one compact JSON per (GPU, framework) to Sources/Analytic/Resources/kernels/,
which the engine reads (Analytic's KernelDatabase). Run on demand, never by `make run` or
`make test`:

    python3 -m venv /tmp/aicvenv && /tmp/aicvenv/bin/pip install aiconfigurator-core==0.12.0
    /tmp/aicvenv/bin/python tools/aiconfigurator/convert_kernels.py            # all GPUs
    /tmp/aicvenv/bin/python tools/aiconfigurator/convert_kernels.py --gpu h100_sxm --framework sglang

Every table is a grid of latencies over named axes; the engine interpolates it
multilinearly in log(axis) and log(latency) (power laws between knots), clamps below the
first knot and extends above the last with the last segment's log slope limited to [0, 1].
The converter fits the knot values to every measured point (least squares in log latency,
then pool-adjacent-violators so latency never falls as size grows) and records, per table,
the relative error of the fitted table at every measured point it was fitted to (median, 90th
percentile, max). It also writes Tests/Fixtures/kernel-points.csv: a few hundred measured
points, with the table each belongs to, which the tests reproduce within the stated error.

Tables (latency in microseconds):
  gemm[dtype]            rows M x outputs N x inputs K         (one GEMM, dense projection)
  attention[kvdtype]     per KV-head count: query heads x batch x KV tokens (head dim 128;
                         decode kernel, one query per sequence; the engine packs k queries per
                         sequence into the query-head axis, as FlashAttention-3's PackGQA and
                         FlashInfer's batch decode with multiple queries do)
  contextAttention[kv]   per KV-head count: query heads x input tokens x batch (prefill kernel, causal)
  mla[kvdtype]           query heads per device x batch x KV tokens (absorbed MLA decode)
  mlaBmm.pre/.post       tokens x heads (the absorbed-weight batched products of MLA decode)
  moe                    per expert shape, dtype, split and routing: tokens
  allReduce              per device count: message elements (16-bit values)
  allToAll               per device count: message bytes per device (expert-parallel dispatch+combine)
"""

import argparse
import datetime
import glob
import json
import math
import os
import sys

import numpy as np
import pandas as pd

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "Sources", "Analytic", "Resources", "kernels")
FIXTURE = os.path.join(REPO, "Tests", "Fixtures", "kernel-points.csv")

# SpecLab hardware preset name for each aiconfigurator system.
GPUS = {"a100_sxm": "a100-80gb", "h100_sxm": "h100-sxm", "h200_sxm": "h200", "b200_sxm": "b200"}
FRAMEWORKS = ["sglang", "vllm", "trtllm"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def version_key(v):
    parts = []
    for p in v.replace("rc", ".").replace("post", ".").replace("dev", ".").split("."):
        parts.append(int(p) if p.isdigit() else 0)
    return parts


def newest(paths):
    return max(paths, key=lambda p: version_key(os.path.basename(os.path.dirname(p))))


# ---------------------------------------------------------------- fitting helpers

def pava(values):
    """Non-decreasing least-squares fit of a 1-D sequence (pool adjacent violators)."""
    blocks = []  # [mean, weight, count]
    for v in values:
        blocks.append([v, 1.0, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            w = w1 + w2
            blocks.append([(m1 * w1 + m2 * w2) / w, w, c1 + c2])
    out = []
    for m, _, c in blocks:
        out.extend([m] * c)
    return np.array(out)


def despike(values):
    """A 1-D log-latency series with isolated spikes (one point more than twice both neighbours, e.g. a
    10x outlier at one message size) replaced by the mean of its neighbours, so that the monotone fit
    does not spread one bad measurement over the sizes after it."""
    v = np.array(values, float)
    for i in range(1, len(v) - 1):
        if v[i] - max(v[i - 1], v[i + 1]) > math.log(2):
            v[i] = 0.5 * (v[i - 1] + v[i + 1])
    return v


def monotone(grid, axes):
    """Make a log-latency grid non-decreasing along the given axes (alternating PAVA passes)."""
    grid = grid.copy()
    for _ in range(3):
        for ax in axes:
            grid = np.apply_along_axis(pava, ax, grid)
    return grid


def hat_weights(knots_log, x_log):
    """Indices and weights of the two knots around each x (clamped), for multilinear fits."""
    n = len(knots_log)
    idx = np.clip(np.searchsorted(knots_log, x_log, side="right") - 1, 0, n - 2)
    lo, hi = knots_log[idx], knots_log[idx + 1]
    t = np.clip((x_log - lo) / (hi - lo), 0.0, 1.0)
    return idx, t


def fit_grid(knots, points, latency, smooth=1e-3):
    """Least-squares log-latency grid over log axes from scattered points (multilinear hat basis),
    with a small second-difference penalty along every axis so cells without data follow their
    neighbours. `knots`: one array per axis; `points`: one array of coordinates per axis."""
    from itertools import product
    from scipy.sparse import coo_matrix, vstack
    from scipy.sparse.linalg import lsqr
    logk = [np.log(np.asarray(k, float)) for k in knots]
    shape = [len(k) for k in logk]
    strides = np.cumprod([1] + shape[::-1][:-1])[::-1]
    n = len(latency)
    where = [hat_weights(k, np.log(np.asarray(x, float))) for k, x in zip(logk, points)]
    rows, cols, vals = [], [], []
    for corner in product((0, 1), repeat=len(knots)):
        col = np.zeros(n, dtype=np.int64)
        weight = np.ones(n)
        for axis, bit in enumerate(corner):
            idx, t = where[axis]
            col += (idx + bit) * strides[axis]
            weight *= t if bit else 1 - t
        rows.append(np.arange(n)); cols.append(col); vals.append(weight)
    A = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, int(np.prod(shape))))
    pr, pc, pv, r = [], [], [], 0
    for cell in np.ndindex(*shape):
        base = int(np.dot(cell, strides))
        for axis in range(len(shape)):
            if 0 < cell[axis] < shape[axis] - 1:
                s = int(strides[axis])
                pr += [r] * 3; pc += [base - s, base, base + s]; pv += [1.0, -2.0, 1.0]; r += 1
    P = coo_matrix((np.array(pv) * math.sqrt(smooth * n), (pr, pc)), shape=(r, A.shape[1]))
    y = np.log(np.asarray(latency, float))
    sol = lsqr(vstack([A, P]).tocsr(), np.concatenate([y, np.zeros(r)]), atol=1e-12, btol=1e-12, iter_lim=50000)[0]
    return sol.reshape(shape)


def interp_log(grid_log, knots, point):
    """Multilinear interpolation of a log-latency grid at one point (same rules as the engine)."""
    # Recursive over axes; below-range clamp, above-range slope limited to [0, 1].
    if not knots:
        return float(grid_log)
    k = np.log(knots[0])
    x = math.log(point[0])
    n = len(k)
    if n == 1:
        return interp_log(grid_log[0], knots[1:], point[1:])
    if x <= k[0]:
        return interp_log(grid_log[0], knots[1:], point[1:])
    if x >= k[-1]:
        y1 = interp_log(grid_log[n - 1], knots[1:], point[1:])
        y0 = interp_log(grid_log[n - 2], knots[1:], point[1:])
        slope = min(1.0, max(0.0, (y1 - y0) / (k[-1] - k[-2])))
        return y1 + slope * (x - k[-1])
    i = int(np.searchsorted(k, x, side="right") - 1)
    t = (x - k[i]) / (k[i + 1] - k[i])
    y0 = interp_log(grid_log[i], knots[1:], point[1:])
    y1 = interp_log(grid_log[i + 1], knots[1:], point[1:])
    return y0 + t * (y1 - y0)


def errors(pred, meas):
    rel = np.abs(np.asarray(pred) / np.asarray(meas) - 1)
    return {"points": int(len(rel)), "medianRelativeError": round(float(np.median(rel)), 4),
            "p90RelativeError": round(float(np.percentile(rel, 90)), 4), "maxRelativeError": round(float(rel.max()), 4)}


def table(axes, knots, grid_log, err, source, note=None):
    t = {"axes": axes, "knots": [[float(v) for v in k] for k in knots],
         "microseconds": [float("%.5g" % (math.exp(v) * 1000.0)) for v in np.asarray(grid_log).ravel()],
         "fit": err, "source": source}
    if note:
        t["note"] = note
    return t


def rel(path, data_root):
    return os.path.relpath(path, data_root)


# ---------------------------------------------------------------- GEMM

GEMM_ROWS = [1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 8192, 16384, 32768]
GEMM_DTYPES = {"bfloat16": "bf16", "fp8": "fp8", "fp8_block": "fp8Block"}


def convert_gemm(path, data_root, fixture):
    df = pd.read_parquet(path)
    out = {}
    for dtype, name in GEMM_DTYPES.items():
        d = df[df.gemm_dtype == dtype]
        if d.empty:
            continue
        # one kernel per dtype; if several, keep the fastest measurement per shape (what a tuned stack picks)
        d = d.groupby(["m", "n", "k"], as_index=False).latency.min()
        rows = np.array([r for r in GEMM_ROWS if r <= d.m.max()], float)
        n_knots = np.array([2.0 ** e for e in range(int(math.log2(d.n.min())), int(math.ceil(math.log2(d.n.max()))) + 1)])
        k_knots = np.array([2.0 ** e for e in range(int(math.log2(d.k.min())), int(math.ceil(math.log2(d.k.max()))) + 1)])
        knots = [rows, n_knots, k_knots]
        grid = fit_grid(knots, [d.m.values, d.n.values, d.k.values], d.latency.values, smooth=1e-5)
        grid = monotone(grid, [0, 1, 2])
        pred = [math.exp(interp_log(grid, knots, (m, n, k))) for m, n, k in zip(d.m.values, d.n.values, d.k.values)]
        err = errors(pred, d.latency.values)
        out[name] = table(["rows", "outputs", "inputs"], knots, grid, err, rel(path, data_root))
        sample = d.sample(n=min(8, len(d)), random_state=1)
        for _, r in sample.iterrows():
            fixture.append(("gemm." + name, "rows=%d;n=%d;k=%d" % (r.m, r.n, r.k), r.latency * 1000))
        log("  gemm %-9s %6d points, fit median %.1f%% p90 %.1f%%" % (name, err["points"], 100 * err["medianRelativeError"], 100 * err["p90RelativeError"]))
    return out


# ---------------------------------------------------------------- attention (decode kernel)

def extend_nan(grid_log, last_axis_knots):
    g = grid_log.copy()
    lk = np.log(last_axis_knots)
    flat = g.reshape(-1, g.shape[-1])
    for row in flat:
        ok = np.where(~np.isnan(row))[0]
        if len(ok) == 0:
            continue
        first, last = ok[0], ok[-1]
        for j in range(last + 1, len(row)):
            row[j] = row[last] + (lk[j] - lk[last])
        for j in range(0, first):
            row[j] = row[first]
        # interior holes: linear in log
        for j in range(first, last):
            if np.isnan(row[j]):
                nxt = ok[ok > j][0]
                prv = ok[ok < j][-1]
                t = (lk[j] - lk[prv]) / (lk[nxt] - lk[prv])
                row[j] = row[prv] + t * (row[nxt] - row[prv])
    return flat.reshape(g.shape)


def fill_axis_nan(grid_log, axis):
    """Remaining NaNs (whole rows missing) filled by nearest neighbour along `axis`."""
    g = np.moveaxis(grid_log.copy(), axis, -1)
    flat = g.reshape(-1, g.shape[-1])
    for row in flat:
        ok = np.where(~np.isnan(row))[0]
        if len(ok) == 0:
            continue
        for j in range(len(row)):
            if np.isnan(row[j]):
                row[j] = row[ok[np.argmin(np.abs(ok - j))]]
    return np.moveaxis(flat.reshape(g.shape), -1, axis)


def grid_from_exact(d, cols, value="latency"):
    """A dense grid over the distinct values of `cols` (measured points at knots; NaN elsewhere)."""
    knots = [np.array(sorted(d[c].unique()), float) for c in cols]
    grid = np.full([len(k) for k in knots], np.nan)
    idx = [np.searchsorted(k, d[c].values.astype(float)) for k, c in zip(knots, cols)]
    grid[tuple(idx)] = np.log(d[value].values)
    return knots, grid


def measured_grid(frame, columns):
    """A grid at the measured points of `columns` (latency per point), cells the benchmark skipped filled
    (extended along the last axis, then from neighbours along the others) and made non-decreasing."""
    knots, grid = grid_from_exact(frame, columns)
    grid = extend_nan(grid, knots[-1])
    for axis in range(len(columns) - 2, -1, -1):
        grid = fill_axis_nan(grid, axis)
    return knots, monotone(grid, list(range(len(columns))))


def kv_head_slabs(d, columns, axes, path, data_root, fixture, fixture_table, seed):
    """One table per KV-head count over `columns` (named `axes`), with their pooled fit error; one sampled
    measured point per slab goes to the test fixture."""
    slabs, allp, allm = [], [], []
    for kvh, s in d.groupby("num_key_value_heads"):
        knots, grid = measured_grid(s, columns)
        pred = [math.exp(interp_log(grid, knots, p)) for p in zip(*(s[c] for c in columns))]
        allp += pred; allm += list(s.latency.values)
        slabs.append({"parameter": int(kvh), "table": table(axes, knots, grid, errors(pred, s.latency.values), rel(path, data_root))})
        for _, r in s.sample(n=min(1, len(s)), random_state=seed).iterrows():
            point = ";".join("%s=%d" % (a, r[c]) for a, c in zip(axes, columns))
            fixture.append((fixture_table, "kvHeads=%d;%s" % (kvh, point), r.latency * 1000))
    return {"parameterName": "kvHeads", "slabs": slabs, "fit": errors(allp, allm)}


def convert_attention(path, data_root, fixture):
    df = pd.read_parquet(path)
    if "window_size" in df.columns:
        df = df[df.window_size == 0]
    df = df[(df.head_dim == 128) & (df.attn_dtype.isin(["bfloat16", "float16"]))]
    out = {}
    for kvdtype, name in (("bfloat16", "bf16"), ("fp8", "fp8")):
        d = df[df.kv_cache_dtype == kvdtype]
        if d.empty:
            continue
        d = d.assign(kv_tokens=d.step + 1).groupby(
            ["num_key_value_heads", "num_heads", "batch_size", "kv_tokens"], as_index=False).latency.min()
        out[name] = kv_head_slabs(d, ["num_heads", "batch_size", "kv_tokens"], ["queryHeads", "batch", "kvTokens"],
                                  path, data_root, fixture, "attention." + name, seed=2)
        err = out[name]["fit"]
        log("  attention %-4s %6d points, fit median %.1f%% p90 %.1f%%" % (name, err["points"], 100 * err["medianRelativeError"], 100 * err["p90RelativeError"]))
    return out


# ---------------------------------------------------------------- attention (prefill kernel)

def convert_context_attention(path, data_root, fixture):
    """The prefill (context) attention kernel: every sequence's `isl` tokens attend causally to each other,
    nothing cached before. Axes: query heads x input tokens x batch per KV-head slab; cells the benchmark
    skipped (large batch x long input) are extended along batch with slope 1 (independent sequences)."""
    df = pd.read_parquet(path)
    if "window_size" in df.columns:
        df = df[df.window_size == 0]
    df = df[(df.head_dim == 128) & (df.attn_dtype.isin(["bfloat16", "float16"])) & (df.kv_cache_dtype == "bfloat16")]
    if df.empty:
        return None
    d = df.groupby(["num_key_value_heads", "num_heads", "isl", "batch_size"], as_index=False).latency.min()
    family = kv_head_slabs(d, ["num_heads", "isl", "batch_size"], ["queryHeads", "inputTokens", "batch"],
                           path, data_root, fixture, "contextAttention.bf16", seed=4)
    err = family["fit"]
    log("  context attn   %6d points, fit median %.1f%% p90 %.1f%%" % (err["points"], 100 * err["medianRelativeError"], 100 * err["p90RelativeError"]))
    return {"bf16": family}


# ---------------------------------------------------------------- MLA (absorbed decode kernel)

def convert_mla(path, data_root, fixture):
    """num_heads is the query heads per device (128 / tensor-parallel size)."""
    df = pd.read_parquet(path)
    out = {}
    for kvdtype, name in (("bfloat16", "bf16"), ("fp8", "fp8")):
        d = df[df.kv_cache_dtype == kvdtype]
        if d.empty:
            continue
        d = d.assign(kv_tokens=d.step + 1).groupby(["num_heads", "batch_size", "kv_tokens"], as_index=False).latency.min()
        knots, grid = measured_grid(d, ["num_heads", "batch_size", "kv_tokens"])
        pred = [math.exp(interp_log(grid, knots, p)) for p in zip(d.num_heads, d.batch_size, d.kv_tokens)]
        err = errors(pred, d.latency.values)
        out[name] = table(["queryHeads", "batch", "kvTokens"], knots, grid, err, rel(path, data_root))
        for _, r in d.sample(n=min(4, len(d)), random_state=3).iterrows():
            fixture.append(("mla." + name, "queryHeads=%d;batch=%d;kvTokens=%d" % (r.num_heads, r.batch_size, r.kv_tokens), r.latency * 1000))
        log("  mla %-4s       %6d points, fit median %.1f%% p90 %.1f%%" % (name, err["points"], 100 * err["medianRelativeError"], 100 * err["p90RelativeError"]))
    return out


# ---------------------------------------------------------------- MoE (routed experts, fused grouped GEMM)

MOE_DTYPES = {"bfloat16": "bf16", "fp8_block": "fp8Block", "fp8": "fp8"}
SKEW = {"balanced": 0.0, "uniform": 0.0, "power_law_1.01": 1.01, "power_law_1.2": 1.2}


def convert_moe(path, data_root, fixture):
    """One curve over tokens per measured expert shape (hidden, expert FFN, top-k, experts), dtype, split
    (pure tensor parallel or pure expert parallel up to 8 devices) and routing distribution. `tokens` is the
    tokens routed in one step (not multiplied by top-k); under expert parallelism the latency is the most
    loaded rank's."""
    df = pd.read_parquet(path)
    df = df[df.moe_dtype.isin(MOE_DTYPES) & df.distribution.isin(SKEW)]
    df = df[((df.moe_tp_size == 1) | (df.moe_ep_size == 1)) & (df.moe_tp_size * df.moe_ep_size <= 8)]
    keys = ["moe_dtype", "hidden_size", "inter_size", "topk", "num_experts", "moe_tp_size", "moe_ep_size", "distribution"]
    entries, allp, allm = [], [], []
    shared = sorted(df.num_tokens.unique().tolist())
    for key, s in df.groupby(keys):
        s = s.groupby("num_tokens", as_index=False).latency.first()  # the first row of a duplicated key, as measured first
        if len(s) < 2:
            continue
        knots, grid = grid_from_exact(s, ["num_tokens"])
        grid = monotone(grid, [0])
        pred = [math.exp(interp_log(grid, knots, (t,))) for t in s.num_tokens]
        allp += pred; allm += list(s.latency.values)
        dtype, hidden, inter, topk, experts, tp, ep, dist = key
        entry = {"dtype": MOE_DTYPES[dtype], "hidden": int(hidden), "ffnSize": int(inter), "activeExperts": int(topk),
                 "routedExperts": int(experts), "tensorParallel": int(tp), "expertParallel": int(ep),
                 "routingSkew": SKEW[dist],
                 "microseconds": [float("%.5g" % (math.exp(v) * 1000.0)) for v in grid]}
        if [float(t) for t in knots[0]] != [float(t) for t in shared]:
            entry["tokens"] = [float(t) for t in knots[0]]
        entries.append(entry)
        if hidden in (4096, 7168) and dist == "balanced" and tp * ep in (1, 8):
            r = s.iloc[len(s) // 3]
            fixture.append(("moe.%s.%d.%d.%d.%d.%d.%d.%g" % (MOE_DTYPES[dtype], hidden, inter, topk, experts, tp, ep, SKEW[dist]),
                            "tokens=%d" % r.num_tokens, r.latency * 1000))
    if not entries:
        log("  moe            no curves of the measured dtypes and splits")
        return None
    err = errors(allp, allm)
    log("  moe            %6d points in %d curves, fit median %.1f%% p90 %.1f%%" % (err["points"], len(entries), 100 * err["medianRelativeError"], 100 * err["p90RelativeError"]))
    return {"source": rel(path, data_root), "fit": err, "tokens": [float(t) for t in shared], "curves": entries}


# ---------------------------------------------------------------- all-reduce

def convert_allreduce(path, data_root, fixture):
    df = pd.read_parquet(path)
    if "backend" in df.columns and df.backend.str.contains("graph").any():
        df = df[df.backend.str.contains("graph")]  # the CUDA-graph variant serving stacks replay
    slabs, allp, allm = [], [], []
    for g, s in df.groupby("num_gpus"):
        s = s.groupby("message_size", as_index=False).latency.min()
        knots, grid = grid_from_exact(s, ["message_size"])
        grid = monotone(despike(grid), [0])
        pred = [math.exp(interp_log(grid, knots, (m,))) for m in s.message_size]
        allp += pred; allm += list(s.latency.values)
        # message_size counts 16-bit elements (aiconfigurator prices tokens x hidden elements per call).
        # alpha-beta summary: latency of the smallest message; bandwidth (bytes/s) of the largest
        alpha = float(s.latency.values[0]) * 1e-3
        beta = float(s.message_size.values[-1] / (s.latency.values[-1] * 1e-3))
        slabs.append({"parameter": int(g), "alphaSeconds": round(alpha, 9), "betaBytesPerSecond": round(2 * beta, -6),
                      "table": table(["elements"], knots, grid, errors(pred, s.latency.values), rel(path, data_root))})
        for _, r in s.iloc[::8].iterrows():
            fixture.append(("allReduce", "devices=%d;elements=%d" % (g, r.message_size), r.latency * 1000))
    err = errors(allp, allm)
    log("  allReduce      %6d points, fit median %.1f%% p90 %.1f%%" % (err["points"], 100 * err["medianRelativeError"], 100 * err["p90RelativeError"]))
    return {"parameterName": "devices", "slabs": slabs, "fit": err}


# ---------------------------------------------------------------- driver

def convert(system, framework, data_root, fixture):
    base = os.path.join(data_root, system)
    found = {}
    for op, pattern in (("gemm", "gemm/%s/*/gemm_perf.parquet"),
                        ("attention", "attention/%s/*/generation_attention_perf.parquet"),
                        ("contextAttention", "attention/%s/*/context_attention_perf.parquet"),
                        ("mla", "mla/%s/*/generation_mla_perf.parquet"),
                        ("moe", "moe/%s/*/moe_perf.parquet"),
                        ("allReduce", "comm/%s/*/custom_allreduce_perf.parquet")):
        paths = glob.glob(os.path.join(base, pattern % framework))
        if paths:
            found[op] = newest(paths)
    if "gemm" not in found or "attention" not in found:
        log("%s/%s: no gemm or attention data, skipped" % (system, framework))
        return None
    version = os.path.basename(os.path.dirname(found["gemm"]))
    log("%s / %s %s" % (system, framework, version))
    db = {"gpu": GPUS[system], "framework": framework, "version": version,
          "source": {"package": "aiconfigurator-core", "packageVersion": package_version(),
                     "system": system, "converter": "tools/aiconfigurator/convert_kernels.py",
                     "converted": datetime.date.today().isoformat()}}
    db["smallKernels"] = small_kernels(system, data_root)
    db["gemm"] = convert_gemm(found["gemm"], data_root, fixture)
    db["attentionHeadDim"] = 128
    db["attention"] = convert_attention(found["attention"], data_root, fixture)
    optional = (("contextAttention", convert_context_attention), ("mla", convert_mla), ("moe", convert_moe),
                ("allReduce", convert_allreduce))
    for key, converter in optional:
        value = converter(found[key], data_root, fixture) if key in found else None
        if value:
            db[key] = value
    return db


def small_kernels(system, data_root):
    """The system description's constants for memory-bound elementwise kernels."""
    import yaml
    with open(os.path.join(os.path.dirname(data_root), system + ".yaml")) as f:
        gpu = yaml.safe_load(f)["gpu"]
    return {"latencySeconds": float(gpu["mem_empirical_constant_latency"]),
            "bandwidthScaling": float(gpu["mem_bw_empirical_scaling_factor"])}


def package_version():
    try:
        from importlib.metadata import version
        return version("aiconfigurator-core")
    except Exception:
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gpu", action="append", choices=sorted(GPUS), help="aiconfigurator system (repeatable; default all)")
    ap.add_argument("--framework", action="append", choices=FRAMEWORKS, help="serving framework (repeatable; default all)")
    ap.add_argument("--data", help="aiconfigurator_core/systems/data (default: the installed package's)")
    args = ap.parse_args()
    data_root = args.data
    if not data_root:
        try:
            import aiconfigurator_core
        except ImportError:
            sys.exit("convert_kernels: aiconfigurator-core is not installed; run: pip install aiconfigurator-core==0.12.0")
        data_root = os.path.join(os.path.dirname(aiconfigurator_core.__file__), "systems", "data")
    os.makedirs(OUT_DIR, exist_ok=True)
    fixture = []
    for system in args.gpu or sorted(GPUS):
        for framework in args.framework or FRAMEWORKS:
            rows = []
            db = convert(system, framework, data_root, rows)
            if db is None:
                continue
            name = "%s.%s.json" % (GPUS[system], framework)
            tmp = os.path.join(OUT_DIR, "." + name + ".tmp")
            with open(tmp, "w") as f:
                json.dump(db, f, separators=(",", ":"))
                f.write("\n")
            os.replace(tmp, os.path.join(OUT_DIR, name))
            fixture += [(GPUS[system], framework) + r for r in rows]
    tmp = FIXTURE + ".tmp"
    with open(tmp, "w") as f:
        f.write("gpu,framework,table,point,measured_microseconds\n")
        for r in fixture:
            f.write("%s,%s,%s,%s,%.6g\n" % r)
    os.replace(tmp, FIXTURE)
    log("wrote %s and %d fixture points" % (OUT_DIR, len(fixture)))


if __name__ == "__main__":
    main()
