#!/bin/sh

test_description='cairn cat: one file of any version, through the public library

Files of old and new versions, tracked files and files inside tracked
directories, symlinks, reads at random offsets from several threads
through the C library (t/helper/lib-read), a pointer file given for its path, from a
subdirectory; and every error: not tracked, missing in the version, a
directory, an unknown revision, a path outside the work tree, data not
in the store, a chunk that fails verification, a pointer whose SHA-256
does not match the bytes (the whole-file check).'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

if ! test_have_prereq PYTHON3
then
	skip_all='python3 (>= 3.9) not found'
	test_done
fi

test_expect_success 'setup: two versions of a directory and a file' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 4K:16K:64K >/dev/null &&
	mkdir -p data/sub &&
	make_random data/sub/big 700000 1 && echo one >data/a.txt && ln -s a.txt data/link &&
	: >data/empty && make_random model.bin 300000 2 &&
	cairn add -q data model.bin && git add -A && git commit -qm v1 &&
	git tag v1 &&
	mkdir ../v1 && cp data/sub/big data/a.txt model.bin ../v1/ &&
	make_random data/sub/big 710000 3 && echo two >data/a.txt && make_random model.bin 300000 4 &&
	cairn add -q data model.bin && git add -A && git commit -qm v2
'

test_expect_success 'the version of the work tree pointers, and of an older revision' '
	cd repo &&
	cairn cat data/sub/big >out && cmp out data/sub/big &&
	cairn cat --rev v1 data/sub/big >out && cmp out ../v1/big &&
	cairn cat --rev=HEAD~1 data/a.txt >out && cmp out ../v1/a.txt &&
	cairn cat --rev v1 model.bin >out && cmp out ../v1/model.bin &&
	cairn cat model.bin >out && cmp out model.bin
'

test_expect_success 'a pointer file for its path, a symlink, an empty file, from a subdirectory' '
	cd repo &&
	cairn cat model.bin.cairn >out && cmp out model.bin &&
	printf a.txt >expect && cairn cat data/link >out && cmp expect out &&
	cairn cat data/empty >out && test_must_be_empty out &&
	(cd data/sub && cairn cat big >../../out) && cmp out data/sub/big &&
	(cd data && cairn cat --rev v1 -- a.txt >../out) && cmp out ../v1/a.txt
'

test_expect_success 'the C library: four threads at random offsets, then in order, old and new' '
	cd repo &&
	"$CAIRN_BUILD_DIR/t/helper/lib-read" . v1 data/sub/big ../v1/big 4 >out &&
	test_grep "^ok 1201 reads" out &&
	"$CAIRN_BUILD_DIR/t/helper/lib-read" data/sub - model.bin model.bin 2 >out &&
	test_grep "^ok 601 reads" out &&
	"$CAIRN_BUILD_DIR/t/helper/lib-read" . - data/empty data/empty 2 >out &&
	test_grep "^ok" out
'

test_expect_success 'libcairn.so.0 exports only the names of cairn.h; a program links to it' '
	lib="$CAIRN_BUILD_DIR/libcairn.so.0" &&
	nm -D --defined-only "$lib" | awk "{ print \$3 }" | grep -v "^cairn_" >other &&
	echo CAIRN_0.1 >expect && test_cmp expect other &&
	grep -o "cairn_[a-z_]*(" "$CAIRN_BUILD_DIR/include/cairn.h" | tr -d "(" | sort -u >api &&
	nm -D --defined-only "$lib" | awk "{ print \$3 }" | sed "s/@.*//" | grep "^cairn_" | sort -u >exported &&
	test_cmp api exported &&
	san= && { ! ldd "$lib" | grep -q libasan || san=-fsanitize=address,undefined; } &&
	${CC:-cc} $san -I"$CAIRN_BUILD_DIR" -o lib-read-so "$CAIRN_BUILD_DIR/t/helper/lib-read.c" \
		-L"$CAIRN_BUILD_DIR" -lcairn -Wl,-rpath,"$CAIRN_BUILD_DIR" -lpthread &&
	cd repo && ../lib-read-so . v1 model.bin ../v1/model.bin 2 >out &&
	test_grep "^ok 601 reads" out
