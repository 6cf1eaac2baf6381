#!/bin/sh
# demo.sh: a short tour of cairn on generated data, in a throwaway directory.
# Run by `make demo` after the build. Needs git and python3 (the dataset
# generator in t/gen-dataset).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cairn="$top/cairn"
work=${CAIRN_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo.XXXXXX")}
gen="python3 $top/t/gen-dataset"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "a git repository with cairn beside it ($work)"
mkdir -p "$work/repo" && cd "$work/repo"
git init -q . && git config user.name demo && git config user.email demo@example.invalid
run "$cairn" init

say "generate sample data: a small model and a table, with v2 edits"
$gen --out "$work/gen" --scale 0.02 >/dev/null
mkdir -p data models
cp -r "$work/gen/tabular" data/tabular
cp -r "$work/gen/model" models/llm

say "version 1: cairn add, then commit the pointer files"
run "$cairn" add data/tabular models/llm
run cat models/llm.cairn
git add -A && git commit -qm "data v1" && git tag v1
echo "(committed; git sees only the small pointer files)"

say "version 2: fine-tuned weights and edited rows; only new chunks are stored"
rm -rf data/tabular models/llm
cp -r "$work/gen/tabular-v2" data/tabular
cp -r "$work/gen/model-v2" models/llm
run "$cairn" status
run "$cairn" add data/tabular models/llm
git add -A && git commit -qm "data v2"
run "$cairn" stats

say "restore version 1 exactly"
run git checkout -q v1 -- data/tabular.cairn models/llm.cairn
run "$cairn" checkout
run cmp -s models/llm/model-00001-of-00003.safetensors "$work/gen/model/model-00001-of-00003.safetensors"
diff -r data/tabular "$work/gen/tabular" && echo "data/tabular and models/llm are byte-identical to v1"
run "$cairn" status

say "done: the demo lives in $work (remove it when you are done)"
