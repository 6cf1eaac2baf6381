#!/bin/sh

test_description='bit rot: one flipped bit at a random place of a pack, a pack index or the LMDB index

Each round restores a good store, flips one bit at a random offset of a
random file among the packs, their .idx files and the two LMDB data.mdb
(the store index, the work-tree state), and then:
fsck and checkout never crash (a damaged LMDB index is reported as such,
exit 3); checkout never writes a wrong byte (a file is right or absent);
when checkout cannot restore everything, fsck reports a problem too; and
fsck --rebuild-index, fsck --repair (from a remote) bring every byte back.
CAIRN_TEST_BITROT sets the number of rounds (make stress: 1000).'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

ROUNDS=${CAIRN_TEST_BITROT:-40}

test_expect_success 'setup: a dataset, pushed to a remote; a copy of the good store' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 4K:16K:64K &&
	mkdir -p data/sub &&
	for i in 1 2 3 4; do make_random data/f$i $((60000 * i)) $i; done &&
	for i in $(test_seq 1 30); do echo "line $i" >data/sub/s$i; done &&
	cairn add -q data && git add -A && git commit -qm v1 &&
	mkdir ../remote && cairn remote add -d origin ../remote && cairn push -q &&
	cp -r data ../orig && cp -a .cairn/store ../good-store && cp -a .cairn/state ../good-state
'