'

test_expect_success 'the C library lists directories of any version, tracked or not' '
	cd repo &&
	LS="$CAIRN_BUILD_DIR/t/helper/lib-ls" &&
	"$LS" . - "" | cut -d" " -f1,5 >out &&
	printf "dir data\nfile model.bin\n" >expect && test_cmp expect out &&
	"$LS" . v1 data | cut -d" " -f1,3,5 >out &&
	printf "file 4 a.txt\nfile 0 empty\nlink 5 link\ndir 700000 sub\n" >expect &&
	test_cmp expect out &&
	"$LS" . v1 data/sub | cut -d" " -f1,3,5 >out &&
	echo "file 700000 big" >expect && test_cmp expect out &&
	"$LS" . - data/sub | cut -d" " -f3,4 >out &&
	cairn ls data | grep " sub/big\$" | awk "{ print \$2, \$3 }" >expect && test_cmp expect out &&
	"$LS" data - model.bin.cairn | cut -d" " -f1,3,5 >out &&
	echo "file 300000 model.bin" >expect && test_cmp expect out &&
	mkdir -p models/deep && make_random models/deep/w.bin 1000 5 && make_random models/top.bin 10 6 &&
	cairn add -q models/deep/w.bin models/top.bin &&
	"$LS" . - models | cut -d" " -f1,3,4,5 >out &&
	printf "dir 0 - deep\nfile 10 %s top.bin\n" "$(ptr_val models/top.bin.cairn id)" >expect &&
	test_cmp expect out &&
	expect_code 1 "$LS" . - nope >out && test_grep "does not exist or holds nothing cairn tracks" out &&
	expect_code 1 "$LS" . v1 models >out && test_grep "holds nothing cairn tracks" out &&
	expect_code 1 "$LS" . nosuch "" >out && test_grep "unknown revision" out &&
	expect_code 1 "$LS" . - data/zzz >out && test_grep "does not exist" out &&
	rm -rf models
'

test_expect_success 'the work tree is neither read nor changed' '
	cd repo &&
	rm -rf data && cairn cat data/a.txt >out && echo two >expect && test_cmp expect out &&
	test_path_is_missing data &&
	cairn checkout -q data
'

test_expect_success 'errors: each with its message and exit status 1' '
	cd repo &&
	expect_code 1 cairn cat nope 2>err && test_grep "error: .nope. is not tracked by cairn" err &&
	expect_code 1 cairn cat data/zzz 2>err && test_grep "error: .data/zzz. does not exist" err &&
	expect_code 1 cairn cat data/a.txt/x 2>err && test_grep "is not a directory" err &&
	expect_code 1 cairn cat data/sub 2>err && test_grep "error: .data/sub. is a directory" err &&
	expect_code 1 cairn cat data 2>err && test_grep "is a directory" err &&
	expect_code 1 cairn cat --rev nosuch data/a.txt 2>err && test_grep "unknown revision .nosuch." err &&
	expect_code 1 cairn cat --rev v1 brand-new 2>err && test_grep "not tracked by cairn at v1" err &&
	expect_code 1 cairn cat ../outside 2>err && test_grep "outside the repository" err &&
	expect_code 129 cairn cat 2>err && test_grep "give the path" err &&
	expect_code 129 cairn cat a b 2>err &&
	expect_code 129 cairn cat --bogus x 2>err
'

test_expect_success 'data not in the store: the fix in the message' '
	git clone -q repo empty && cd empty &&
	expect_code 1 cairn cat model.bin 2>err &&
	test_grep "not in the local store (run .cairn fetch.)" err
'

test_expect_success 'a chunk that fails verification: an error, never the bad bytes as good' '
	cp -r repo bad && cd bad &&
	pack=$(chunk_pack .cairn/store/packs) &&
	size=$(size_of .cairn/store/packs/$pack.pack) &&
	flip_byte .cairn/store/packs/$pack.pack $((size / 2)) &&
	failed=0 &&
	for v in "HEAD data/sub/big data/sub/big" "HEAD model.bin model.bin" \
		"v1 data/sub/big ../v1/big" "v1 model.bin ../v1/model.bin"
	do
		set -- $v &&
		if cairn cat --rev $1 $2 >out 2>err
		then
			cmp out $3 || return 1
		else
			test_grep "^error: .*corrupt" err && failed=$((failed + 1)) || return 1
		fi
	done &&
	test $failed -ge 1
