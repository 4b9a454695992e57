#!/usr/bin/env bash
# Issue 7: the SDXL speed benchmark on a lent GPU (the `device` tool), ready to run.
#
# 1. Here, once (needs pip and a package registry; the GPU machine has no network):
#        scripts/gpu_bench.sh prepare
#    downloads the wheels the GPU image lacks (diffusers, pydantic, pydantic-settings
#    and their small needs) for CPython 3.12 / x86-64 into .whl/ (git-ignored; ~8 MiB).
# 2. Through the device tool, one call per stage, each well inside the 10-minute limit:
#        run(command="bash scripts/gpu_bench.sh eager", carry=[".whl"], timeout_s=600)
#        run(command="bash scripts/gpu_bench.sh compile", carry=[".whl"], timeout_s=600)
#        run(command="bash scripts/gpu_bench.sh compile-max", carry=[".whl"], timeout_s=600)
#    eager:       the ladder without compile (classic attention -> SDPA -> fused QKV ->
#                 channels_last), both paths, 5 repeats, plus the host-device sync check;
#    compile:     every switch + torch.compile mode "default" (quick to compile);
#    compile-max: every switch + "max-autotune-no-cudagraphs" (the production default;
#                 may need the inductor cache of an earlier call on the same warm machine);
#    compile-static: as compile, one static graph per shape (the fast path is the second
#                 shape: by default dynamo recompiles it with a dynamic batch dimension);
#    compile-ro:  "reduce-overhead" (CUDA graphs: launch overhead, matters on the fast path).
#    Each writes $OUT/<stage>.log (everything) and $OUT/<stage>.json (the rows); the
#    table is printed last so the reply's output tail holds it.
#
# Issue 16: both families in ONE call (well inside 10 minutes; see speed_notes.md):
#        run(command="bash scripts/gpu_bench.sh all", carry=[".whl"], timeout_s=600)
#    SDXL (quality + fast paths) and FLUX.2 [klein] 4B (4 refs, 4 steps), each eager
#    (every switch but compile) then compiled as the worker compiles (MODE, default
#    "default": quick to compile; MODE=max-autotune-no-cudagraphs is the worker's own
#    default and a second call), 5 repeats after a warm-up; one table last.
#        bash scripts/gpu_bench.sh dry      # here, on a CPU: the same steps, tiny models
#
# Issue 23: a personal model's training, FLUX.2 [klein] 4B LoRA (rank 16) at 512 px:
#        run(command="bash scripts/gpu_bench.sh train", carry=[".whl"], timeout_s=600)
#    the counted floor of one step, then 30 steps of the engine's own training loop
#    (engine/training/loop.py) on the 4B architecture (random weights, bf16); prints ms
#    per step and minutes per 1,000 steps (target: 1,000 steps in at most 5 minutes).
set -uo pipefail
cd "$(dirname "$0")/.."
stage="${1:-}"

WHEELS=(
  "diffusers==0.42.1"
  "pydantic==2.14.3" "pydantic-core==2.50.4" "pydantic-settings==2.16.3"
  "python-dotenv==1.2.4" "typing-inspection==0.4.5" "annotated-types==0.8.0"
  "importlib-metadata==10.2.0"
)

prepare() {
  grep -qx '/.whl/' .git/info/exclude 2>/dev/null || grep -qx '/.whl/' .gitignore \
    || echo '/.whl/' >>.git/info/exclude
  mkdir -p .whl
  local pip=python3
  [ -x .venv/bin/python ] && pip=.venv/bin/python
  for spec in "${WHEELS[@]}"; do
    "$pip" -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux1_x86_64 -q -d .whl "$spec" || exit 1
  done
  du -sh .whl && ls .whl
}

