#!/usr/bin/env python3
"""aiconfigurator's own estimate of ONE decode (generation) step, as a reference grid.

Runs NVIDIA's aiconfigurator-core estimator (PyPI `aiconfigurator-core`, Apache-2.0) through its
public Python API and writes, for every grid point, the latency of one decode step and that
latency split into op classes. Nothing here re-implements the estimator: the step total is
aiconfigurator's own `run_static(mode="static_gen")` answer and every per-op value comes from its
compiled engine (`EngineHandle.evaluate_ops_json` on the op list its model builder emitted).
Run on demand, never by `make run` / `make test` (the full grid takes ~10 s on 2 cores):

    python3 -m venv /tmp/aicvenv && /tmp/aicvenv/bin/pip install aiconfigurator-core==0.12.0
    /tmp/aicvenv/bin/python tools/aiconfigurator/reference_grid.py            # full grid
    /tmp/aicvenv/bin/python tools/aiconfigurator/reference_grid.py --quick    # smoke test (-quick files)
    /tmp/aicvenv/bin/python tools/aiconfigurator/reference_grid.py --ignore-memory
        # also keep points that fail aiconfigurator's memory check (-ignore-memory files)

Progress, skipped points and the estimator's refusals go to stderr. The script asserts, for every
point, that its per-op sum equals the engine's own decode step (`EngineHandle.decode_step_per_op`)
and that aiconfigurator's `run_static` total equals step_ms * (L + k - 1) / L.

The package ships the measured per-op tables and the model configs used here; it needs no network
(Mixtral-8x7B is read from the config.json the package ships, through a temporary local model
directory, because its HF id is not in the package's offline list).

Outputs (experiments/035-kernel-crosscheck/):
  aiconfigurator-reference.csv       one row per grid point:
      system,framework,version,model,tp,ep,batch,context,query_tokens,step_ms,
      gemm_ms,attention_ms,moe_ms,communication_ms,other_ms,draft_ms
  aiconfigurator-reference-ops.csv   the same points, one row per op (op name, class, latency,
                                     whether it is counted in step_ms -- see "overlap" below)
  aiconfigurator-reference-meta.json per configuration: model path, parallel mapping, dtypes,
                                     layer count, the exact op list (aiconfigurator's OpSpec JSON:
                                     GEMM n/k/dtype, scale_factor = layer count, ...), skipped
                                     points with aiconfigurator's reason.

Conventions
  context       tokens already in each sequence's KV cache. aiconfigurator prices a decode step at
                sequence length s = context + 1 (`decode_step_per_op(batch, isl=context, osl=1)`
                and `run_static(isl=context, osl=2, mode="static_gen")` both give s = isl + 1).
  batch         sequences per attention rank. For the attention-data-parallel DeepSeek-V3 row
                (tp=1, ep=8) that is per DP rank: 8*batch sequences in flight, and the MoE sees
                8*batch tokens.
  tp, ep        tp = attention tensor-parallel size, ep = MoE expert-parallel size. The MoE
                tensor-parallel size is (GPUs)/ep. Dense models: ep = 1.
  query_tokens  k tokens per sequence in the forward. k > 1 uses aiconfigurator's MTP path
                (ModelConfig.nextn = k-1, `config_builders.apply_nextn`). That path does two things
                (the Rust engine's `Engine::decode_step_latency`, source repo
                aic-core/rust/aiconfigurator-core/src/engine/runtime.rs; sdk/models/llama.py,
                deepseek.py): (1) every generation op is
                evaluated at batch*(nextn+1) "sequences", each with ONE query token and the same
                KV length s -- i.e. the target forward over k tokens per sequence, with attention
                priced as batch*k independent single-query decodes; (2) every generation op's
                scale_factor is multiplied by (L+nextn)/L (`helpers.mtp_scale_factor`) -- nextn
                extra decoder layers (plus nextn/L extra embedding+logits) for the draft module.
                step_ms here is the TARGET forward only: the op list evaluated at batch*k with the
                nextn=0 model (identical shapes). draft_ms = aiconfigurator's MTP step total minus
                step_ms (= step_ms * nextn/L); the script asserts both identities.
  overlap       DeepSeek-V3's MoE block is an OverlapOp: latency = max(routed path, shared-expert
                path). Per-class columns count only the longer group (the other is written to
                the ops file with counted=0), so the class columns add up to step_ms.
  fallback      DeepSeek-V3's MLA block is a FallbackOp (MLA-module table first, granular ops
                otherwise). On h200_sxm/sglang 0.5.14 there is no module table, so the granular
                ops are priced; the script reports whichever path the engine took.

Op classes (aiconfigurator OpSpec kind -> column)
  gemm_ms           Gemm: qkv, attention output (proj), gate+up (gate_ffn1), down (ffn2), logits
                    (bf16, n = vocab/tp), MoE router, DeepSeek downscale (q_a+kv_a), q_b_proj,
                    shared-expert gate_up / ffn2.
  attention_ms      GenerationAttention (GQA decode), GenerationMla, MlaBmm (absorbed MLA
                    pre/post batched matmuls), MlaModuleGeneration, WideEpGenerationMla.
  moe_ms            Moe (fused routed-expert kernel), MoeExpertCompute.
  communication_ms  CustomAllReduce, Nccl, P2P, MoeDispatch (sglang: all-reduce, or all-gather /
                    reduce-scatter with attention DP), MoeAllToAll.
  other_ms          Embedding, Elementwise (add+RMSNorm x2 per layer, SiLU*gate activation,
                    MLA rope/kv-write where present), anything else.

Grid (each point is checked with aiconfigurator's own memory check, `InferenceSummary.check_oom`
(weights + KV for context+2 tokens + activations + NCCL/other reserves >= GPU capacity) and
`check_kv_cache_oom` (the framework's KV-pool budget); points that fail are skipped, printed and
listed in the meta file. Mixtral-8x7B TP1 on h100_sxm never fits: 86.7 GiB of bf16 weights):
  h100_sxm, h200_sxm / sglang 0.5.14: Llama-3.1-8B TP1, Llama-3.1-70B TP4 and TP8, Mixtral-8x7B
      TP1 (MoE TP1) and TP2 (MoE TP2); batch 1..512 (powers of 2); context 128..32768; k = 1.
  h200_sxm / sglang 0.5.14 also: DeepSeek-V3 "TP8" (tp8, moe_tp8, ep1), "EP8" (attention tp8,
      moe_tp1, ep8) and "DEP8" (attention dp8, moe_tp1, ep8); fused-MoE path (no DeepEP /
      moe_comm_backend), aiconfigurator's default dtypes for the checkpoint.
  dtypes (aiconfigurator's defaults, recorded per configuration in the meta file): Llama-3.1 and
      Mixtral: GEMM bfloat16, MoE bfloat16, KV cache bfloat16, FMHA bfloat16. DeepSeek-V3: GEMM
      fp8_block, MoE fp8_block, KV cache fp8, FMHA fp8, MLA BMMs fp8. Every model: logits and MoE
      router GEMMs bfloat16, all-reduce payload half precision.
  Llama-3.1-8B TP1, h100_sxm and h200_sxm, sglang 0.5.14: k = 1..8, batch 1..256, context 2048
      and 8192.
  Llama-3.1-8B TP1, h100_sxm, vllm 0.24.0 and trtllm 1.3.0rc20 (the newest trtllm directory with
      GEMM/attention tables; 1.3.0rc23 only adds MoE/MSA/sparse-attention tables and gives the
      same Llama numbers): batch 1..512, context 2048, k = 1.
"""

