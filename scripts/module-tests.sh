#!/usr/bin/env bash
# make module-test: the native tests of every module (modules/*/tests/*.tftest.hcl).
#
# They run with OpenTofu (`tofu test`; Terraform 1.5.7, the other CLI
# `make tools` provides, predates `terraform test` with .tftest.hcl files,
# which arrived in 1.6). The provider is the real one from bin/ (`make
# build`), installed through dev_overrides in a temporary CLI config, so
# nothing is downloaded. Every run is `command = plan`: the provider computes
# site_loss, majority, config_json and worst_case_failover_seconds at plan
# time without failoverd, and nothing is applied. FAILOVER_ENDPOINT points at
# a closed port, so a test can never touch a real failoverd.
#
# Usage: scripts/module-tests.sh [module ...]   (default: every module)
# Environment: TOFU (default .tools/bin/tofu), PROVIDER_DIR (default bin/),
# MODULE_TEST_JOBS (parallel modules, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tofu=${TOFU:-$root/.tools/bin/tofu}
provider_dir=${PROVIDER_DIR:-$root/bin}
jobs=${MODULE_TEST_JOBS:-2}

if [ ! -x "$tofu" ]; then
  echo "module-test: no OpenTofu at $tofu: run 'make tools' (OpenTofu >= 1.6 runs .tftest.hcl files; Terraform 1.5.7 cannot)" >&2
  exit 1
fi
if [ ! -x "$provider_dir/terraform-provider-failover" ]; then
  echo "module-test: no provider at $provider_dir/terraform-provider-failover: run 'make build'" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "hatopo/failover" = "$provider_dir"
  }
  direct {}
}
CFG

export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
export FAILOVER_ENDPOINT=http://127.0.0.1:9 FAILOVER_TOKEN=module-test
unset TF_LOG TF_CLI_ARGS TF_CLI_ARGS_test TF_CLI_ARGS_init 2>/dev/null || true

if [ $# -gt 0 ]; then
  modules=("$@")
else
  modules=()
  for d in modules/*/; do
    [ -d "$d/tests" ] && modules+=("$(basename "$d")")
  done
fi

# run_module NAME: install the local child modules (`get`: `init` would try to
# resolve the dev_overrides provider in a registry) and test one module, with
# its own data dir so nothing is left in the source tree but the log.
run_module() {
  local name=$1 dir="modules/$1" data="$work/data-$1" log="$work/$1.log"
  {
    echo "== modules/$name"
    (cd "$dir" && TF_DATA_DIR="$data" "$tofu" get -no-color >/dev/null &&
      TF_DATA_DIR="$data" "$tofu" test -no-color)
  } >"$log" 2>&1
}
export -f run_module
export tofu work

start=$SECONDS
printf '%s\n' "${modules[@]}" | xargs -P "$jobs" -I{} bash -c 'run_module "$1" && echo ok >"$work/$1.rc" || echo fail >"$work/$1.rc"' _ {}

# A passing module prints its runs; a failing one its whole log (diagnostics
# included). Plan warnings of passing runs, such as failoverd's topology
# advice, are left out.
failed=()
for m in "${modules[@]}"; do
  if [ "$(cat "$work/$m.rc" 2>/dev/null)" = ok ]; then
    grep -E '^(== |tests/|  run |Success|Failure)' "$work/$m.log"
  else
    cat "$work/$m.log"
    failed+=("$m")
  fi
done
echo "module-test: ${#modules[@]} module(s) in $((SECONDS - start))s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "module-test: FAILED: ${failed[*]}" >&2
  exit 1
fi
