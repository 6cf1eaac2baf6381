#!/bin/sh

test_description='trees stored as deltas of their earlier version

cairn add stores the new tree of a changed directory as a zstd delta
against the tree it had in the version replaced (codec 4): every
version still restores exactly, chains stop at 16, gc rewrites a delta
whole when its base goes, push sends trees whole (no remote holds a
delta) and a damaged base is found by fsck and repaired from a remote.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

# trees DIR: "codec stored_len depth base" for every tree in the packs
# under DIR (depth and base only for a delta)
trees () {
	python3 -c '
import glob, struct, sys
for idx in sorted(glob.glob(sys.argv[1] + "/*.idx")):
    d = open(idx, "rb").read()
    pack = open(idx[:-4] + ".pack", "rb").read()
    n = struct.unpack_from("<I", d, 12)[0]
    for i in range(n):
        e = d[48 + 36 * i:48 + 36 * (i + 1)]
        if e[16] != 3:
            continue
        codec, slen = e[17], struct.unpack_from("<I", e, 24)[0]
        off = struct.unpack_from("<Q", e, 28)[0] + 28
        if codec == 4:
            print(codec, slen, pack[off], pack[off + 1:off + 17].hex())
        else:
            print(codec, slen)
' "$1"
}

# deltas DIR: how many trees under DIR are deltas
deltas () {
	trees "$1" | grep -c "^4 " || :
}

PACKS=.cairn/store/packs

test_expect_success 'setup: 3 directories of 150 files, a deep one; v1' '
	git init -q repo && cd repo &&
	printf "%s\n" trees out err ents mangled bases have "same-tree.*" >.gitignore &&
	cairn init &&
	mkdir -p data/a data/b data/c data/deep/x/y &&
	for d in a b c
	do
		for i in $(test_seq 1 150); do echo "$d $i" >data/$d/file_$i.txt; done
	done &&
	echo deep >data/deep/x/y/z.txt &&
	save_version 1 &&
	git symbolic-ref --short HEAD >../branch &&
	test "$(deltas $PACKS)" = 0
'

test_expect_success 'a changed file: its directories are stored as deltas, much smaller' '
	cd repo &&
	echo changed >data/a/file_7.txt &&
	echo deeper >data/deep/x/y/z.txt &&
	save_version 2 &&
	trees $PACKS >trees &&
	# data and data/a; the one-entry trees of data/deep change whole
	# (their one entry is 48 bytes of new hashes), a delta would not pay
	test "$(grep -c "^4 " trees)" = 2 &&
	whole=$(grep -v "^4 " trees | sort -k2 -n | tail -n 1 | cut -d" " -f2) &&
	big=$(grep "^4 " trees | sort -k2 -n | tail -n 1 | cut -d" " -f2) &&
	echo "largest whole tree $whole bytes, largest delta $big" &&
	test $((big * 10)) -lt "$whole" &&
	grep "^4 " trees | while read c s depth base; do test "$depth" = 1 || return 1; done &&
	cairn fsck -q
'

test_expect_success 'every version restores exactly; diff reads both sides' '
	cd repo &&
	cairn diff --stat "$(cat ../saved/1.commit)" >out &&
	test_grep "2 modified" out &&
	for v in 1 2
	do
		git checkout -q "$(cat ../saved/$v.commit)" && rm -rf data &&
		cairn checkout -q && same_tree ../saved/$v data || return 1
	done &&
	git checkout -q "$(cat ../branch)"
'

test_expect_success 'a chain of 20 versions stops at depth 16, and each restores' '
	cd repo &&
	for v in $(test_seq 3 22)
	do
		echo "version $v" >data/b/file_1.txt && save_version $v || return 1
	done &&
	trees $PACKS | sort -k3 -n >trees &&
	test "$(tail -n 1 trees | cut -d" " -f3)" = 16 &&
	for v in 1 5 12 19 20 22
	do
		git checkout -q "$(cat ../saved/$v.commit)" && rm -rf data &&
		cairn checkout -q && same_tree ../saved/$v data || return 1
	done &&
	git checkout -q "$(cat ../branch)" &&
	cairn fsck -q