import argparse
import csv
import json
import math
import os
import shutil
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "experiments", "035-kernel-crosscheck")
EXPECTED_VERSION = "0.12.0"

COLUMNS = [
    "system", "framework", "version", "model", "tp", "ep", "batch", "context", "query_tokens",
    "step_ms", "gemm_ms", "attention_ms", "moe_ms", "communication_ms", "other_ms", "draft_ms",
]
OP_COLUMNS = [
    "system", "framework", "version", "model", "tp", "ep", "batch", "context", "query_tokens",
    "op", "kind", "class", "latency_ms", "counted", "source",
]

CLASS_OF_KIND = {
    "Gemm": "gemm",
    "GenerationAttention": "attention",
    "GenerationMla": "attention",
    "MlaBmm": "attention",
    "MlaModuleGeneration": "attention",
    "WideEpGenerationMla": "attention",
    "Moe": "moe",
    "MoeExpertCompute": "moe",
    "CustomAllReduce": "communication",
    "Nccl": "communication",
    "P2P": "communication",
    "MoeDispatch": "communication",
    "MoeAllToAll": "communication",
    "Embedding": "other",
    "Elementwise": "other",
}
CLASSES = ["gemm", "attention", "moe", "communication", "other"]

POW2 = lambda lo, hi: [2 ** i for i in range(int(math.log2(lo)), int(math.log2(hi)) + 1)]
BATCHES = POW2(1, 512)
CONTEXTS = [128, 512, 2048, 8192, 32768]

