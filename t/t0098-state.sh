#!/bin/sh

test_description='the work-tree state: the stat and remote caches live apart from the store

.cairn/state is an LMDB environment of its own, holding the stat cache
and what each remote has; the store (.cairn/store) holds only objects and
their index. A store from before the split is moved over the first time
a command opens it for writing, old obj entries (fixed 24-byte layout)
still read, and nothing is read again that the caches already knew.'

. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-cairn.sh"

SHIM="$CAIRN_BUILD_DIR/t/shim/faultfs.so"
ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
export ASAN_OPTIONS

count () {
	old-layout --count .cairn | sed -n "s/^$1 $2 //p"
}

test_expect_success 'setup: data added and pushed' '
	git init -q repo && cd repo &&
	cairn init --chunk-size 4K:16K:64K &&
	mkdir -p data/sub &&
	for i in 1 2 3; do make_random data/f$i $((50000 * i)) $i; done &&
	for i in $(test_seq 1 40); do echo "line $i" >data/sub/s$i; done &&
	cairn add -q data && git add -A && git commit -qm v1 &&
	mkdir ../remote && cairn remote add -d origin ../remote && cairn push -q &&
	cp -r data ../orig
'

test_expect_success 'the caches are in .cairn/state, not in the store, and git ignores them' '
	cd repo &&
	test_path_is_file .cairn/state/data.mdb &&
	test "$(count state stat)" = 43 &&
	test "$(count state robj)" -gt 3 &&
	test "$(count state rpack)" -ge 1 &&
	test -z "$(count store stat)" && test -z "$(count store robj)" &&
	test -z "$(count store rpack)" &&
	test "$(count store obj)" -gt 43 &&
	git status --porcelain --ignored .cairn >st &&
	test_grep "^!! .cairn/state/" st &&
	! grep "^??" st
'

test_expect_success 'status, push and pull leave the store untouched' '
	cd repo &&
	before=$(cksum <.cairn/store/index/data.mdb) &&
	cairn status >out && test_grep "matches its pointer" out &&
	cairn push -q && cairn fetch -q &&
	test "$(cksum <.cairn/store/index/data.mdb)" = "$before"
'

test_expect_success 'a store from before the split: caches moved, nothing read again' '
	cd repo &&
	old-layout .cairn && rm -rf .cairn/state &&
	test "$(count store stat)" = 43 && test "$(count store robj)" -gt 3 &&
	robj=$(count store robj) &&
	# a repository of that time has no /state/ line in .cairn/.gitignore
	grep -v "^/state/" .cairn/.gitignore >gi && mv gi .cairn/.gitignore &&
	cairn add data >out &&
	test_grep "^0 files read, 0 new objects" out &&
	test "$(count state stat)" = 43 && test "$(count state robj)" = "$robj" &&
	test -z "$(count store stat)" && test -z "$(count store robj)" &&
	test -z "$(count store rpack)" &&
	git status --porcelain --ignored .cairn >st &&
	test_grep "^!! .cairn/state/" st &&
	! grep "^??" st &&
	cairn fsck -q &&
	rm -rf data && cairn checkout -q && diff -r data ../orig
'

test_expect_success 'old obj entries (24 bytes) and new ones (varints) read side by side' '
	cd repo &&
	old-layout .cairn &&
	echo more >data/new && cairn add -q data &&
	cairn fsck -q &&
	rm -rf data && cairn checkout -q && test "$(cat data/new)" = more &&
	rm data/new && diff -r data ../orig && cairn add -q data
'

test_expect_success 'the state gone: everything read once more, then known again' '
	cd repo &&
	rm -rf .cairn/state &&
	cairn add data >out &&
	test_grep "^4[0-9] files read, 0 new objects" out &&
	cairn add data >out &&
	test_grep "^0 files read" out &&
	cairn push -q && cairn fsck -q
'

test_expect_success 'a store from before the split on a read-only file system: status works' '
	cd repo &&
	old-layout .cairn && rm -rf .cairn/state &&
	root=$(pwd -P) &&
	FAULTFS_ROOT=$root FAULTFS_FAIL=open:all:EROFS LD_PRELOAD="$SHIM" cairn status >out &&
	test_grep "matches its pointer" out &&
	cairn status >out && test_grep "matches its pointer" out &&
	test "$(count state stat)" = 43 && test -z "$(count store stat)"
'

test_expect_success 'a state that is not an LMDB environment: a clear error, no crash' '
	cd repo &&
	mv .cairn/state ../state.good &&
	mkdir .cairn/state && echo garbage >.cairn/state/data.mdb &&
	echo "*" >.cairn/state/.gitignore &&
	expect_code 1 cairn status >out 2>err &&
	test_grep "^error: " err &&
	rm -rf .cairn/state && mv ../state.good .cairn/state &&
	cairn status >out && test_grep "matches its pointer" out
'

test_expect_success 'rebuild-index twice in a second, and with no index at all: nothing lost' '
	cd repo &&
	cairn fsck --rebuild-index >out1 && cairn fsck --rebuild-index >out2 &&
	test_grep "the old one is in .*index.damaged-" out2 &&
	test_grep "^started the work-tree state again" out2 &&
	test $(ls -d .cairn/store/index.damaged-* | wc -l) -ge 2 &&
	test $(ls -d .cairn/state.damaged-* | wc -l) -ge 2 &&
	rm -rf .cairn/store/index .cairn/state &&
	cairn fsck --rebuild-index >out &&
	test_grep "there was no old one" out &&
	! grep "^started the work-tree state again" out &&
	rm -rf data && cairn checkout -q && diff -r data ../orig
'

test_done