'

test_expect_success 'a pointer whose SHA-256 does not match: the last read fails' '
	cd repo &&
	cp model.bin.cairn ../saved.cairn &&
	sha=$(ptr_val model.bin.cairn sha256) &&
	sed "s/^sha256: .*/sha256: $(echo $sha | tr 0-9a-f 1-9a-f0)/" ../saved.cairn >model.bin.cairn &&
	expect_code 1 cairn cat model.bin >out 2>err &&
	test_grep "do not match its SHA-256" err &&
	cp ../saved.cairn model.bin.cairn
'

test_expect_success 'setup: every version on a directory remote' '
	cd repo &&
	cairn remote add -d origin "$TRASH_DIRECTORY/remote" &&
	git add .cairn/config && git commit -qm remote &&
	cairn push -q --all-commits
'

test_expect_success 'lazily from the remote: an old version in a fresh clone, kept in its store' '
	git clone -q repo lazy && cd lazy &&
	cairn cat --rev v1 data/sub/big >out && cmp out ../v1/big &&
	cairn cat --rev v1 model.bin >out && cmp out ../v1/model.bin &&
	cairn fsck >fsck.out && test_grep "no problems" fsck.out &&
	test_grep "^incomplete: " fsck.out &&
	mv "$TRASH_DIRECTORY/remote" "$TRASH_DIRECTORY/remote.away" &&
	cairn cat --rev v1 data/sub/big >out && cmp out ../v1/big &&
	mv "$TRASH_DIRECTORY/remote.away" "$TRASH_DIRECTORY/remote"
'

test_expect_success 'lazily, from threads at random offsets' '
	git clone -q repo lazy2 && cd lazy2 &&
	"$CAIRN_BUILD_DIR/t/helper/lib-read" . - data/sub/big ../repo/data/sub/big 4 >out &&
	test_grep "^ok 1201 reads" out
'

test_expect_success 'one read from the middle of a big file fetches about the read-ahead, not the file' '
	cd repo &&
	make_random big.bin 30000000 9 && cairn add -q big.bin &&
	git add -A && git commit -qm big && cairn push -q &&
	cd .. && git clone -q repo lazy3 && cd lazy3 &&
	"$CAIRN_BUILD_DIR/t/helper/lib-read" . - big.bin ../repo/big.bin 0 >out &&
	test_grep "^ok 1 reads" out &&
	du -sk .cairn/store/packs | cut -f1 >kb &&
	test $(cat kb) -lt 12000 &&
	test $(cat kb) -gt 1000
'

test_expect_success 'a remote that sends wrong bytes: an error, never the bytes' '
	rm -rf remote.bad && cp -r remote remote.bad && chmod -R u+w remote.bad &&
	git clone -q repo lazy4 && cd lazy4 &&
	cairn remote add -d bad "$TRASH_DIRECTORY/remote.bad" &&
	for p in "$TRASH_DIRECTORY"/remote.bad/packs/*.pack
	do
		size=$(size_of "$p") && flip_byte "$p" $((size / 2)) || return 1
	done &&
	failed=0 &&
	for f in data/sub/big model.bin
	do
		if cairn cat $f >out 2>err
		then
			cmp out ../repo/$f || return 1
		else
			test_grep "^error: " err && failed=$((failed + 1)) || return 1
		fi
	done &&
	test $failed -ge 1 &&
	cairn fsck -q
'

test_expect_success 'no remote to read from: the local store message' '
	git clone -q repo lazy5 && cd lazy5 &&
	cairn config core.remote nosuch &&
	expect_code 1 cairn cat model.bin 2>err &&
	test_grep "no remote named .nosuch." err
'

test_expect_success 'cat -h and help cat show the usage' '
	cd repo && { cairn cat -h >out 2>&1; test_grep "cairn cat \[--rev REV\] PATH" out &&
	cairn help cat >out && test_grep "cairn-cat - write one file of any version" out; }
'

test_done