# flip FILE SEED: flips one bit at a random offset; prints the offset
flip () {
	python3 -c "
import random, sys
p, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
b = bytearray(open(p, \"rb\").read())
o = r.randrange(len(b))
b[o] ^= 1 << r.randrange(8)
open(p, \"wb\").write(b)
print(o)
" "$1" "$2"
}

test_expect_success "bit rot, $ROUNDS rounds: no crash, no wrong byte, everything recovered" '
	cd repo &&
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d " ") &&
	seed=${CAIRN_TEST_BITROT_SEED:-$seed} &&
	echo "bit rot: seed $seed (CAIRN_TEST_BITROT_SEED=$seed replays it)" | tee -a "$TRASH_DIRECTORY/figures" &&
	detected=0 harmless=0 rebuilt=0 repaired=0 &&
	for i in $(test_seq 1 $ROUNDS)
	do
		rm -rf .cairn/store .cairn/state && cp -a ../good-store .cairn/store && cp -a ../good-state .cairn/state &&
		ls .cairn/store/packs/*.pack .cairn/store/packs/*.idx .cairn/store/index/data.mdb \
		   .cairn/state/data.mdb >files &&
		n=$(wc -l <files) &&
		pick=$(( (seed + i * 7919) % n + 1 )) &&
		target=$(sed -n ${pick}p files) &&
		off=$(flip $target $((seed + i))) &&
		{ cairn fsck -q >/dev/null 2>fsck.err; f=$?; } &&
		rm -rf data &&
		{ cairn checkout -q >/dev/null 2>co.err; c=$?; } &&
		if test $f -gt 3 || test $c -gt 3
		then
			echo "round $i: $target at $off: fsck $f, checkout $c" && cat fsck.err co.err && return 1
		fi &&
		for x in $(cd ../orig && find . -type f)
		do
			test ! -e data/$x || cmp -s data/$x ../orig/$x || {
				echo "round $i: $target at $off: a wrong byte in $x" && return 1
			}
		done &&
		if test $c != 0 && test $f = 0
		then
			echo "round $i: $target at $off: checkout failed, fsck saw nothing" && cat co.err && return 1
		fi &&
		if test $f = 0 && test $c = 0
		then
			diff -r data ../orig >/dev/null || { echo "round $i: incomplete checkout"; return 1; }
			harmless=$((harmless + 1))
		else
			detected=$((detected + 1)) &&
			# the way back: rebuild a damaged index, then fetch damaged objects again
			if test $f = 3 || test $c = 3 || case $target in *data.mdb) true;; *) false;; esac
			then
				cairn fsck -q --rebuild-index >/dev/null 2>&1 || :
				rebuilt=$((rebuilt + 1))
			fi &&
			{ cairn fsck -q >/dev/null 2>&1 || { cairn fsck -q --repair >/dev/null 2>&1 &&
				repaired=$((repaired + 1)); }; } &&
			cairn fsck -q && rm -rf data && cairn checkout -q && diff -r data ../orig ||
			{ echo "round $i: $target at $off: not recovered"; return 1; }
		fi
	done &&
	echo "bit rot: $ROUNDS flips, $detected detected, $harmless harmless, $rebuilt index rebuilds, $repaired repairs, 0 wrong bytes" >>"$TRASH_DIRECTORY/figures"
'

# Checkout and status read the stat cache (in .cairn/state), fsck did not: a damaged page
# there failed checkout while fsck said nothing (a seed of the test above
# found it). A key out of order is damage that does not fault.
test_expect_success 'a key out of order in the stat cache, which only checkout reads: fsck finds it' '
	cd repo &&
	rm -rf .cairn/store .cairn/state && cp -a ../good-store .cairn/store && cp -a ../good-state .cairn/state &&
	python3 -c "
p = \".cairn/state/data.mdb\"
b = open(p, \"rb\").read()
n = b.count(b\"\\x0c\\x00data/sub/s15\")
assert n >= 1, n
open(p, \"wb\").write(b.replace(b\"\\x0c\\x00data/sub/s15\", b\"\\x0c\\x00data/sub/s9z\"))
" &&
	expect_code 3 cairn fsck -q >out 2>err &&
	test_grep "^error: the work-tree state (.cairn/state) is damaged: database .stat., entry [0-9]*: keys out of order" err &&
	test_grep "^hint: .cairn fsck --rebuild-index." err &&
	cairn fsck --rebuild-index >out &&
	test_grep "^started the work-tree state again" out &&
	ls -d .cairn/state.damaged-* &&
	cairn fsck -q &&
	rm -rf data && cairn checkout -q && diff -r data ../orig
'

# LMDB's free list is read by no lookup, only by the next commit: a page
# number flipped far out of range there made checkout fail with "File too
# large" (a commit writing past any sane file size) while fsck said
# nothing (seed 366111802 of the test above found it). freelist_flip
# FILE BIT flips a bit of the first free page number of the newest
# snapshot's free list (BIT dup: writes the first number over the second);
# prints that number.
freelist_flip () {
	python3 -c "
import struct, sys
p, bit = sys.argv[1], sys.argv[2]
b = bytearray(open(p, \"rb\").read())
ps = 4096
# the meta pages: header 16, magic 4, version 4, address 8, mapsize 8, then
# the free database record (48 bytes, its root at +40) and the main one,
# last page 8, txnid 8
metas = [(struct.unpack_from(\"<Q\", b, m * ps + 16 + 24 + 96 + 8)[0], m) for m in (0, 1)]
root = struct.unpack_from(\"<Q\", b, max(metas)[1] * ps + 16 + 24 + 40)[0]
assert root != 2**64 - 1, \"empty free list\"
pg = root * ps
flags, lower = struct.unpack_from(\"<HH\", b, pg + 10)
assert flags & 2, \"free list root is not a leaf\"
node = pg + struct.unpack_from(\"<H\", b, pg + 16)[0]
ksize = struct.unpack_from(\"<H\", b, node + 6)[0]
idl = node + 8 + ksize
cnt, first = struct.unpack_from(\"<QQ\", b, idl)
if bit == \"dup\":
	assert cnt >= 2, cnt
	struct.pack_into(\"<Q\", b, idl + 16, first)
else:
	assert cnt >= 1
	struct.pack_into(\"<Q\", b, idl + 8, first ^ (1 << int(bit)))
open(p, \"wb\").write(b)
print(first)
" "$1" "$2"
}

# freelist_case FILE HOW ENV-LABEL WHY REBUILT: damages FILE's free list
# (freelist_flip FILE HOW); fsck must say why, rebuild-index must say
# REBUILT, and everything comes back
freelist_case () {
	rm -rf .cairn/store .cairn/state && cp -a ../good-store .cairn/store && cp -a ../good-state .cairn/state &&
	cairn fsck -q &&
	freelist_flip "$1" "$2" >/dev/null &&
	expect_code 3 cairn fsck -q >out 2>err &&
	test_grep "^error: $3 is damaged: free list, entry 1: $4" err &&
	cairn fsck --rebuild-index >out &&
	test_grep "^$5" out &&
	cairn fsck -q &&
	rm -rf data && cairn checkout -q && diff -r data ../orig
}

test_expect_success 'a free page number out of range in the store index: fsck finds it' '
	cd repo &&
	freelist_case .cairn/store/index/data.mdb 47 "the index (.cairn/store/index)" \
		"a free page outside the file" "rebuilt the index from"
'

test_expect_success 'a free page listed twice in the state: fsck finds it' '
	cd repo &&
	freelist_case .cairn/state/data.mdb dup "the work-tree state (.cairn/state)" \
		"a free list out of order" "started the work-tree state again"
'

test_expect_success 'a damaged LMDB index: fsck --rebuild-index, from the packs alone' '
	cd repo &&
	rm -rf .cairn/store .cairn/state && cp -a ../good-store .cairn/store && cp -a ../good-state .cairn/state &&
	dd if=/dev/urandom of=.cairn/store/index/data.mdb bs=4096 seek=1 count=4 conv=notrunc 2>/dev/null &&
	cairn fsck --rebuild-index >out &&
	test_grep "^rebuilt the index from [1-9][0-9]* packs" out &&
	test_grep "no problems" out &&
	ls -d .cairn/store/index.damaged-* &&
	rm -rf data && cairn checkout -q && diff -r data ../orig
'

test_expect_success 'rebuild-index with a pack index gone: the pack is read whole' '
	cd repo &&
	rm -rf .cairn/store .cairn/state && cp -a ../good-store .cairn/store && cp -a ../good-state .cairn/state &&
	idx=$(ls .cairn/store/packs/*.idx | head -n 1) &&
	rm "$idx" &&
	cairn fsck --rebuild-index >out &&
	test_grep "1 packs read whole, 0 left out" out &&
	test_path_is_file "$idx" &&
	rm -rf data && cairn checkout -q && diff -r data ../orig
'

test_expect_success 'rebuild-index with a damaged pack: left out, named, repaired from the remote' '
	cd repo &&
	rm -rf .cairn/store .cairn/state && cp -a ../good-store .cairn/store && cp -a ../good-state .cairn/state &&
	pack=$(ls -S .cairn/store/packs/*.pack | head -n 1) &&
	rm "${pack%.pack}.idx" &&
	flip "$pack" 7 >/dev/null &&
	expect_code 1 cairn fsck --rebuild-index >out 2>err &&
	test_grep "1 left out" out &&
	test_grep "^warning: pack .* does not match its name; left out of the index" err &&
	test_must_fail cairn fsck -q &&
	cairn fsck -q --repair &&
	rm -rf data && cairn checkout -q && diff -r data ../orig
'

# A writer takes the store lock only when its batch begins: one that had
# opened the store before fsck --rebuild-index moved the index aside must
# not index its packs in the moved-aside copy (its pointer would then name
# objects the store lacks). The shim stops cairn add just before it opens
# gc.lock; the rebuild runs in that moment.
test_expect_success 'a writer that opened the store before --rebuild-index stores nothing' '
	git init -q rb && cd rb &&
	cairn init --chunk-size 4K:16K:64K &&
	mkdir d && make_random d/a 50000 1 &&
	cairn add -q d && git add -A && git commit -qm v1 &&
	make_random d/b 40000 2 &&
	cp d.cairn ../rb.ptr &&
	{ FAULTFS_STOP=gc.lock LD_PRELOAD="$CAIRN_BUILD_DIR/t/shim/faultfs.so" \
		ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" \
		cairn add -q d >add.out 2>add.err & } &&
	pid=$! &&
	n=0 &&
	until grep -q "^[0-9]* (.*) T " /proc/$pid/stat
	do
		n=$((n + 1)) &&
		test $n -lt 600 && sleep 0.05 || { kill -9 $pid; return 1; }
	done &&
	cairn fsck --rebuild-index >out &&
	kill -CONT $pid &&
	{ wait $pid; st=$?; } &&
	test $st != 0 &&
	test_grep "index was rebuilt by another cairn process" add.err &&
	test_cmp ../rb.ptr d.cairn &&
	cairn fsck -q &&
	cairn add -q d && cairn fsck -q &&
	rm -rf d/b && cairn checkout -q -f && test_path_is_file d/b
'

test_expect_success 'rebuild-index: bad usage' '
	cd repo &&
	expect_code 129 cairn fsck --rebuild-index -r origin 2>err &&
	test_grep "local store" err
'

test_done
