#!/bin/sh
# archive-bench.sh [IMAGES_DIR]: import and export against the tools a
# user would use otherwise.
#
#   import:  cairn import images.tar data/images
#   versus:  tar -xf images.tar -C data/images && cairn add data/images
#   export:  cairn export data/images -o out.tar   versus  tar -cf of the tree
#
# IMAGES_DIR defaults to /tmp/bench/images, else gen-dataset's `images`
# (--scale ${SCALE:-1}) is generated in the work directory. Each timing is
# the best of ${RUNS:-2} runs, each in a fresh repository. Needs GNU tar.
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
CAIRN=${CAIRN:-$here/../cairn}
RUNS=${RUNS:-2}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-archive-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
IMAGES=${1:-/tmp/bench/images}
if ! test -d "$IMAGES"; then
	python3 "$here/gen-dataset" --scale "${SCALE:-1}" -o "$WORK/gen" images >/dev/null
	IMAGES=$WORK/gen/images
fi

now () { date +%s.%N; }
secs () { echo "$2 - $1" | bc -l; }
best () { printf "%s\n" "$@" | sort -n | head -1; }
mbs () { echo "scale=1; $1 / 1048576 / $2" | bc -l; }

fresh_repo () {
	rm -rf "$WORK/repo" && mkdir "$WORK/repo" && cd "$WORK/repo" &&
	git init -q && "$CAIRN" init >/dev/null && mkdir data
}

tar -C "$IMAGES" -cf "$WORK/images.tar" .
bytes=$(du -sb --apparent-size "$IMAGES" | cut -f1)
tarbytes=$(wc -c <"$WORK/images.tar")
files=$(find "$IMAGES" -type f | wc -l)
echo "images: $files files, $bytes bytes; tar $tarbytes bytes; $(nproc) cpus; load $(cut -d' ' -f1-3 /proc/loadavg)"

imp= ; tx= ; add= ; pair=
for i in $(seq "$RUNS"); do
	fresh_repo
	t0=$(now); "$CAIRN" import -q "$WORK/images.tar" data/images; t1=$(now)
	imp="$imp $(secs "$t0" "$t1")"
	fresh_repo
	t0=$(now); mkdir data/images && tar -C data/images -xf "$WORK/images.tar"; t1=$(now)
	"$CAIRN" add -q data/images; t2=$(now)
	tx="$tx $(secs "$t0" "$t1")"; add="$add $(secs "$t1" "$t2")"; pair="$pair $(secs "$t0" "$t2")"
done
imp=$(best $imp); tx=$(best $tx); add=$(best $add); pair=$(best $pair)
echo "import:        cairn import      $imp s  ($(mbs "$tarbytes" "$imp") MB/s of tar)"
echo "               tar -x            $tx s"
echo "               cairn add         $add s"
echo "               tar -x + add      $pair s  (import is $(echo "scale=2; $pair / $imp" | bc -l)x the pair's speed)"

# export from the last repository (which has the data both stored and checked out)
cd "$WORK/repo"
ex= ; tc=
for i in $(seq "$RUNS"); do
	t0=$(now); "$CAIRN" export -q data/images -o "$WORK/out.tar"; t1=$(now)
	tar -C data/images -cf "$WORK/out2.tar" .; t2=$(now)
	ex="$ex $(secs "$t0" "$t1")"; tc="$tc $(secs "$t1" "$t2")"
done
ex=$(best $ex); tc=$(best $tc)
echo "export (.tar): cairn export      $ex s  ($(mbs "$bytes" "$ex") MB/s)"
echo "               tar -c            $tc s  ($(mbs "$bytes" "$tc") MB/s)"
"$CAIRN" export -q data/images -o "$WORK/out3.tar"
cmp "$WORK/out.tar" "$WORK/out3.tar" && echo "two exports identical: yes"
