#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time on its seed corpus (copied, so the
# checked-in corpus stays as it is). Fails when a target finds a crash, leak or UB.
set -euo pipefail
build_dir=$1
seconds=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in "$build_dir"/tests/fuzz/fuzz_*; do
  [ -x "$target" ] || continue
  name=$(basename "$target"); name=${name#fuzz_}
  mkdir -p "$work/$name"
  [ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$work/$name/"
  dict=()
  [ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
  echo "fuzz: $name for ${seconds}s"
  if ! "$target" "${dict[@]}" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
       -rss_limit_mb=2048 -artifact_prefix="$work/" -print_final_stats=0 "$work/$name" \
       >"$work/$name.log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -50 "$work/$name.log"
    mkdir -p "$build_dir/fuzz-artifacts" && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$build_dir/fuzz-artifacts/" 2>/dev/null || true
    status=1
  else
    grep -E "^(#[0-9]+|Done)" "$work/$name.log" | tail -1 || true
  fi
done
exit $status
