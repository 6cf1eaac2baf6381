#!/bin/sh
# s3-vs-awscli.sh [DATA_DIR [WORK_DIR]] -- push and pull of gen-dataset's
# `model` and `images` to a local radosgw with cairn, against
# `aws s3 cp --recursive` of the same files, in the same run. Prints MB/s
# (MB = 10^6 bytes of the files) and requests (radosgw's log lines).
# DATA_DIR holds model/ and images/ (made with t/gen-dataset when missing;
# default /tmp/bench). Not part of the test suite: it only measures.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
top=$(cd "$here/.." && pwd)
data=${1:-/tmp/bench}
work=${2:-$(mktemp -d /tmp/cairn-s3-perf.XXXXXX)}
cairn=${CAIRN:-$top/cairn}
aws=$(command -v /usr/bin/aws || command -v aws)
sets=${SETS:-model images}

for s in $sets; do
	test -d "$data/$s" || python3 "$here/gen-dataset" --out "$data" --quiet "$s"
done
mkdir -p "$work"
S3_MEMSTORE_BYTES=${S3_MEMSTORE_BYTES:-7516192768} S3_BUCKETS="cairn awscli" \
	bash "$here/s3-start" "$work/s3" >"$work/s3.env"
. "$work/s3.env"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
trap 'bash "$here/s3-stop" "$work/s3" >/dev/null 2>&1' EXIT

reqs() { grep -c "beast: " "$S3_LOG" || :; }
now() { date +%s.%N; }
# label bytes seconds requests
row() {
	awk -v l="$1" -v b="$2" -v s="$3" -v r="$4" \
		'BEGIN { printf "%-28s %8.1f MB/s %8.2f s %8d requests\n", l, b / 1e6 / s, s, r }'
}
measure() { # label command...
	label=$1; shift
	r0=$(reqs); t0=$(now)
	"$@" >"$work/last.out" 2>&1 || { cat "$work/last.out"; exit 1; }
	t1=$(now); r1=$(reqs)
	row "$label" "$bytes" "$(echo "$t1 - $t0" | bc)" $((r1 - r0))
}

echo "cairn $("$cairn" version 2>/dev/null | head -1); $($aws --version 2>&1); $(nproc) cores"
for s in $sets; do
	bytes=$(du -sb --apparent-size "$data/$s" | cut -f1)
	files=$(find "$data/$s" -type f | wc -l)
	echo "== $s: $files files, $bytes bytes"
	repo="$work/repo-$s"
	rm -rf "$repo" "$work/clone-$s" "$work/aws-$s"
	git init -q "$repo"
	cp -r "$data/$s" "$repo/$s"
	(cd "$repo" && "$cairn" init >/dev/null && "$cairn" add -q "$s" &&
	 "$cairn" remote add -d origin "s3://cairn/$s" &&
	 "$cairn" config remote.origin.endpoint "$S3_ENDPOINT" &&
	 git add -A >/dev/null && git -c user.name=p -c user.email=p@p commit -qm "$s")
	measure "cairn push $s" sh -c "cd '$repo' && '$cairn' push -q"
	git clone -q "$repo" "$work/clone-$s"
	measure "cairn pull $s" sh -c "cd '$work/clone-$s' && '$cairn' pull -q"
	diff -r "$data/$s" "$work/clone-$s/$s" >/dev/null && echo "   (pulled tree identical)"
	# where pull's time goes: fetch (transfer and verification) vs checkout
	rm -rf "$work/clone-$s"
	git clone -q "$repo" "$work/clone-$s"
	measure "  of which cairn fetch" sh -c "cd '$work/clone-$s' && '$cairn' fetch -q"
	measure "  and cairn checkout" sh -c "cd '$work/clone-$s' && '$cairn' checkout -q"
	measure "aws s3 cp up $s" $aws --endpoint-url "$S3_ENDPOINT" s3 cp --recursive --only-show-errors \
		"$data/$s" "s3://awscli/$s"
	measure "aws s3 cp down $s" $aws --endpoint-url "$S3_ENDPOINT" s3 cp --recursive --only-show-errors \
		"s3://awscli/$s" "$work/aws-$s"
	rm -rf "$repo" "$work/clone-$s" "$work/aws-$s"
done