'

test_expect_success 'push sends trees whole: the remote holds no delta; a clone restores every version' '
	cd repo &&
	mkdir ../remote && cairn remote add -d origin ../remote &&
	cairn push -q --all-commits &&
	test "$(deltas ../remote/packs)" = 0 &&
	test "$(trees ../remote/packs | wc -l)" -gt 20 &&
	git clone -q . ../clone && cd ../clone &&
	cairn remote add -d origin ../remote &&
	for v in 2 17 22
	do
		git checkout -q "$(cat ../saved/$v.commit)" && rm -rf data &&
		cairn pull -q && same_tree ../saved/$v data || return 1
	done &&
	test "$(deltas $PACKS)" = 0
'

test_expect_success 'a damaged base: fsck names it, repair from the remote brings it back' '
	cd repo &&
	cp -a .cairn ../dot-cairn.good &&
	# a base: the first delta of data/a, version 2, names version 1 of it
	base=$(trees $PACKS | grep "^4 " | sort -k3 -n | head -n 1 | cut -d" " -f4) &&
	test -n "$base" &&
	found= &&
	for idx in $PACKS/*.idx
	do
		line=$(idx_entries $idx | grep "^$base 3 ") && found=$idx && break
	done &&
	test -n "$found" &&
	off=$(echo "$line" | cut -d" " -f3) &&
	flip_byte "${found%.idx}.pack" $((off + 28 + 8)) &&
	expect_code 1 cairn fsck -q >out 2>err &&
	test_grep "delta whose base $base cannot be read" out &&
	cairn fsck -q --repair >out 2>err &&
	cairn fsck -q &&
	rm -rf data && cairn checkout -q && same_tree ../saved/22 data &&
	rm -rf .cairn && cp -a ../dot-cairn.good .cairn
'

test_expect_success 'gc of old versions: deltas whose base goes are stored whole; all left restores' '
	cd repo &&
	git checkout -q --orphan only && git commit -qm "only the newest" &&
	git branch -D "$(cat ../branch)" &&
	git reflog expire --expire=now --all && git gc -q --prune=now &&
	before=$(deltas $PACKS) &&
	cairn gc >out &&
	cat out &&
	after=$(deltas $PACKS) &&
	echo "deltas before gc $before, after $after" &&
	test "$after" -lt "$before" &&
	# every delta left has its base in the store
	trees $PACKS | grep "^4 " | cut -d" " -f4 | sort -u >bases &&
	for idx in $PACKS/*.idx; do idx_entries $idx; done | grep " 3 [0-9]* [0-9]*$" |
		cut -d" " -f1 | sort -u >have &&
	test -z "$(comm -23 bases have)" &&
	cairn fsck -q &&
	rm -rf data && cairn checkout -q && same_tree ../saved/22 data
'

test_expect_success 'a delta claiming a chain deeper than 16 is refused as malformed' '
	cd repo &&
	echo "changed again" >data/c/file_3.txt && cairn add -q data &&
	git add -A && git commit -qm more &&
	test "$(deltas $PACKS)" -ge 1 &&
	cp -a .cairn ../dot-cairn.good2 &&
	python3 -c "
import glob, struct
for idx in glob.glob(\".cairn/store/packs/*.idx\"):
    d = open(idx, \"rb\").read()
    for i in range(struct.unpack_from(\"<I\", d, 12)[0]):
        e = d[48 + 36 * i:48 + 36 * (i + 1)]
        if e[16] == 3 and e[17] == 4:
            p = idx[:-4] + \".pack\"
            b = bytearray(open(p, \"rb\").read())
            b[struct.unpack_from(\"<Q\", e, 28)[0] + 28] = 17
            open(p, \"wb\").write(b)
            raise SystemExit(0)
raise SystemExit(\"no delta\")
" &&
	expect_code 1 cairn fsck -q >out 2>err &&
	test_grep "a malformed delta" out &&
	rm -rf .cairn && cp -a ../dot-cairn.good2 .cairn &&
	cairn fsck -q
'

test_done