MIXTRAL_CFG = "mistralai--Mixtral-8x7B-v0.1_config.json"

# label -> (model path, shipped-config file for a local directory or None)
MODELS = {
    "Llama-3.1-8B": ("meta-llama/Meta-Llama-3.1-8B", None),
    "Llama-3.1-70B": ("meta-llama/Meta-Llama-3.1-70B", None),
    "Mixtral-8x7B": (None, MIXTRAL_CFG),
    "DeepSeek-V3": ("deepseek-ai/DeepSeek-V3", None),
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def jobs(quick):
    """(system, framework, version, model label, tp, attn_dp, moe_tp, moe_ep, batches, contexts, ks)."""
    out = []
    for system in ("h100_sxm", "h200_sxm"):
        dense = [("Llama-3.1-8B", 1), ("Llama-3.1-70B", 4), ("Llama-3.1-70B", 8)]
        for label, tp in dense:
            out.append((system, "sglang", "0.5.14", label, tp, 1, 1, 1, BATCHES, CONTEXTS, [1]))
        for tp in (1, 2):
            out.append((system, "sglang", "0.5.14", "Mixtral-8x7B", tp, 1, tp, 1, BATCHES, CONTEXTS, [1]))
        if system == "h200_sxm":
            out.append((system, "sglang", "0.5.14", "DeepSeek-V3", 8, 1, 8, 1, BATCHES, CONTEXTS, [1]))
            out.append((system, "sglang", "0.5.14", "DeepSeek-V3", 8, 1, 1, 8, BATCHES, CONTEXTS, [1]))
            out.append((system, "sglang", "0.5.14", "DeepSeek-V3", 1, 8, 1, 8, BATCHES, CONTEXTS, [1]))
        out.append((system, "sglang", "0.5.14", "Llama-3.1-8B", 1, 1, 1, 1,
                    POW2(1, 256), [2048, 8192], list(range(1, 9))))
    for framework, version in (("vllm", "0.24.0"), ("trtllm", "1.3.0rc20")):
        out.append(("h100_sxm", framework, version, "Llama-3.1-8B", 1, 1, 1, 1, BATCHES, [2048], [1]))
    if quick:
        keep = []
        for j in out:
            sysn, fw, ver, label, tp, dp, mtp, mep, bs, cs, ks = j
            if (label == "Llama-3.1-8B" and fw == "sglang" and sysn == "h100_sxm") or label == "DeepSeek-V3":
                keep.append((sysn, fw, ver, label, tp, dp, mtp, mep, [1, 16, 64, 256],
                             [c for c in cs if c == 2048], [k for k in ks if k in (1, 2, 4, 8)]))
        out = keep
    return out


class Estimator:
    """aiconfigurator objects for one (system, framework, version, model, parallel, nextn)."""

    def __init__(self, api, system, framework, version, model_path, tp, dp, moe_tp, moe_ep, nextn):
        self.api = api
        mc = api.build_model_config(tp_size=tp, pp_size=1, attention_dp_size=dp,
                                    moe_tp_size=moe_tp, moe_ep_size=moe_ep)
        api.apply_nextn(mc, nextn)
        self.model = api.get_model(model_path, mc, framework)
        self.database = api.get_database(system, framework, version)
        if self.database is None:
            raise RuntimeError(f"no perf database for {system}/{framework}/{version}")
        self.systems_path = getattr(self.database, "systems_root", None)
        spec_json = api.build_engine_spec_json(
            self.model, model_path=model_path, system=system, backend=framework,
            backend_version=version, kv_block_size=None, systems_path=self.systems_path,
            nextn=nextn, database=self.database)
        self.spec = json.loads(spec_json)
        self.handle = api.EngineHandle(api.engine_spec_bincode_from_json(spec_json),
                                       systems_path=self.systems_path)
        self.backend = api.get_backend(framework)
        self.nextn = nextn

    def describe(self):
        c = self.model.config
        return {
            "layers": int(self.model._num_layers),
            "gemm_dtype": c.gemm_quant_mode.name,
            "moe_dtype": c.moe_quant_mode.name,
            "kv_cache_dtype": c.kvcache_quant_mode.name,
            "fmha_dtype": c.fmha_quant_mode.name,
            "comm_dtype": c.comm_quant_mode.name,
            "tp_size": c.tp_size, "attention_dp_size": c.attention_dp_size,
            "moe_tp_size": c.moe_tp_size, "moe_ep_size": c.moe_ep_size,
            "workload_distribution": c.workload_distribution,
            "perf_database_version": self.database.version,
            "generation_ops": self.spec["generation_ops"],
        }

    def static_gen(self, batch, context):
        """aiconfigurator's own one-step decode run + memory check: (step_ms, oom reason or None)."""
        rc = self.api.RuntimeConfig(batch_size=batch, isl=context, osl=2)
        summary = self.backend.run_static(self.model, self.database, rc, mode="static_gen")
        step = sum(summary.get_generation_latency_dict().values())
        mem = summary.get_memory()
        reason = None
        if summary.check_oom():
            reason = "OOM: footprint %.1f GiB >= capacity %.1f GiB (weights %.1f, kv %.1f)" % (
                mem["total"], self.database.system_spec["gpu"]["mem_capacity"] / 2 ** 30,
                mem["weights"], mem["kvcache"])
        elif summary.check_kv_cache_oom():
            reason = "KV budget: kv %.1f GiB exceeds the framework's KV pool (total %.1f GiB, weights %.1f)" % (
                mem["kvcache"], mem["total"], mem["weights"])
        return step, reason

    def evaluate(self, op, batch, s):
        r = self.handle.evaluate_ops_json(json.dumps([op]), is_context=False, batch_size=batch, s=s)
        return r[0][1], r[0][3]

    def leaves(self, batch, s):
        """[(op name, kind, class, latency_ms, counted, source)] for every priced leaf op."""
        out = []

        def walk(op, counted):
            (kind, body), = op.items()
            if kind == "Overlap":
                groups = []
                for g in ("group_a", "group_b"):
                    part = []
                    for inner in body[g]:
                        walk_into(inner, part)
                    groups.append(part)
                sums = [sum(x[3] for x in part) for part in groups]
                win = 0 if sums[0] >= sums[1] else 1
                for i, part in enumerate(groups):
                    out.extend((n, k, c, lat, counted and i == win, src) for n, k, c, lat, _, src in part)
                return
            if kind == "Fallback":
                start = len(out)
                try:
                    walk(body["primary"], counted)
                except Exception:  # primary table missing -> the engine sums the fallback chain
                    del out[start:]
                    for inner in body["fallback"]:
                        walk(inner, counted)
                return
            lat, src = self.evaluate(op, batch, s)
            out.append((body["name"], kind, CLASS_OF_KIND.get(kind, "other"), lat, counted, src))

        def walk_into(op, part):
            start = len(out)
            walk(op, True)
            part.extend(out[start:])
            del out[start:]

        for op in self.spec["generation_ops"]:
            walk(op, True)
        return out


def load_api():
    import aiconfigurator_core
    from aiconfigurator_core.sdk.backends.factory import get_backend
    from aiconfigurator_core.sdk.config import RuntimeConfig
    from aiconfigurator_core.sdk.config_builders import apply_nextn, build_model_config
    from aiconfigurator_core.sdk.engine import EngineHandle, build_engine_spec_json
    from aiconfigurator_core.sdk.models import get_model
    from aiconfigurator_core.sdk.perf_database import get_database

    class Api:
        pass

    api = Api()
    api.get_backend, api.RuntimeConfig = get_backend, RuntimeConfig
    api.apply_nextn, api.build_model_config = apply_nextn, build_model_config
    api.EngineHandle, api.build_engine_spec_json = EngineHandle, build_engine_spec_json
    api.get_model, api.get_database = get_model, get_database
    api.engine_spec_bincode_from_json = aiconfigurator_core.engine_spec_bincode_from_json
    try:
        from importlib.metadata import version
        api.version = version("aiconfigurator-core")
    except Exception:
        api.version = "unknown"
    api.package_dir = os.path.dirname(aiconfigurator_core.__file__)
    return api


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=OUT_DIR)
    ap.add_argument("--quick", action="store_true", help="small subset (smoke test)")
    ap.add_argument("--ignore-memory", action="store_true",
                    help="keep points that fail aiconfigurator's memory check (files get an -ignore-memory suffix)")
    args = ap.parse_args()

    api = load_api()
    if api.version != EXPECTED_VERSION:
        log(f"warning: aiconfigurator-core {api.version} installed, this grid was written for {EXPECTED_VERSION}")
    tmp = tempfile.mkdtemp(prefix="aic-models-")
    model_paths = {}
    for label, (path, shipped) in MODELS.items():
        if shipped:
            d = os.path.join(tmp, label)
            os.makedirs(d)
            shutil.copy(os.path.join(api.package_dir, "model_configs", shipped), os.path.join(d, "config.json"))
            path = d
        model_paths[label] = path

    os.makedirs(args.out_dir, exist_ok=True)
    suffix = ("-quick" if args.quick else "") + ("-ignore-memory" if args.ignore_memory else "")
    csv_path = os.path.join(args.out_dir, f"aiconfigurator-reference{suffix}.csv")
    ops_path = os.path.join(args.out_dir, f"aiconfigurator-reference-ops{suffix}.csv")
    meta_path = os.path.join(args.out_dir, f"aiconfigurator-reference-meta{suffix}.json")

    rows, op_rows, seen = [], [], set()
    meta = {"aiconfigurator_core_version": api.version, "generated_by": "tools/aiconfigurator/reference_grid.py",
            "configs": []}
    t0 = time.time()
    job_list = jobs(args.quick)
    for ji, (system, fw, ver, label, tp, dp, moe_tp, moe_ep, batches, contexts, ks) in enumerate(job_list):
        ep = moe_ep
        tag = f"{system} {fw} {ver} {label} tp{tp} dp{dp} moe_tp{moe_tp} ep{moe_ep}"
        log(f"[{ji + 1}/{len(job_list)}] {tag}  ({time.time() - t0:.0f}s)")
        cfg_meta = {"system": system, "framework": fw, "version": ver, "model": label,
                    "model_path": MODELS[label][0] or f"<package>/model_configs/{MODELS[label][1]}",
                    "tp": tp, "attention_dp": dp, "moe_tp": moe_tp, "ep": moe_ep,
                    "query_tokens": ks, "skipped": []}
        meta["configs"].append(cfg_meta)
        try:
            base = Estimator(api, system, fw, ver, model_paths[label], tp, dp, moe_tp, moe_ep, 0)
        except Exception as exc:  # the estimator refuses the whole configuration
            log(f"  SKIP configuration: {type(exc).__name__}: {exc}")
            cfg_meta["skipped"].append({"all": True, "reason": f"{type(exc).__name__}: {exc}"})
            continue
        cfg_meta.update(base.describe())
        L = cfg_meta["layers"]
        for k in ks:
            est = base if k == 1 else Estimator(api, system, fw, ver, model_paths[label], tp, dp, moe_tp, moe_ep, k - 1)
            for context in contexts:
                for batch in batches:
                    key = (system, fw, ver, label, tp, ep, batch, context, k)
                    if key in seen:
                        continue
                    seen.add(key)
                    point = dict(batch=batch, context=context, query_tokens=k)
                    try:
                        total, reason = est.static_gen(batch, context)
                        if reason:
                            cfg_meta["skipped"].append({**point, "reason": reason, "kept": args.ignore_memory})
                            if not args.ignore_memory:
                                log(f"  skip batch={batch} context={context} k={k}: {reason}")
                                continue
                        leaves = base.leaves(batch * k, context + 1)
                        target = sum(x[3] for x in leaves if x[4])
                        check = sum(v[1] for v in base.handle.decode_step_per_op(batch * k, context, 1))
                    except Exception as exc:
                        msg = f"{type(exc).__name__}: {str(exc)[:300]}"
                        log(f"  skip batch={batch} context={context} k={k}: estimator refused: {msg}")
                        cfg_meta["skipped"].append({**point, "reason": msg})
                        continue
                    if not math.isclose(target, check, rel_tol=1e-6, abs_tol=1e-9):
                        raise SystemExit(f"per-op sum {target} != engine decode step {check} at {key}")
                    expect_total = target * (L + k - 1) / L
                    if not math.isclose(total, expect_total, rel_tol=1e-6, abs_tol=1e-9):
                        raise SystemExit(f"MTP total {total} != target*(L+n)/L {expect_total} at {key}")
                    by_class = {c: 0.0 for c in CLASSES}
                    for name, kind, cls, lat, counted, src in leaves:
                        if counted:
                            by_class[cls] += lat
                        op_rows.append([system, fw, ver, label, tp, ep, batch, context, k,
                                        name, kind, cls, f"{lat:.6g}", int(counted), src])
                    draft = total - target
                    if abs(draft) < 1e-9 * max(total, 1.0):
                        draft = 0.0
                    rows.append([system, fw, ver, label, tp, ep, batch, context, k, f"{target:.6g}"]
                                + [f"{by_class[c]:.6g}" for c in CLASSES] + [f"{draft:.6g}"])
        log(f"  {len(rows)} rows so far")

    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
    with open(ops_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(OP_COLUMNS)
        w.writerows(op_rows)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"wrote {len(rows)} rows to {csv_path}, {len(op_rows)} op rows to {ops_path}, "
        f"meta to {meta_path} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
