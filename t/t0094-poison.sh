#!/bin/sh

test_description='poisoned remotes: objects planted under another id

A remote is not trusted, and XXH3 ids are not a cryptographic check. A pack planted on it in which one chunk carries
the bytes of another (a valid pack, with a valid name and index: only the
per-object id check can tell) must be refused by pull and fetch, naming
the chunk; no wrong byte reaches the work tree or the local store, a
canary beside the work tree is untouched, and fsck -r --read-data finds
it. Pulling from a clean remote afterwards completes. And a file whose
chunks verify against their ids but whose whole SHA-256 does not (what an
XXH3 collision would give; planted with t/helper/plant-tree) is refused
at checkout.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

test_expect_success 'setup: two files of one chunk each, pushed' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 64K:256K:1M &&
	mkdir data && make_random data/a 50000 1 && make_random data/b 60000 2 &&
	cairn add -q data && git add -A && git commit -qm v1 &&
	mkdir ../remote && cairn remote add -d origin ../remote && cairn push -q &&
	git add -A && git commit -qm remote &&
	cp -r data ../orig && cp -a ../remote ../clean-remote &&
	echo "do not touch" >../canary && cp ../canary ../canary.orig
'

test_expect_success 'a chunk planted under another chunk id: pull refuses it, writes nothing wrong' '
	pack=$(chunk_pack remote/packs) &&
	idx_entries remote/packs/$pack.idx | grep " 1 [0-9]* [0-9]*\$" | cut -d" " -f1 >ids &&
	test_line_count = 2 ids &&
	a=$(sed -n 1p ids) && b=$(sed -n 2p ids) &&
	new=$(pack-swap remote/packs $pack $a $b) &&
	test_path_is_file remote/packs/$new.pack &&
	git clone -q repo clone && (
		cd clone &&
		test_must_fail cairn pull -q 2>err &&
		test_grep "$a" err &&
		for f in a b
		do
			test ! -e data/$f || cmp data/$f ../orig/$f || return 1
		done &&
		cairn fsck -q &&
		test_must_fail cairn fsck -q -r origin --read-data >out &&
		test_grep "$a" out
	) &&
	test_cmp canary.orig canary
'

test_expect_success 'the same with -j 4 and with fetch' '
	(
		cd clone &&
		rm -rf .cairn/store data &&
		test_must_fail cairn fetch -q -j 4 2>err &&
		test_grep "$(sed -n 1p ../ids)" err &&
		cairn fsck -q
	)
'

test_expect_success 'with a clean remote, pull completes, byte for byte' '
	rm -rf remote && cp -a clean-remote remote &&
	(
		cd clone &&
		cairn pull -q -f && diff -r data ../orig && cairn fsck -q
	)
'


test_expect_success 'a file whose chunks verify but whose SHA-256 does not: checkout refuses it' '
	(
		cd repo &&
		plant-tree data.cairn b &&
		rm -rf data &&
		test_must_fail cairn checkout -q 2>err &&
		test_grep "data/b" err &&
		test_grep -i "sha-\{0,1\}256" err &&
		test_path_is_missing data/b &&
		cmp data/a ../orig/a &&
		test_must_fail cairn fsck -q >out &&
		test_grep "data/b" out &&
		git checkout -q data.cairn && cairn checkout -q -f && diff -r data ../orig
	) &&
	test_cmp canary.orig canary
'

test_done
