#!/usr/bin/env bash
# make docs: regenerate docs/ with tfplugindocs from the provider's schema,
# examples/ and templates/. tfplugindocs rewrites docs/index.md and
# docs/{resources,data-sources,functions,guides}/ whole, so each of those
# pages is written as a template (a guide: templates/guides/<name>.md.tmpl).
# The schema comes from `terraform providers schema -json` through
# dev_overrides on the freshly built provider, so nothing is downloaded.
# `scripts/docs.sh --check` also runs `tfplugindocs validate` (the
# Registry's layout and front matter) and fails when docs/ or a module's
# README tables (tools/moduledocs) are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# OpenTofu 1.8 reports provider functions in its schema; Terraform 1.5.7
# (the other CLI make tools builds) predates them.
tf=${TERRAFORM:-$root/.tools/bin/tofu}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -o "$work/bin/terraform-provider-failover" .
cat > "$work/cli.tfrc" <<CFG
provider_installation {
  dev_overrides {
    "hatopo/failover" = "$work/bin"
  }
  direct {}
}
CFG
mkdir -p "$work/cfg"
cat > "$work/cfg/main.tf" <<'TF'
terraform {
  required_providers {
    failover = { source = "hatopo/failover" }
  }
}
TF
(cd "$work/cfg" && TF_CLI_CONFIG_FILE="$work/cli.tfrc" "$tf" providers schema -json 2>/dev/null) |
  sed 's#"registry.opentofu.org/hatopo/failover"#"failover"#' > "$work/schema.json"
grep -q '"failover":{"provider"' "$work/schema.json" || { echo "docs: no provider schema from $tf" >&2; exit 1; }

"$root/.tools/bin/tfplugindocs" generate --provider-name failover --rendered-provider-name failover \
  --providers-schema "$work/schema.json" >/dev/null

# The modules' README tables (inputs, outputs), generated from their .tf
# files; --check only reports a stale one.
modules=("$root"/modules/*)
if [ "${1:-}" = "--check" ]; then
  (cd "$root/tools" && go run ./moduledocs -check "${modules[@]}")
else
  (cd "$root/tools" && go run ./moduledocs "${modules[@]}")
fi

if [ "${1:-}" = "--check" ]; then
  # The registry's layout and front matter, as the Registry reads them
  # (docs/benchmarks.md is outside the published paths and left alone).
  "$root/.tools/bin/tfplugindocs" validate --provider-name failover --providers-schema "$work/schema.json"
  if [ -n "$(git status --porcelain -- docs)" ]; then
    echo "docs/ is stale: run 'make docs' and commit the result" >&2
    git status --porcelain -- docs >&2
    exit 1
  fi
  echo "docs: up to date"
fi