install() {
  ls .whl/*.whl >/dev/null 2>&1 || { echo "no .whl/: run 'scripts/gpu_bench.sh prepare' here and carry .whl"; exit 2; }
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 3
  export PYTHONPATH=/tmp/site
  export PYTHONUNBUFFERED=1 TORCHINDUCTOR_CACHE_DIR=/tmp/inductor-cache
  export SITTER_DATA_DIR=/tmp/sitter-data
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  python3 -c "import torch, diffusers, transformers; print('torch', torch.__version__, \
'cuda', torch.version.cuda, '| diffusers', diffusers.__version__, '| transformers', \
transformers.__version__, '|', torch.cuda.get_device_name())" || exit 4
}

bench() {  # bench NAME ARGS...: one run of bench_speed.py, logged and kept under $OUT
  local name=$1; shift
  local out=${OUT:-/tmp/out}; mkdir -p "$out"
  timeout 570 python3 benchmarks/bench_speed.py --config sdxl --device cuda \
    --json "$out/$name.json" "$@" 2>&1 | tee "$out/$name.log"
}

py() { [ -n "${PYTHON:-}" ] && echo "$PYTHON" && return; [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3; }

both() {  # both DEVICE: SDXL then klein, eager then compiled; the table last
  local device=$1 out=${OUT:-/tmp/out} mode=${MODE:-default} python
  python=$(py); [ "$device" = cuda ] && python=python3
  mkdir -p "$out"; rm -f "$out"/all-*.json
  local sdxl=sdxl klein=klein compile=on extra=() t1=290 t2=230
  if [ "$device" = cpu ]; then  # the CPU check: tiny models, one repeat, graph capture only
    sdxl=tiny; klein=tiny-klein; extra=(--quality-steps 2); t1=300; t2=200
    "$python" benchmarks/bench_speed.py --config sdxl --dry || exit 5
    "$python" benchmarks/bench_speed.py --config klein --dry || exit 5
    train cpu || exit 5
  fi
  local reps=${REPEATS:-5}
  local kc=$compile sync=(--sync-check); [ "$device" = cpu ] && kc=trace && sync=()
  echo "== sdxl: eager, then +compile($([ "$kc" = trace ] && echo trace || echo "$mode")); $reps repeats after a warm-up"
  timeout "$t1" "$python" benchmarks/bench_speed.py --config "$sdxl" --device "$device" --pair \
    --compile "$kc" --compile-mode "$mode" --repeats "$reps" "${extra[@]}" "${sync[@]}" \
    --json "$out/all-sdxl.json" 2>&1 | tee "$out/all-sdxl.log"
  echo "== klein: eager, then +compile($([ "$kc" = trace ] && echo trace || echo "$mode")); $reps repeats after a warm-up"
  timeout "$t2" "$python" benchmarks/bench_speed.py --config "$klein" --device "$device" \
    --compile "$kc" --compile-mode "$mode" --repeats "$reps" \
    --json "$out/all-klein.json" 2>&1 | tee "$out/all-klein.log"
  echo
  [ "$device" = cuda ] && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$python" -c "import torch, diffusers, transformers; print('torch', torch.__version__, \
'| diffusers', diffusers.__version__, '| transformers', transformers.__version__)"
  "$python" benchmarks/bench_speed.py --table "$out/all-sdxl.json" "$out/all-klein.json"
}

train() {  # train DEVICE: a training step's floor, then the loop timed (tiny on a CPU)
  local device=$1 out=${OUT:-/tmp/out} python config=klein steps=30
  python=$(py); [ "$device" = cuda ] && python=python3
  [ "$device" = cpu ] && config=tiny-klein && steps=3
  mkdir -p "$out"
  echo "== train: klein LoRA step floor, then $steps steps of the training loop ($config, $device)"
  [ "$device" = cpu ] && { "$python" benchmarks/bench_speed.py --config klein --train --dry || return 1; }
  timeout 500 "$python" benchmarks/bench_speed.py --config "$config" --device "$device" --train \
    --train-steps "$steps" --json "$out/train.json" 2>&1 | tee "$out/train.log"
  return "${PIPESTATUS[0]}"
}

case "$stage" in
  all) install; python3 -c "from diffusers import Flux2KleinPipeline; \
from transformers import Qwen3ForCausalLM" || { echo "this image's transformers has no Qwen3: \
add transformers/tokenizers wheels to WHEELS"; exit 6; }; both cuda ;;
  dry) REPEATS=${REPEATS:-1} both cpu ;;
  train) install; train cuda ;;
  prepare) prepare ;;
  eager) install; bench eager --ladder --compile off --sync-check --repeats 5 ;;
  compile) install; bench compile --compile on --compile-mode default --sync-check --repeats 5 ;;
  compile-max) install; bench compile-max --compile on --compile-mode max-autotune-no-cudagraphs --repeats 5 ;;
  compile-static) install; bench compile-static --compile on --compile-mode default --static-shapes --repeats 5 ;;
  compile-ro) install; bench compile-ro --compile on --compile-mode reduce-overhead --repeats 5 ;;
  *) echo "usage: $0 prepare|all|dry|train|eager|compile|compile-static|compile-max|compile-ro"; exit 64 ;;
esac
